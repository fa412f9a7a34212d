#!/usr/bin/env python3
"""Writes PyTorch reference values for tests/integration/torch_parity_test.cpp.

For the reference MLP and CNN (ARCHITECTURE.md) at a fixed seed it records the
initial weights, an input batch and labels, the cross-entropy loss, every
parameter gradient, and the weights after three steps of the model's reference
optimizer (SGD momentum 0.9 lr 0.05 for the MLP; Adam lr 1e-3 for the CNN).
The file is safetensors, written here by hand so no extra package is needed.

usage: torch_reference.py mlp|cnn OUT.safetensors
"""
import json
import struct
import sys

import torch
from torch import nn


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def build(kind):
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                             nn.Linear(128, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def main():
    kind, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    model = build(kind)
    x = torch.rand(16, 1, 28, 28)
    y = torch.randint(0, 10, (16,))
    tensors = {"input": x, "target": y}
    for name, p in model.named_parameters():
        tensors["init." + name] = p.detach().clone()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    tensors["loss"] = loss.detach().reshape(1)
    for name, p in model.named_parameters():
        tensors["grad." + name] = p.grad.clone()  # zero_grad() later zeroes p.grad in place
    if kind == "mlp":
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    opt.zero_grad()
    for _ in range(3):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    for name, p in model.named_parameters():
        tensors["after3." + name] = p.detach().clone()
    write_safetensors(out, tensors)


if __name__ == "__main__":
    main()
