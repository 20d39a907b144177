# One image for a Hugging Face Docker Space and Azure Container Instances: CPU-only torch, the
# packaged base model converted at build time and the shipped adapter copied in, so the container
# starts offline. Build: docker buildx build --platform linux/amd64 -t nl2sql .
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HOME=/home/user \
    NL2SQL_CACHE=/home/user/.cache/nl2sql \
    GRADIO_ANALYTICS_ENABLED=False \
    PORT=7860

RUN useradd --create-home --uid 1000 user
# A C/C++ toolchain: PyPI has llama-cpp-python (the fast CPU backend) only as source.
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /home/user/app

# Dependencies first (a layer that changes only with requirements.txt), through the same install
# script as `make app` / `make test`, so CI exercises this path.
COPY --chown=user requirements.txt ./
COPY --chown=user scripts/install.sh scripts/install.sh
# llama.cpp is compiled for AVX2 (not -march=native): the image runs on CPUs other than the builder's.
RUN VENV=none TORCH_INDEX=https://download.pytorch.org/whl/cpu \
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF" \
    bash scripts/install.sh requirements.txt

USER user
COPY --chown=user . .
# Convert the packaged GGUF, and export it and the shipped adapter as GGUF F16 for llama.cpp, into the
# cache now, not at the first request.
RUN python -c "from nl2sql.models import packaged_checkpoint; print(packaged_checkpoint())" \
    && python -m nl2sql.export --defaults

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import os, urllib.request; p = os.environ.get('GRADIO_SERVER_PORT') or os.environ.get('PORT', '7860'); urllib.request.urlopen(f'http://127.0.0.1:{p}/', timeout=4)" || exit 1
# No flags: the address comes from GRADIO_SERVER_NAME/GRADIO_SERVER_PORT, else HOST/PORT, else 0.0.0.0:7860.
CMD ["python", "app.py"]
