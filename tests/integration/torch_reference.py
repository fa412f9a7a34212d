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

For the built-in gpt (a PyTorch model with the same names, its attention through
scaled_dot_product_attention where PyTorch has it) the batch is 8 windows of 64
random bytes and their next bytes, and the optimizer AdamW (0.9, 0.95), weight
decay 0.1 on the weight matrices only, gradients clipped to norm 1.

usage: torch_reference.py mlp|cnn|resnet|gpt OUT.safetensors
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


def attention(q, k, v):
    """Causal attention: PyTorch's fused scaled_dot_product_attention where this
    PyTorch has it (2.0 and later), else the formula it computes."""
    sdpa = getattr(nn.functional, "scaled_dot_product_attention", None)
    if sdpa is not None:
        return sdpa(q, k, v, is_causal=True)
    t = q.shape[-2]
    scores = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
    mask = torch.ones(t, t, dtype=torch.bool).tril()
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), -1) @ v


class SelfAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        return self.proj(attention(q, k, v).transpose(1, 2).reshape(b, t, c))


class Gpt(nn.Module):
    """The built-in gpt (ARCHITECTURE.md), with the JSON description's names."""

    def __init__(self, layers=4, width=128, heads=4, context=64, vocab=256):
        super().__init__()
        self.layers = layers
        self.tok_emb = nn.Embedding(vocab, width)
        self.pos_emb = nn.Module()
        self.pos_emb.weight = nn.Parameter(torch.randn(context, width) * 0.02)
        for i in range(layers):
            setattr(self, f"b{i}_ln1", nn.LayerNorm(width))
            setattr(self, f"b{i}_attn", SelfAttention(width, heads))
            setattr(self, f"b{i}_ln2", nn.LayerNorm(width))
            setattr(self, f"b{i}_fc", nn.Linear(width, 4 * width))
            setattr(self, f"b{i}_proj", nn.Linear(4 * width, width))
        self.ln_f = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab, bias=False)

    def forward(self, tokens):
        x = self.tok_emb(tokens) + self.pos_emb.weight[: tokens.shape[1]]
        for i in range(self.layers):
            block = lambda name: getattr(self, f"b{i}_{name}")
            x = x + block("attn")(block("ln1")(x))
            x = x + block("proj")(nn.functional.gelu(block("fc")(block("ln2")(x))))
        return self.head(self.ln_f(x))


def loss_of(kind, model, x, y):
    out = model(x)
    if kind == "gpt":  # next-token cross-entropy over every position
        return nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return nn.functional.cross_entropy(out, y)


def build(kind):
    if kind == "gpt":
        return Gpt()
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
    if kind == "gpt":
        text = torch.randint(0, 256, (8, 65))
        x, y = text[:, :-1].contiguous(), text[:, 1:].contiguous()
    else:
        x = torch.rand(16, 1, 28, 28)
        y = torch.randint(0, 10, (16,))
    tensors = {"input": x, "target": y}
    for name, t in model.state_dict().items():
        tensors["init." + name] = t.detach().clone()
    # The same model in float64: the exact gradients that f32 results (PyTorch's and
    # loom's) are both rounded versions of.
    model64 = copy.deepcopy(model).double()
    loss_of(kind, model64, x if kind == "gpt" else x.double(), y).backward()
    for name, p in model64.named_parameters():
        tensors["grad64." + name] = p.grad.clone()
    loss = loss_of(kind, model, x, y)
    loss.backward()
    tensors["loss"] = loss.detach().reshape(1)
    for name, p in model.named_parameters():
        tensors["grad." + name] = p.grad.clone()  # zero_grad() later zeroes p.grad in place
    if kind == "mlp":
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    elif kind == "gpt":  # AdamW over the decay / no-decay groups, clipped as loom's built-in recipe
        decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "emb" not in n]
        no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or "emb" in n]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=1e-3, betas=(0.9, 0.95))
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    opt.zero_grad()
    for _ in range(3):
        opt.zero_grad()
        loss_of(kind, model, x, y).backward()
        if kind == "gpt":
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    for name, t in model.state_dict().items():
        tensors["after3." + name] = t.detach().clone()
    write_safetensors(out, tensors)


if __name__ == "__main__":
    main()
