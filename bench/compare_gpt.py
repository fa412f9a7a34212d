#!/usr/bin/env python3
"""loom's built-in gpt against the same model in PyTorch, side by side.

Trains 10 warm-up steps then 300 timed steps of the reference recipe (AdamW lr 1e-3,
betas (0.9, 0.95), weight decay 0.1 on weight matrices, clipping at norm 1, batch
32 random windows of 64 bytes of the fortunes corpus), at 1 and 2 threads, in
rounds that interleave the frameworks, each run in its own process. Reports
tokens/s over the timed steps (loom: over all 310, which counts its warm-up
against it), the validation loss after the run (disjoint windows of the last
10%), peak RSS, and for torch.compile its compile time apart.

PyTorch columns: every interpreter given with --python (default: Debian's
python3 and, when it exists, the virtual environment that
bench/setup_torch2_venv.sh makes, .venv-torch2), eager, plus torch.compile where it exists.

usage: bench/compare_gpt.py [--loom build/cli/loom] [--rounds 3] [--threads 1 2]
                            [--python /usr/bin/python3 ...] [--no-compile]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(HERE, "..", ".venv-torch2", "bin", "python")
CORPUS = "/usr/share/games/fortunes"

TORCH_RUN = r'''
import json, os, resource, sys, time
import torch
from torch import nn
sys.path.insert(0, os.path.join(%(here)r, "..", "tests", "integration"))
from torch_reference import Gpt

threads, steps, warmup, mode = %(threads)d, %(steps)d, %(warmup)d, %(mode)r
torch.set_num_threads(threads)
torch.manual_seed(1)
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(%(corpus)r) for f in fs
               if not f.endswith(".dat") and not os.path.islink(os.path.join(d, f)))
data = b"".join(open(f, "rb").read() for f in files)
n_val = int(len(data) * 0.1)
train = torch.tensor(list(data[: len(data) - n_val]), dtype=torch.long)
val = torch.tensor(list(data[len(data) - n_val :]), dtype=torch.long)
model = Gpt()
for name, p in model.named_parameters():  # the built-in's initialisation
    if p.dim() >= 2:
        nn.init.normal_(p, 0.0, 0.02)
    elif name.endswith("bias"):
        nn.init.zeros_(p)
decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "emb" not in n]
no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or "emb" in n]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                        lr=1e-3, betas=(0.9, 0.95))
ctx, batch = 64, 32
gen = torch.Generator().manual_seed(1)
def loss_fn(m, x, y):
    out = m(x)
    return nn.functional.cross_entropy(out.reshape(-1, 256), y.reshape(-1))
step_model = model
compile_s = 0.0
if mode == "compile":
    step_model = torch.compile(model)
def step():
    starts = torch.randint(0, len(train) - ctx - 1, (batch,), generator=gen)
    x = torch.stack([train[s : s + ctx] for s in starts])
    y = torch.stack([train[s + 1 : s + ctx + 1] for s in starts])
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(step_model, x, y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()
t0 = time.perf_counter()
step()
compile_s = time.perf_counter() - t0
for _ in range(warmup - 1):
    step()
t0 = time.perf_counter()
for _ in range(steps):
    step()
seconds = time.perf_counter() - t0
model.eval()
with torch.no_grad():
    windows = (len(val) - 1) // ctx
    total = 0.0
    for b in range(0, windows, 64):
        idx = range(b, min(windows, b + 64))
        x = torch.stack([val[i * ctx : i * ctx + ctx] for i in idx])
        y = torch.stack([val[i * ctx + 1 : i * ctx + ctx + 1] for i in idx])
        total += loss_fn(model, x, y).item() * len(idx)
print(json.dumps({"tokens_per_s": steps * batch * ctx / seconds, "val_loss": total / windows,
                  "compile_s": compile_s if mode == "compile" else 0.0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "torch": torch.__version__}))
'''


def run_loom(loom, threads, steps):
    with tempfile.TemporaryDirectory() as d:
        metrics = os.path.join(d, "m.json")
        t = "/usr/bin/time"
        cmd = [loom, "train", "--model", "gpt", "--steps", str(steps), "--threads", str(threads), "--quiet",
               "--metrics", metrics]
        r = subprocess.run([t, "-f", "%M"] + cmd, capture_output=True, text=True)
        if r.returncode != 0:
            return {"error": r.stderr.strip()[-300:]}
        m = json.load(open(metrics))
        return {"tokens_per_s": m["tokens_per_s"], "val_loss": m["val_loss"],
                "peak_rss_mb": int(r.stderr.strip().splitlines()[-1]) / 1024}


def run_torch(python, threads, steps, warmup, mode):
    code = TORCH_RUN % {"here": HERE, "threads": threads, "steps": steps, "warmup": warmup, "mode": mode,
                        "corpus": CORPUS}
    r = subprocess.run([python, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"}
    return json.loads(r.stdout.strip().splitlines()[-1])  # its peak RSS is its own ru_maxrss


def two_cores():
    return len(os.sched_getaffinity(0)) >= 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loom", default=os.path.join(HERE, "..", "build", "cli", "loom"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--python", nargs="*", default=None)
    ap.add_argument("--no-compile", action="store_true")
    a = ap.parse_args()
    pythons = a.python if a.python is not None else ["/usr/bin/python3"] + ([VENV] if os.path.exists(VENV) else [])
    best = {}
    for rnd in range(a.rounds):
        if not two_cores():
            print("round", rnd + 1, "skipped: fewer than 2 cores available", file=sys.stderr)
            continue
        for t in a.threads:
            runs = [("loom", lambda: run_loom(a.loom, t, a.steps + a.warmup))]
            for py in pythons:
                runs.append((f"{py} eager", lambda py=py: run_torch(py, t, a.steps, a.warmup, "eager")))
                if not a.no_compile:
                    runs.append((f"{py} compile", lambda py=py: run_torch(py, t, a.steps, a.warmup, "compile")))
            for name, fn in runs:
                r = fn()
                print(f"round {rnd + 1} threads {t} {name}: {json.dumps(r)}", flush=True)
                if "error" in r:
                    continue
                key = (name, t)
                if key not in best or r["tokens_per_s"] > best[key]["tokens_per_s"]:
                    best[key] = r
    print("\nbest of rounds (tokens/s, validation loss, peak RSS MB):")
    for (name, t), r in sorted(best.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        extra = f", compile {r['compile_s']:.1f} s" if r.get("compile_s") else ""
        ratio = best[("loom", t)]["tokens_per_s"] / r["tokens_per_s"] if ("loom", t) in best else float("nan")
        print(f"  {t} thread(s) {name:50s} {r['tokens_per_s']:9.0f}  {r['val_loss']:.4f}  "
              f"{r['peak_rss_mb']:7.1f}{extra}   loom/this {ratio:.2f}")


if __name__ == "__main__":
    main()
