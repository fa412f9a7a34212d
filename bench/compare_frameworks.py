#!/usr/bin/env python3
"""The reference MLP and CNN in loom against what users run today, in one run.

Per model and thread count, in rounds that interleave the frameworks (each in its
own process, data in memory): training samples/s (batch 64, the reference
optimizers, one pass over the first --samples Fashion-MNIST images) and inference
samples/s at batch 256, for
  - loom (`loom train` / `loom eval`, as bench/compare_pytorch.py runs them),
  - PyTorch 2.x eager and torch.compile (compile time apart: the first step's),
  - ONNX Runtime on the model exported from PyTorch (default CPU provider, the
    same threads; inference only),
  - OpenVINO's CPU plugin on the same exported model (compiled for batch 256),
  - Debian's PyTorch eager as a second column.
A round is kept only when both cores are there (bench/compare_pytorch.py's check);
each cell is the best of the kept rounds, and the inference spread (worst / best)
is printed beside it, since a second thread must pay every time.

PyTorch 2.x, ONNX Runtime and OpenVINO come from .venv-torch2 (bench/setup_torch2_venv.sh).

usage: python3 bench/compare_frameworks.py [--loom build/cli/loom] [--rounds 5] [--threads 1 2]
                                           [--models mlp cnn] [--samples 12800]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_pytorch as cp  # noqa: E402  (loom_run, core_check, load_idx, run_measured)

VENV = os.path.join(HERE, "..", ".venv-torch2", "bin", "python")
DEBIAN = "/usr/bin/python3"


def build(kind):
    import torch
    from torch import nn
    torch.manual_seed(1)
    if kind == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                              nn.Linear(128, 10))
        return model, torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    return model, torch.optim.Adam(model.parameters(), lr=1e-3)


def ort_session(path, threads):
    """ONNX Runtime's default CPU provider on `threads` intra-op threads."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return (lambda batch: sess.run(None, {"x": batch})[0]), ort.__version__


def openvino_session(path, threads):
    """OpenVINO's CPU plugin, compiled for the inference batch (a static shape, as a
    server would deploy it), latency hint, f32, `threads` inference threads."""
    import openvino as ov
    core = ov.Core()
    model = core.read_model(path)
    model.reshape({"x": [cp.INFER_BATCH, 1, 28, 28]})
    # f32, as the other columns: on a CPU with AVX512-BF16 OpenVINO would otherwise
    # run in bf16 (slower here, without AMX, and not the same numbers).
    compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
                                                 "INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    return (lambda batch: request.infer({0: batch})[0]), ov.__version__


