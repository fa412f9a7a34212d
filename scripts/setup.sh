#!/usr/bin/env bash
# Installs everything loom needs on a fresh Debian 12 machine and builds it.
# Usage: scripts/setup.sh [build-dir]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}

packages=(
  build-essential cmake pkg-config git clang-format
  libopenblas-dev zlib1g-dev libzstd-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  openmpi-bin libopenmpi-dev libdnnl-dev ocl-icd-opencl-dev libtbb-dev
  dataset-fashion-mnist fortunes time  # the data sets; /usr/bin/time for bench/compare_gpt.py
  python3 python3-pip python3-numpy python3-torch python3-sklearn
  python3-pandas  # CsvSklearn.ColumnSumsMatchPandas and bench/compare_pandas.py
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The Python safetensors package, used only by tests that check files loom writes
# are readable from Python (and so by PyTorch).
if ! /usr/bin/python3 -c "import safetensors" 2>/dev/null; then
  /usr/bin/python3 -m pip install -q --break-system-packages safetensors 2>/dev/null \
    || /usr/bin/python3 -m pip install -q safetensors \
    || echo "setup: could not install the Python safetensors package; its interop tests will skip"
fi

jobs=${LOOM_BUILD_JOBS:-2}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir" -j"$jobs"
