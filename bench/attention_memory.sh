#!/usr/bin/env bash
# Peak allocator bytes of gpt training at context 64, 256 and 1024 (batch 8, 3
# steps, --stats): with the fused attention they grow linearly with the context,
# where materialised [time, time] scores would grow with its square.
# usage: bench/attention_memory.sh [build/cli/loom]
set -euo pipefail
cd "$(dirname "$0")/.."
loom=${1:-build/cli/loom}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ctx in 64 256 1024; do
  sed -e "s/\"input_shape\": \[64\]/\"input_shape\": [$ctx]/" \
      -e "s/\"context\": 64/\"context\": $ctx/" examples/models/gpt.json > "$tmp/gpt$ctx.json"
  "$loom" train --model "$tmp/gpt$ctx.json" --steps 3 --batch 8 --threads 1 --quiet --test-samples 8 \
      --metrics "$tmp/m$ctx.json" > /dev/null
  python3 -c "import json,sys; m=json.load(open('$tmp/m$ctx.json')); print('context $ctx: peak %.1f MB' % (m['peak_bytes'] / 1e6))"
done
