#!/usr/bin/env bash
# Creates .venv-torch2: PyTorch 2.x, ONNX Runtime and OpenVINO from PyPI, the yardsticks of
# bench/compare_gpt.py (the CI does not need them). About 5 GB: PyPI's Linux torch
# wheel pulls the CUDA runtime libraries even for CPU use.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-torch2
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q torch onnxruntime onnx numpy openvino
"$venv/bin/python" -c "import torch, onnxruntime, openvino; print('torch', torch.__version__, 'onnxruntime', onnxruntime.__version__, 'openvino', openvino.__version__)"
