#!/usr/bin/env python3
"""Training and inference speed of loom against PyTorch, side by side in one run.

For the two reference models (ARCHITECTURE.md) and each thread count, this runs
PyTorch (CPU, data already in memory, same batch) and `loom train` / `loom eval`
back to back, and prints samples/s, peak RSS and the ratios.

PyTorch is measured twice: with its default settings, and at its best on this
machine. Debian's PyTorch does its GEMMs through OpenBLAS, whose CPU detection may
pick AVX2 kernels on AVX-512 processors (OPENBLAS_CORETYPE=SkylakeX changes that),
whose thread pool is separate from torch.set_num_threads (OPENBLAS_NUM_THREADS),
and ATen's own kernels pick AVX2 unless ATEN_CPU_CAPABILITY=avx512. A short search
over these settings at the same total thread budget picks PyTorch's best; every
candidate's figure is printed so the choice can be checked.

Each sample is taken only when a quick core check shows both cores really run
(2 processes of busy work do at least 1.8x the work of 1): on shared 2-core
machines the second core sometimes vanishes for minutes.

--no-torch --baseline-loom OTHER/loom compares two loom builds instead (before
and after a change, in one run): every kept round runs this build, then the
other, and the summary prints loom / baseline.

usage: bench/compare_pytorch.py [--loom build/cli/loom] [--threads 1 2] [--samples 12800] [--repeat 3]
                                [--baseline-loom OTHER/loom] [--no-torch]
Run with Debian's python3 (/usr/bin/python3), which has python3-torch.
"""
import argparse
import gzip
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

DATA = "/usr/share/datasets/fashion-mnist"
INFER_BATCH = 256
# Useful FLOPs of one training sample (forward + backward) of the reference CNN:
# conv2 10.8 M MAC (fwd, bwd-data, bwd-weight), conv1 0.45 M, linear 3136x128 1.2 M.
CNN_TRAIN_FLOP = 2 * (3 * 14 * 14 * 64 * 32 * 9 + 2 * 28 * 28 * 32 * 9 + 3 * 3136 * 128 + 3 * 128 * 10)


def load_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


