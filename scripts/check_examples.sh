#!/usr/bin/env bash
# Builds examples/ against an installed loom (find_package) and checks that
# train_ddp, killed mid-epoch under mpirun and resumed from its checkpoint, ends
# with the same weights file, byte for byte, as a run that was never stopped.
# usage: scripts/check_examples.sh BUILD_DIR [SANITIZE]
# Exits 77 (CTest's skip code) without mpirun.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v "${MPIRUN:-mpirun}" >/dev/null && ! command -v mpiexec >/dev/null; then
  echo "SKIP: mpirun not found (install openmpi-bin)" >&2
  exit 77
fi
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=build_against_install.sh
source "$root/scripts/build_against_install.sh"
build_against_install "$build" "$root/examples" "$work" "${2:-}"
echo "check_examples: examples build against the installed package"

# 4000 samples, 2 ranks x batch 32: 63 steps an epoch, 126 in 2 epochs. Checkpoints
# at steps 63 (epoch 1) and 100; rank 1 dies before step 110, in epoch 2.
run() { "$root/scripts/mpirun.sh" -np 2 "$work/installed/train_ddp" --samples 4000 --epochs 2 --every 100 "$@"; }
cd "$work"
run --checkpoint straight.ckpt --save straight.safetensors >straight.log 2>&1 || { cat straight.log; exit 1; }
if LOOM_FAULT_INJECT=1:110:exit run --checkpoint cut.ckpt --save cut.safetensors >cut.log 2>&1; then
  cat cut.log
  echo "check_examples: the run with a killed rank did not fail" >&2
  exit 1
fi
[ -f cut.ckpt ] || { cat cut.log; echo "check_examples: no checkpoint left by the killed run" >&2; exit 1; }
[ ! -e cut.safetensors ] || { echo "check_examples: the killed run wrote its final weights" >&2; exit 1; }
run --checkpoint cut.ckpt --save resumed.safetensors --resume >resumed.log 2>&1 || { cat resumed.log; exit 1; }
grep -q "resumed from cut.ckpt at step 100" resumed.log || { cat resumed.log; echo "check_examples: not resumed at step 100" >&2; exit 1; }
cmp straight.safetensors resumed.safetensors
echo "check_examples: killed at step 110 and resumed from step 100, the weights equal the uninterrupted run's"
