#!/usr/bin/env bash
# Coverage-guided fuzzing of every file format loom reads: builds fuzz/ with clang
# (libFuzzer) under ASan and UBSan in build-fuzz/, seeds each target's corpus with
# real files made by the release build's `loom` (and the repository's own), and
# runs each target for SECONDS. A finding stops that target with a reproducer
# (crash-*, leak-*, ...) in build-fuzz/findings/TARGET/; the script exits 1 if any
# target found something.
# usage: scripts/fuzz.sh [SECONDS (default 60)] [TARGET ...]   e.g. scripts/fuzz.sh 300 fuzz_csv
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/libomp.so >/dev/null 2>&1; then
  echo "fuzz: installing clang and libomp-dev" >&2
  apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y clang libomp-dev >/dev/null
fi
release=${LOOM_RELEASE_BUILD:-$root/build}
[ -x "$release/cli/loom" ] || { echo "fuzz: needs a release build at $release (scripts/setup.sh)" >&2; exit 1; }
build=$root/build-fuzz
cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLOOM_BUILD_TESTS=OFF -DLOOM_BUILD_BENCHMARKS=OFF -DLOOM_BUILD_EXAMPLES=OFF -DLOOM_BUILD_FUZZERS=ON \
  -DLOOM_SANITIZE=address,undefined -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined" \
  >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(fuzz_idx fuzz_csv fuzz_safetensors fuzz_model_json fuzz_pipeline_json fuzz_shard fuzz_checkpoint
           fuzz_traced_graph)
fi
cmake --build "$build" -j2 --target "${targets[@]}" >/dev/null

# Seeds: files of each format, written by the release build.
seeds=$build/seeds
rm -rf "$seeds" && mkdir -p "$seeds"
(
  cd "$seeds"
  loom=$release/cli/loom
  mkdir -p idx csv safetensors model_json pipeline_json shard checkpoint traced_graph
  fm=/usr/share/datasets/fashion-mnist
  python3 - "$fm" <<'PY'
import gzip, sys
for name, n in (("t10k-labels-idx1-ubyte", 64), ("t10k-images-idx3-ubyte", 4)):
    raw = gzip.open(f"{sys.argv[1]}/{name}.gz").read()
    head = 8 if "labels" in name else 16
    count = n if "labels" in name else n
    size = 1 if "labels" in name else 784
    body = bytearray(raw[:head]); body[4:8] = count.to_bytes(4, "big")
    open(f"idx/{name}", "wb").write(bytes(body) + raw[head:head + count * size])
PY
  printf 'a,b,label\n1,2.5,x\n3,,y\n"q,uo""te",4,x\n' > csv/small.csv
  "$loom" train --model mlp --epochs 1 --train-samples 64 --test-samples 64 --quiet \
    --save safetensors/mlp.safetensors --checkpoint checkpoint/mlp.ckpt >/dev/null
  cp "$root"/examples/models/*.json model_json/
  "$loom" info --model cnn --json >/dev/null 2>&1 || true
  python3 -c "import json; print(json.dumps({'input_shape':[4],'layers':[{'type':'linear','in':4,'out':3},{'type':'relu'}]}))" \
    > model_json/tiny.json
  printf 'x,y,t\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n' > pipe.csv
  "$loom" data preprocess --data pipe.csv --target t --pipeline '{"steps": [{"kind": "standard_scale"}]}' \
    --out pipe_out.csv --save-pipeline pipeline_json/fitted.json >/dev/null
  echo '{"steps": [{"kind": "standard_scale"}]}' > pipeline_json/spec.json
  mkdir -p packed
  "$loom" data pack --data pipe.csv --target t --out packed/t --shard-samples 2 >/dev/null
  for f in packed/*.json; do { printf '\001'; cat "$f"; } > "shard/$(basename "$f")"; done
  for f in packed/*.lshard; do { printf '\000'; cat "$f"; } > "shard/$(basename "$f")"; done
  echo '{"format": "loom.traced_graph", "version": 1, "inputs": [{"name": "x", "shape": [2], "dtype": "f32"}], "nodes": [], "outputs": ["x"]}' > traced_graph/identity.json
) || { echo "fuzz: making seeds failed" >&2; exit 1; }

found=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "${targets[@]}"; do
  format=${t#fuzz_}
  corpus=$build/corpus/$t findings=$build/findings/$t
  mkdir -p "$corpus" "$findings"
  cp -n "$seeds/$format"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: $t for ${seconds}s ($(ls "$corpus" | wc -l) inputs in its corpus)"
  if ! (cd "$findings" && "$build/fuzz/$t" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 \
        -print_final_stats=1 "$corpus" > "$findings/log.txt" 2>&1); then
    echo "fuzz: $t FOUND something: $findings (log.txt)"
    found=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::new_units_added" "$findings/log.txt" | tr '\n' ' '
  echo
done
exit $found
