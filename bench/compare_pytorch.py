#!/usr/bin/env python3
"""Training throughput of loom against PyTorch, side by side in one run.

Trains the reference MLP and CNN (ARCHITECTURE.md) for one epoch-sized slice of
Fashion-MNIST in PyTorch (CPU, data already in memory, same batch, same thread
count) and with `loom train`, and prints samples/s for each and the ratio.

usage: bench/compare_pytorch.py [--loom build/cli/loom] [--threads 1 2] [--samples 20000] [--repeat 2]
Run with Debian's python3 (/usr/bin/python3), which has python3-torch.
"""
import argparse
import gzip
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"


def load_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def build(kind):
    if kind == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                              nn.Linear(128, 10))
        return model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def torch_samples_per_s(kind, x, y, threads, batch=64):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model, opt = build(kind)
    loss_fn = nn.CrossEntropyLoss()
    perm = torch.randperm(len(x))
    start = time.perf_counter()
    for i in range(0, len(x), batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    return len(x) / (time.perf_counter() - start)


def loom_samples_per_s(loom, kind, samples, threads):
    with tempfile.TemporaryDirectory() as d:
        metrics = os.path.join(d, "m.json")
        subprocess.run([loom, "train", "--model", kind, "--epochs", "1", "--train-samples", str(samples),
                        "--test-samples", "1000", "--threads", str(threads), "--metrics", metrics, "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        with open(metrics) as f:
            return json.load(f)["train_samples_per_s"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loom", default=os.path.join(os.path.dirname(__file__), "..", "build", "cli", "loom"))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--samples", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--models", nargs="+", default=["mlp", "cnn"])
    args = ap.parse_args()

    images = load_idx(f"{DATA}/train-images-idx3-ubyte.gz")[:args.samples]
    labels = load_idx(f"{DATA}/train-labels-idx1-ubyte.gz")[:args.samples]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus; torch {torch.__version__}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(f"{'model':5} {'threads':>7} {'pytorch samples/s':>18} {'loom samples/s':>15} {'loom/pytorch':>13}")
    for kind in args.models:
        for threads in args.threads:
            best_t, best_l = 0.0, 0.0
            for _ in range(args.repeat):  # back to back, best of each
                best_t = max(best_t, torch_samples_per_s(kind, x, y, threads))
                best_l = max(best_l, loom_samples_per_s(args.loom, kind, args.samples, threads))
            print(f"{kind:5} {threads:>7} {best_t:>18.0f} {best_l:>15.0f} {best_l / best_t:>13.2f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
