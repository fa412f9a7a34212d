#!/usr/bin/env python3
"""Test accuracy of the reference models trained by PyTorch and by loom, same settings.

PyTorch: the reference MLP (SGD momentum 0.9, lr 0.05, batch 64, 3 epochs) and
CNN (Adam lr 1e-3, batch 64, 2 epochs), and the residual graph model of
examples/models/resnet_fmnist.json (Adam lr 1e-3, batch 64, 2 epochs; in PyTorch
the hand-written twin that tests/integration/torch_reference.py checks parity
against), on Fashion-MNIST, inputs scaled to [0, 1], shuffled every epoch,
PyTorch's default initialisation. loom: `loom train --model mlp|cnn|FILE` with
its defaults (the same settings). Prints both accuracies for each seed and the
difference.

usage: bench/accuracy_pytorch.py [--loom build/cli/loom] [--seeds 1 2] [--models mlp cnn resnet]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from compare_pytorch import DATA, load_idx  # noqa: E402
from torch_reference import build  # noqa: E402  (the models the parity test checks)

EPOCHS = {"mlp": 3, "cnn": 2, "resnet": 2}
LOOM_MODEL = {"mlp": "mlp", "cnn": "cnn", "resnet": os.path.join(ROOT, "examples", "models", "resnet_fmnist.json")}


def torch_accuracy(kind, seed, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    x = torch.from_numpy(load_idx(f"{DATA}/train-images-idx3-ubyte.gz").astype("float32") / 255.0).unsqueeze(1)
    y = torch.from_numpy(load_idx(f"{DATA}/train-labels-idx1-ubyte.gz").astype("int64"))
    tx = torch.from_numpy(load_idx(f"{DATA}/t10k-images-idx3-ubyte.gz").astype("float32") / 255.0).unsqueeze(1)
    ty = torch.from_numpy(load_idx(f"{DATA}/t10k-labels-idx1-ubyte.gz").astype("int64"))
    model = build(kind)
    if kind == "mlp":
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(EPOCHS[kind]):
        model.train()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return sum(int((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum()) for i in range(0, len(tx), 1000)) / len(tx)


def loom_accuracy(loom, kind, seed, threads):
    with tempfile.TemporaryDirectory() as d:
        m = os.path.join(d, "m.json")
        subprocess.run([loom, "train", "--model", LOOM_MODEL[kind], "--seed", str(seed), "--threads", str(threads),
                        "--metrics", m, "--quiet"], check=True, stdout=subprocess.DEVNULL)
        with open(m) as f:
            return json.load(f)["test_accuracy"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loom", default=os.path.join(os.path.dirname(__file__), "..", "build", "cli", "loom"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--models", nargs="+", default=["mlp", "cnn"])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    print(f"{'model':6} {'seed':>4} {'epochs':>6} {'pytorch':>8} {'loom':>8} {'loom-pytorch':>13}")
    for kind in args.models:
        for seed in args.seeds:
            t = torch_accuracy(kind, seed, args.threads)
            l = loom_accuracy(args.loom, kind, seed, args.threads)
            print(f"{kind:6} {seed:>4} {EPOCHS[kind]:>6} {100 * t:>7.2f}% {100 * l:>7.2f}% {100 * (l - t):>+12.2f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
