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
WORKDIR /home/user/app

# Dependencies first (a layer that changes only with requirements.txt), through the same install
# script as `make app` / `make test`, so CI exercises this path.
COPY --chown=user requirements.txt ./
COPY --chown=user scripts/install.sh scripts/install.sh
RUN VENV=none TORCH_INDEX=https://download.pytorch.org/whl/cpu bash scripts/install.sh requirements.txt

USER user
COPY --chown=user . .
# Convert the packaged GGUF into the cache now, not at first request.
RUN python -c "from nl2sql.models import packaged_checkpoint; print(packaged_checkpoint())"

EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"7860\")}/', timeout=4)" || exit 1
CMD ["sh", "-c", "python app.py --host 0.0.0.0 --port ${PORT}"]
