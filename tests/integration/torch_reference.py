#!/usr/bin/env python3
"""Writes PyTorch reference values for tests/integration/torch_parity_test.cpp.

For the reference MLP and CNN (ARCHITECTURE.md) and the residual model of
examples/models/resnet_fmnist.json (written here by hand, with the same
attribute names, so the JSON graph is checked against an independent model) at a
fixed seed it records the initial state (weights and batch-norm buffers), an input batch and labels, the cross-entropy loss, every
parameter gradient, and the weights after three steps of the model's reference
optimizer (SGD momentum 0.9 lr 0.05 for the MLP; Adam lr 1e-3 for the CNN and
the ResNet), with the batch-norm running statistics after them.
The file is safetensors, written here by hand so no extra package is needed.

usage: torch_reference.py mlp|cnn|resnet OUT.safetensors
"""
import copy
import json
import struct
import sys

import torch
from torch import nn


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        dtype = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}[t.dtype]
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


class ResNet(nn.Module):
    """examples/models/resnet_fmnist.json: stem, two residual blocks, classifier."""

    def __init__(self):
        super().__init__()
        conv = lambda i, o, k=3: nn.Conv2d(i, o, k, padding=k // 2, bias=False)
        self.stem_conv, self.stem_bn = conv(1, 16), nn.BatchNorm2d(16)
        self.block1_conv1, self.block1_bn1 = conv(16, 16), nn.BatchNorm2d(16)
        self.block1_conv2, self.block1_bn2 = conv(16, 16), nn.BatchNorm2d(16)
        self.block2_conv1, self.block2_bn1 = conv(16, 32), nn.BatchNorm2d(32)
        self.block2_conv2, self.block2_bn2 = conv(32, 32), nn.BatchNorm2d(32)
        self.block2_proj, self.block2_proj_bn = conv(16, 32, 1), nn.BatchNorm2d(32)
        self.fc = nn.Linear(1568, 10)

    def forward(self, x):
        relu, pool = torch.relu, lambda t: nn.functional.max_pool2d(t, 2)
        s = relu(self.stem_bn(self.stem_conv(x)))
        b = self.block1_bn2(self.block1_conv2(relu(self.block1_bn1(self.block1_conv1(s)))))
        p1 = pool(relu(b + s))
        b = self.block2_bn2(self.block2_conv2(relu(self.block2_bn1(self.block2_conv1(p1)))))
        p2 = pool(relu(b + self.block2_proj_bn(self.block2_proj(p1))))
        return self.fc(torch.flatten(p2, 1))


def build(kind):
    if kind == "resnet":
        return ResNet()
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
    for name, t in model.state_dict().items():
        tensors["init." + name] = t.detach().clone()
    # The same model in float64: the exact gradients that f32 results (PyTorch's and
    # loom's) are both rounded versions of.
    model64 = copy.deepcopy(model).double()
    nn.functional.cross_entropy(model64(x.double()), y).backward()
    for name, p in model64.named_parameters():
        tensors["grad64." + name] = p.grad.clone()
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
    for name, t in model.state_dict().items():
        tensors["after3." + name] = t.detach().clone()
    write_safetensors(out, tensors)


if __name__ == "__main__":
    main()
