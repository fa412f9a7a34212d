#!/usr/bin/env python3
"""Accuracy of the residual graph model after N epochs: loom against PyTorch.

Trains examples/models/resnet_fmnist.json with `loom train` and the same model
written in PyTorch (tests/integration/torch_reference.py's ResNet, the one the
parity test checks against) with the same settings: Adam lr 1e-3, batch 64,
shuffled every epoch, no augmentation, inputs byte / 255. Prints each one's test
accuracy and training samples/s. The two use different random initial weights
and batch orders, so single runs differ by their seeds' spread; --seeds N runs
each N times.

usage: bench/compare_resnet.py [--loom build/cli/loom] [--epochs 2] [--threads 2] [--seeds 1]
Run with Debian's python3 (/usr/bin/python3), which has python3-torch.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = "/usr/share/datasets/fashion-mnist"
MODEL = os.path.join(ROOT, "examples", "models", "resnet_fmnist.json")


def load_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def torch_run(epochs, threads, seed):
    import numpy as np
    import torch
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    from torch_reference import ResNet
    torch.set_num_threads(threads)
    torch.manual_seed(seed)

    def split(name):
        x = load_idx(f"{DATA}/{name}-images-idx3-ubyte.gz")
        y = load_idx(f"{DATA}/{name}-labels-idx1-ubyte.gz")
        return torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1), torch.from_numpy(y.astype(np.int64))

    x, y = split("train")
    tx, ty = split("t10k")
    model = ResNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum()) for i in range(0, len(tx), 1000))
    return correct / len(tx), epochs * len(x) / seconds


def loom_run(loom, epochs, threads, seed):
    with tempfile.TemporaryDirectory() as d:
        m = os.path.join(d, "m.json")
        subprocess.run([loom, "train", "--model", MODEL, "--epochs", str(epochs), "--threads", str(threads), "--seed",
                        str(seed), "--quiet", "--metrics", m], check=True, stdout=subprocess.DEVNULL)
        with open(m) as f:
            j = json.load(f)
    return j["test_accuracy"], j["train_samples_per_s"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loom", default=os.path.join(ROOT, "build", "cli", "loom"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=1)
    args = ap.parse_args()
    print(f"resnet_fmnist, {args.epochs} epochs, {args.threads} threads, Adam lr 1e-3, batch 64")
    print(f"{'seed':>4} {'loom acc':>9} {'torch acc':>9} {'loom samples/s':>15} {'torch samples/s':>16}")
    for seed in range(1, args.seeds + 1):
        la, ls = loom_run(args.loom, args.epochs, args.threads, seed)
        ta, ts = torch_run(args.epochs, args.threads, seed)
        print(f"{seed:>4} {100 * la:>8.2f}% {100 * ta:>8.2f}% {ls:>15.0f} {ts:>16.0f}   speed ratio {ls / ts:.2f}x")


if __name__ == "__main__":
    main()
