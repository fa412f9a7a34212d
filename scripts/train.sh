#!/usr/bin/env bash
# Sets everything up, builds, and trains the reference MLP on Fashion-MNIST with
# the embedded defaults (one process, CPU), printing the test accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
exec build/cli/loom train --model mlp "$@"