# ---------------------------------------------------------------- PyTorch worker
def torch_worker(kind, threads, samples, out_path):
    """Runs in a child process so the OpenBLAS/ATen environment takes effect."""
    import numpy as np
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    images = load_idx(f"{DATA}/train-images-idx3-ubyte.gz")[:samples]
    labels = load_idx(f"{DATA}/train-labels-idx1-ubyte.gz")[:samples]
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    torch.manual_seed(1)
    if kind == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                              nn.Linear(128, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    perm = torch.randperm(len(x))
    batch = 64
    start = time.perf_counter()
    for i in range(0, len(x), batch):
        idx = perm[i:i + batch]
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    train = len(x) / (time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        model(x[:INFER_BATCH])  # one untimed batch, as `loom eval` does
        start = time.perf_counter()
        for i in range(0, len(x), INFER_BATCH):
            model(x[i:i + INFER_BATCH]).argmax(1)
        infer = len(x) / (time.perf_counter() - start)
    with open(out_path, "w") as f:
        json.dump({"train": train, "infer": infer}, f)


def run_measured(cmd, env):
    """Runs cmd; returns its peak RSS in MiB (the child's own, from wait4)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err}")
    return usage.ru_maxrss / 1024.0


def torch_run(kind, threads, samples, settings):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "ATEN_CPU_CAPABILITY")}
    env.update(settings)
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        rss = run_measured([sys.executable, __file__, "--torch-worker", kind, str(threads), str(samples), out], env)
        with open(out) as f:
            r = json.load(f)
    r["rss"] = rss
    return r


def torch_candidates(threads):
    """PyTorch settings at a total budget of `threads` cores."""
    yield "default", {}
    for coretype, blas, aten in itertools.product(["", "SkylakeX"], sorted({1, threads}), ["", "avx512"]):
        s = {"OPENBLAS_NUM_THREADS": str(blas)}
        if coretype:
            s["OPENBLAS_CORETYPE"] = coretype
        if aten:
            s["ATEN_CPU_CAPABILITY"] = aten
        yield " ".join(f"{k}={v}" for k, v in s.items()), s


# ---------------------------------------------------------------- loom
def loom_run(loom, kind, threads, samples, workdir):
    metrics = os.path.join(workdir, f"train-{kind}.json")
    weights = os.path.join(workdir, f"{kind}.safetensors")
    rss_train = run_measured([loom, "train", "--model", kind, "--epochs", "1", "--train-samples", str(samples),
                              "--test-samples", "256", "--threads", str(threads), "--metrics", metrics,
                              "--save", weights, "--quiet"], os.environ.copy())
    with open(metrics) as f:
        train = json.load(f)["train_samples_per_s"]
    metrics = os.path.join(workdir, f"eval-{kind}.json")
    rss_eval = run_measured([loom, "eval", "--weights", weights, "--batch", str(INFER_BATCH), "--test-samples",
                             str(min(samples, 10000)), "--threads", str(threads), "--metrics", metrics],
                            os.environ.copy())
    with open(metrics) as f:
        infer = json.load(f)["samples_per_s"]
    return {"train": train, "infer": infer, "rss": max(rss_train, rss_eval)}


# ---------------------------------------------------------------- machine checks
def _busy(seconds, out_path):
    end, n = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        for _ in range(1000):
            n += 1
    with open(out_path, "w") as f:
        f.write(str(n))


def core_check(seconds=0.4):
    """Work done by 2 busy processes / work done by 1: about 2 when both cores are there."""
    def run(k):
        with tempfile.TemporaryDirectory() as d:
            outs = [os.path.join(d, f"{i}") for i in range(k)]
            procs = [subprocess.Popen([sys.executable, __file__, "--busy", str(seconds), o]) for o in outs]
            for p in procs:
                p.wait()
            return sum(int(open(o).read()) for o in outs)
    return run(2) / run(1)


def sgemm_gflops(threads):
    """OpenBLAS's best sgemm on `threads` threads (through numpy-free torch, SkylakeX kernels)."""
    code = ("import torch,time\n"
            f"torch.set_num_threads({threads})\n"
            "a=torch.randn(2048,2048);b=torch.randn(2048,2048);best=0\n"
            "for _ in range(6):\n"
            " t=time.perf_counter();a@b;best=max(best,2*2048**3/(time.perf_counter()-t)/1e9)\n"
            "print(best)")
    best = 0.0
    for coretype in ["", "SkylakeX"]:
        env = os.environ.copy()
        env["OPENBLAS_NUM_THREADS"] = str(threads)
        env.pop("OPENBLAS_CORETYPE", None)
        if coretype:
            env["OPENBLAS_CORETYPE"] = coretype
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        best = max(best, float(out.stdout.strip().splitlines()[-1]))
    return best


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--loom", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "cli",
                                                   "loom"))
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--samples", type=int, default=12800)
    ap.add_argument("--search-samples", type=int, default=3200, help="samples per PyTorch settings candidate")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--models", nargs="+", default=["mlp", "cnn"])
    ap.add_argument("--min-core-ratio", type=float, default=1.8)
    ap.add_argument("--baseline-loom", help="with --no-torch: a second loom build, run after this one each round")
    ap.add_argument("--no-torch", action="store_true", help="compare --loom with --baseline-loom, no PyTorch")
    args = ap.parse_args()
    if args.no_torch:
        return compare_builds(args)
    import torch
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus; torch {torch.__version__}; "
          f"environment OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    peak = {t: sgemm_gflops(t) for t in args.threads}
    print("OpenBLAS best sgemm (2048^3): " + ", ".join(f"{t} thr {g:.1f} GFLOP/s" for t, g in peak.items()))

    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for kind, threads in itertools.product(args.models, args.threads):
            # Find PyTorch's best settings for this model and thread count.
            search = {}
            for name, settings in torch_candidates(threads):
                search[name] = (torch_run(kind, threads, args.search_samples, settings), settings)
                r = search[name][0]
                print(f"  search {kind} {threads} thr  {name or 'default':55} train {r['train']:8.0f}"
                      f"  infer {r['infer']:8.0f}")
            # "default" leaves OpenBLAS at all cores, over the budget when threads < cores,
            # so only the candidates that pin OPENBLAS_NUM_THREADS compete for best.
            eligible = [n for n in search if n != "default"]
            best_train = max(eligible, key=lambda n: search[n][0]["train"])
            best_infer = max(eligible, key=lambda n: search[n][0]["infer"])
            best = {"default": {}, "train": {}, "infer": {}, "loom": {}}
            taken = 0
            for _ in gated_rounds(args, threads):
                taken += 1
                samples = {"default": torch_run(kind, threads, args.samples, {}),
                           "train": torch_run(kind, threads, args.samples, search[best_train][1]),
                           "loom": loom_run(args.loom, kind, threads, args.samples, workdir)}
                samples["infer"] = (samples["train"] if best_infer == best_train else
                                    torch_run(kind, threads, args.samples, search[best_infer][1]))
                for key, r in samples.items():
                    for metric in ("train", "infer"):
                        best[key][metric] = max(best[key].get(metric, 0.0), r[metric])
                    best[key]["rss"] = min(best[key].get("rss", 1e12), r["rss"])
            if taken == 0:
                print(f"{kind} {threads} thr: no sample passed the core check; rerun on a quieter machine")
                continue
            rows.append((kind, threads, best, best_train, best_infer))
            print_row(kind, threads, best, best_train, best_infer, peak[threads])
            sys.stdout.flush()

    print("\nsummary (samples/s; ratio = loom / PyTorch at its best)")
    print(f"{'model':5} {'thr':>3} | {'train pt-def':>12} {'pt-best':>9} {'loom':>9} {'ratio':>6} | "
          f"{'infer pt-def':>12} {'pt-best':>9} {'loom':>9} {'ratio':>6} | {'RSS MiB pt':>10} {'loom':>6}")
    for kind, threads, best, _, _ in rows:
        pt_rss = best["train"]["rss"]
        print(f"{kind:5} {threads:>3} | {best['default']['train']:>12.0f} {best['train']['train']:>9.0f} "
              f"{best['loom']['train']:>9.0f} {best['loom']['train'] / best['train']['train']:>6.2f} | "
              f"{best['default']['infer']:>12.0f} {best['infer']['infer']:>9.0f} {best['loom']['infer']:>9.0f} "
              f"{best['loom']['infer'] / best['infer']['infer']:>6.2f} | {pt_rss:>10.0f} {best['loom']['rss']:>6.0f}")
    cnn = {t: b["loom"]["train"] for k, t, b, _, _ in rows if k == "cnn"}
    if 1 in cnn and 2 in cnn:
        print(f"loom CNN training 1->2 thread scaling: {cnn[2] / cnn[1]:.2f}x")