def worker(kind, threads, samples, mode, out_path):
    """One framework's run, in the interpreter that has it."""
    import numpy as np
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    images = cp.load_idx(f"{cp.DATA}/train-images-idx3-ubyte.gz")[:samples]
    labels = cp.load_idx(f"{cp.DATA}/train-labels-idx1-ubyte.gz")[:samples]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    model, opt = build(kind)
    r = {"torch": torch.__version__}
    if mode in ("ort", "openvino"):
        model.eval()
        xs = x.numpy()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.onnx")
            kw = {"dynamo": False} if "dynamo" in torch.onnx.export.__code__.co_varnames else {}
            torch.onnx.export(model, (x[:cp.INFER_BATCH],), path, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, **kw)
            run, version = (ort_session if mode == "ort" else openvino_session)(path, threads)
        run(xs[:cp.INFER_BATCH])
        start = time.perf_counter()
        for i in range(0, len(xs), cp.INFER_BATCH):
            run(xs[i:i + cp.INFER_BATCH]).argmax(1)
        r["infer"] = len(xs) / (time.perf_counter() - start)
        r[mode] = version
    else:
        step_model = torch.compile(model) if mode == "compile" else model
        loss_fn = nn.CrossEntropyLoss()
        perm = torch.randperm(len(x))
        batch = 64
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(step_model(x[perm[:batch]]), y[perm[:batch]]).backward()
        opt.step()
        r["compile_s"] = time.perf_counter() - t0 if mode == "compile" else 0.0
        start = time.perf_counter()
        for i in range(batch, len(x), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss_fn(step_model(x[idx]), y[idx]).backward()
            opt.step()
        r["train"] = (len(x) - batch) / (time.perf_counter() - start)
        model.eval()
        infer_model = torch.compile(model) if mode == "compile" else model
        with torch.no_grad():
            infer_model(x[:cp.INFER_BATCH])  # one untimed batch (compiles), as `loom eval` does
            start = time.perf_counter()
            for i in range(0, len(x), cp.INFER_BATCH):
                infer_model(x[i:i + cp.INFER_BATCH]).argmax(1)
            r["infer"] = len(x) / (time.perf_counter() - start)
    with open(out_path, "w") as f:
        json.dump(r, f)


def run_framework(python, kind, threads, samples, mode):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        if python == DEBIAN:
            env["OPENBLAS_NUM_THREADS"] = "1"  # compare_pytorch.py's search finds this best for Debian's build
        try:
            rss = cp.run_measured([python, __file__, "--worker", kind, str(threads), str(samples), mode, out], env)
        except RuntimeError as e:
            return {"error": str(e).strip().splitlines()[-1]}
        with open(out) as f:
            r = json.load(f)
    r["rss"] = rss
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", nargs=5)
    ap.add_argument("--loom", default=os.path.join(HERE, "..", "build", "cli", "loom"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--models", nargs="+", default=["mlp", "cnn"])
    ap.add_argument("--samples", type=int, default=12800)
    a = ap.parse_args()
    if a.worker:
        kind, threads, samples, mode, out = a.worker
        worker(kind, int(threads), int(samples), mode, out)
        return
    columns = [("loom", None, None)]
    if os.path.exists(VENV):
        columns += [("torch2 eager", VENV, "eager"), ("torch2 compile", VENV, "compile"), ("onnxruntime", VENV, "ort"),
                    ("openvino", VENV, "openvino")]
    columns.append(("debian torch eager", DEBIAN, "eager"))
    results = {}  # (kind, threads, column) -> list of runs
    for rnd in range(a.rounds):
        for threads in a.threads:
            if threads > 1 and cp.core_check() < 1.8:
                print(f"round {rnd + 1}, {threads} threads: skipped (the second core is not there)", flush=True)
                continue
            for kind in a.models:
                for name, python, mode in columns:
                    if python is None:
                        with tempfile.TemporaryDirectory() as d:
                            r = cp.loom_run(a.loom, kind, threads, a.samples, d)
                    else:
                        r = run_framework(python, kind, threads, a.samples, mode)
                    print(f"round {rnd + 1} {kind} {threads}t {name}: {json.dumps(r)}", flush=True)
                    if "error" not in r:
                        results.setdefault((kind, threads, name), []).append(r)
    print("\nbest of kept rounds: samples/s (loom / this); inference worst/best over rounds")
    for kind in a.models:
        for threads in a.threads:
            loom = results.get((kind, threads, "loom"), [])
            if not loom:
                continue
            lt = max(r["train"] for r in loom)
            li = max(r["infer"] for r in loom)
            for name, _, _ in columns:
                runs = results.get((kind, threads, name), [])
                if not runs:
                    continue
                train = [r["train"] for r in runs if "train" in r]
                infer = [r["infer"] for r in runs]
                cells = []
                if train:
                    cells.append(f"train {max(train):9.0f} ({lt / max(train):.2f}x)")
                else:
                    cells.append(" " * 24)
                cells.append(f"infer {max(infer):9.0f} ({li / max(infer):.2f}x, spread {min(infer) / max(infer):.2f})")
                comp = [r.get("compile_s", 0) for r in runs if r.get("compile_s")]
                if comp:
                    cells.append(f"compile {min(comp):.1f}-{max(comp):.1f} s")
                print(f"  {kind} {threads}t {name:20s} " + "  ".join(cells))


if __name__ == "__main__":
    main()
