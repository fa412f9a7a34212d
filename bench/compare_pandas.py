#!/usr/bin/python3
"""CSV reading throughput: loom's read_csv against pandas.read_csv, in one go.

Generates a mostly numeric CSV (default 2M rows x 12 columns: 10 floats, 1 integer,
1 small categorical string column, ~1% missing values, about 230 MB), times
pandas.read_csv on it (best of 3), runs build/bench/bm_csv_parse on the same file
at 1 and 2 loom threads, and prints MB/s and the ratio loom / pandas.

    /usr/bin/python3 bench/compare_pandas.py [--rows N] [--build build] [--keep FILE]

pandas parses on one thread (its C engine has no threads); loom splits the file
into one chunk per thread (NOTE [Parallel CSV] in src/data/tabular/csv_reader.cpp).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd


def generate(path, rows, seed=0):
    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(10):
        x = rng.normal(loc=i * 10.0, scale=1.0 + i, size=rows)
        cols[f"f{i}"] = x
    cols["count"] = rng.integers(0, 100000, size=rows).astype(np.float64)
    frame = pd.DataFrame(cols)
    # ~1% missing values in every numeric column.
    for name in frame.columns:
        frame.loc[rng.random(rows) < 0.01, name] = np.nan
    frame["count"] = frame["count"].astype("Int64")
    labels = np.array(["red", "green", "blue", "yellow", "black"])
    cat = labels[rng.integers(0, len(labels), size=rows)].astype(object)
    cat[rng.random(rows) < 0.01] = None
    frame["color"] = cat
    # Chunks keep the memory of the writer bounded; %.6f is a typical export precision.
    step = 200_000
    with open(path, "w") as f:
        for start in range(0, rows, step):
            frame.iloc[start:start + step].to_csv(f, index=False, header=start == 0, float_format="%.6f", na_rep="")


def time_pandas(path, repeats):
    best = float("inf")
    shape = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        df = pd.read_csv(path)
        best = min(best, time.perf_counter() - t0)
        shape = df.shape
        del df
    return best, shape


def run_loom(bench, path, min_time):
    env = dict(os.environ, LOOM_BENCH_CSV=path)
    out = subprocess.run(
        [bench, "--benchmark_format=json", "--benchmark_filter=BM_ReadCsv",
         f"--benchmark_min_time={min_time}"],
        env=env, check=True, capture_output=True, text=True).stdout
    results = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("error_occurred"):
            sys.exit(f"bm_csv_parse failed: {b.get('error_message')}")
        threads = int(b["name"].split("/")[1])
        results[threads] = b["real_time"] / 1e3  # ms -> s
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    ap.add_argument("--keep", help="write the CSV here and keep it (reused when it exists)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=3.0, help="seconds of loom runs per thread count")
    args = ap.parse_args()

    bench = os.path.join(args.build, "bench", "bm_csv_parse")
    if not os.access(bench, os.X_OK):
        sys.exit(f"{bench} not found; build it with: cmake --build {args.build} --target bm_csv_parse")

    tmp = None
    if args.keep:
        path = args.keep
    else:
        tmp = tempfile.TemporaryDirectory()
        path = os.path.join(tmp.name, "bench.csv")
    if not os.path.exists(path):
        t0 = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {path} in {time.perf_counter() - t0:.1f} s")
    mb = os.path.getsize(path) / 1e6

    pandas_s, shape = time_pandas(path, args.repeats)
    loom_s = run_loom(bench, path, args.min_time)

    print(f"file: {mb:.1f} MB, {shape[0]} rows x {shape[1]} columns; machine: {os.cpu_count()} cores "
          f"(timings on a shared machine are noisy)")
    print(f"{'reader':<22}{'seconds':>10}{'MB/s':>10}{'vs pandas':>12}")
    print(f"{'pandas.read_csv':<22}{pandas_s:>10.3f}{mb / pandas_s:>10.1f}{1.0:>12.2f}")
    for threads in sorted(loom_s):
        s = loom_s[threads]
        print(f"{f'loom read_csv, {threads} thr':<22}{s:>10.3f}{mb / s:>10.1f}{pandas_s / s:>12.2f}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