def gated_rounds(args, threads):
    """Yields args.repeat times, each only once the core check finds both cores (at most 3x as many tries)."""
    taken = 0
    for _ in range(args.repeat * 3):
        if taken == args.repeat:
            return
        ratio = core_check() if threads > 1 else 2.0
        if ratio < args.min_core_ratio:
            print(f"  discarded a round: core check {ratio:.2f} < {args.min_core_ratio}")
            time.sleep(5)
            continue
        taken += 1
        yield


def compare_builds(args):
    """loom against --baseline-loom alone: rounds of (this, baseline), gated and best of --repeat."""
    assert args.baseline_loom, "--no-torch needs --baseline-loom"
    print(f"{'model':5} {'thr':>3} | {'train loom':>10} {'baseline':>9} {'ratio':>6} | "
          f"{'infer loom':>10} {'baseline':>9} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as workdir:
        for kind, threads in itertools.product(args.models, args.threads):
            best = {"loom": {}, "base": {}}
            taken = 0
            for _ in gated_rounds(args, threads):
                taken += 1
                for key, binary in (("loom", args.loom), ("base", args.baseline_loom)):
                    r = loom_run(binary, kind, threads, args.samples, workdir)
                    for metric in ("train", "infer"):
                        best[key][metric] = max(best[key].get(metric, 0.0), r[metric])
            if taken == 0:
                print(f"{kind} {threads} thr: no round passed the core check")
                continue
            l, b = best["loom"], best["base"]
            print(f"{kind:5} {threads:>3} | {l['train']:>10.0f} {b['train']:>9.0f} {l['train'] / b['train']:>6.3f} | "
                  f"{l['infer']:>10.0f} {b['infer']:>9.0f} {l['infer'] / b['infer']:>6.3f}")
            sys.stdout.flush()


def print_row(kind, threads, best, best_train, best_infer, peak):
    line = (f"{kind} {threads} thr: PyTorch best train [{best_train or 'default'}], best infer "
            f"[{best_infer or 'default'}]; loom train {best['loom']['train']:.0f}/s "
            f"= {best['loom']['train'] / best['train']['train']:.2f}x, infer {best['loom']['infer']:.0f}/s "
            f"= {best['loom']['infer'] / best['infer']['infer']:.2f}x")
    if kind == "cnn":
        gflops = best["loom"]["train"] * CNN_TRAIN_FLOP / 1e9
        pt = best["train"]["train"] * CNN_TRAIN_FLOP / 1e9
        line += (f"; CNN step {gflops:.1f} GFLOP/s = {gflops / peak:.0%} of OpenBLAS sgemm "
                 f"(PyTorch {pt / peak:.0%})")
    print(line)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        torch_worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif len(sys.argv) > 1 and sys.argv[1] == "--busy":
        _busy(float(sys.argv[2]), sys.argv[3])
    else:
        main()
