#!/usr/bin/python3
"""Preprocessing speed: loom's standard_scale + pca(10) against scikit-learn, in one go.

Generates a float64 matrix (default 500k rows x 50 columns, correlated columns so
PCA has structure), times make_pipeline(StandardScaler(), PCA(10)).fit_transform
in scikit-learn (best of 3; PCA's default solver, which picks randomized SVD for
this shape, and the exact "full" solver), runs build/bench/bm_preprocess on the
same data at 1 and 2 loom threads, and prints seconds and the ratio sklearn / loom.

    /usr/bin/python3 bench/compare_sklearn.py [--rows N] [--cols N] [--build build]

loom's PCA is exact (covariance by GEMM, then a symmetric eigen-solver: pca.h).
scikit-learn's numpy/BLAS threads are left at their defaults.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def generate(rows, cols, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(rows, 12))
    mix = rng.normal(size=(12, cols))
    x = latent @ mix + 0.5 * rng.normal(size=(rows, cols))
    x += rng.uniform(-50, 50, size=cols)  # columns with different means and scales
    x *= rng.uniform(0.1, 10, size=cols)
    return np.ascontiguousarray(x)


def time_sklearn(x, solver, repeats):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = make_pipeline(StandardScaler(), PCA(n_components=10, svd_solver=solver)).fit_transform(x)
        best = min(best, time.perf_counter() - t0)
        del out
    return best


def run_loom(bench, path, cols, min_time):
    env = dict(os.environ, LOOM_BENCH_MATRIX=path, LOOM_BENCH_COLS=str(cols))
    out = subprocess.run(
        [bench, "--benchmark_format=json", "--benchmark_filter=BM_StandardScalePca",
         f"--benchmark_min_time={min_time}"],
        env=env, check=True, capture_output=True, text=True).stdout
    results = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("error_occurred"):
            sys.exit(f"bm_preprocess failed: {b.get('error_message')}")
        results[int(b["name"].split("/")[1])] = b["real_time"] / 1e3  # ms -> s
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=3.0, help="seconds of loom runs per thread count")
    args = ap.parse_args()

    bench = os.path.join(args.build, "bench", "bm_preprocess")
    if not os.access(bench, os.X_OK):
        sys.exit(f"{bench} not found; build it with: cmake --build {args.build} --target bm_preprocess")

    x = generate(args.rows, args.cols)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.f64")
        x.astype("<f8").tofile(path)
        sk_auto = time_sklearn(x, "auto", args.repeats)
        sk_full = time_sklearn(x, "full", args.repeats)
        loom_s = run_loom(bench, path, args.cols, args.min_time)

    print(f"standard_scale + pca(10), fit+transform of {args.rows} x {args.cols} f64; "
          f"machine: {os.cpu_count()} cores (timings on a shared machine are noisy)")
    print(f"{'implementation':<34}{'seconds':>10}{'sklearn(auto) / this':>22}")
    print(f"{'sklearn, PCA svd_solver=auto':<34}{sk_auto:>10.3f}{1.0:>22.2f}")
    print(f"{'sklearn, PCA svd_solver=full':<34}{sk_full:>10.3f}{sk_auto / sk_full:>22.2f}")
    for threads in sorted(loom_s):
        s = loom_s[threads]
        print(f"{f'loom, {threads} thread' + ('s' if threads > 1 else ''):<34}{s:>10.3f}{sk_auto / s:>22.2f}")


if __name__ == "__main__":
    main()
