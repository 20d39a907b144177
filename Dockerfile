# One image for a Hugging Face Docker Space and Azure Container Instances, built in two stages so that
# what runs carries only what serving needs. Build: docker buildx build --platform linux/amd64 -t nl2sql .
#
# Stage 1 (builder): a C/C++ toolchain compiles llama-cpp-python into a wheel (PyPI has only its source),
# and the full install (CPU torch, transformers) converts the packaged base and exports it and the shipped
# adapter as GGUF F16 for llama.cpp. None of that toolchain, torch or the fp32 copy reaches stage 2.
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 HOME=/home/user NL2SQL_CACHE=/home/user/.cache/nl2sql
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /home/user/app
COPY requirements.txt requirements-serve.txt ./
COPY scripts/install.sh scripts/install.sh
# llama.cpp is compiled for AVX2 (not -march=native): the image runs on CPUs other than the builder's.
RUN CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF" \
    pip wheel --no-deps -w /wheels "$(grep -E '^llama-cpp-python==' requirements-serve.txt)" \
    && python -m venv /opt/build && /opt/build/bin/pip install -q /wheels/llama_cpp_python-*.whl
# The same install script as `make app` / `make test` (CI walks it), into the builder's own environment.
RUN VENV=/opt/build TORCH_INDEX=https://download.pytorch.org/whl/cpu \
    bash scripts/install.sh requirements.txt
COPY . .
RUN /opt/build/bin/python -c "from nl2sql.models import packaged_checkpoint; print(packaged_checkpoint())" \
    && /opt/build/bin/python -m nl2sql.export --defaults

# Stage 2: what serves. No compiler, no torch: llama.cpp answers for both models from the GGUF files made
# above, tokenizers come from transformers (which needs no torch for them).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOME=/home/user \
    NL2SQL_CACHE=/home/user/.cache/nl2sql \
    GRADIO_ANALYTICS_ENABLED=False \
    PORT=7860
RUN useradd --create-home --uid 1000 user
# llama.cpp's compiled library links the OpenMP runtime (the only system library serving needs)
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*
WORKDIR /home/user/app
COPY requirements-serve.txt ./
COPY scripts/install.sh scripts/install.sh
COPY --from=builder /wheels /tmp/wheels
RUN pip install -q /tmp/wheels/llama_cpp_python-*.whl && rm -rf /tmp/wheels \
    && VENV=none bash scripts/install.sh requirements-serve.txt
USER user
COPY --chown=user . .
COPY --from=builder --chown=user /home/user/.cache/nl2sql/gguf /home/user/.cache/nl2sql/gguf

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import os, urllib.request; p = os.environ.get('GRADIO_SERVER_PORT') or os.environ.get('PORT', '7860'); urllib.request.urlopen(f'http://127.0.0.1:{p}/', timeout=4)" || exit 1
# No flags: the address comes from GRADIO_SERVER_NAME/GRADIO_SERVER_PORT, else HOST/PORT, else 0.0.0.0:7860.
CMD ["python", "app.py"]
