"""Generation backends: one interface, several engines, chosen by name or by what is installed.

- `transformers`: the model as training sees it (fp32/bf16 by hardware); real left-padded batches.
- `llama.cpp`: llama-cpp-python on a GGUF export of the same model (`python -m nl2sql.export`);
  several times faster on a CPU (see docs/backends-and-speed.md). Batches run one prompt after another.
- `remote`: any OpenAI-compatible completions server (vLLM, llama.cpp's server, TGI) serving the model.

Every backend takes the same prompt text (built by nl2sql.prompt with the model's tokenizer),
decodes greedily (or samples, seeded, for execution-guided selection), keeps the SQL to the schema's
names when asked (nl2sql.constrain; transformers and llama.cpp, not remote), and stops at the end of the first SQL statement (sql.statement_complete), so they
answer alike. `open_backend(spec, "auto")` picks llama.cpp on a CPU when it is installed and falls
back to transformers with a log line saying why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from nl2sql.backends.base import DEFAULT_MAX_NEW_TOKENS, Backend, BackendUnavailable, Generation, Sampling, drive

log = logging.getLogger("nl2sql")
NAMES = ("auto", "transformers", "llama.cpp", "remote")


def __getattr__(name: str):
    # The transformers engine imports torch: only when asked for, so remote and llama.cpp users need none.
    if name == "TransformersBackend":
        from nl2sql.backends.hf import TransformersBackend

        return TransformersBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _transformers(spec: str, **opts) -> Backend:
    import importlib.util

    if importlib.util.find_spec("torch") is None:  # the lean image installs requirements-serve.txt only
        raise BackendUnavailable("the transformers backend needs torch, which this install leaves out (it serves "
                                 "with llama.cpp): pip install -r requirements.txt, or use BACKEND=llama.cpp")
    from nl2sql.backends.hf import TransformersBackend
    from nl2sql.models import load

    return TransformersBackend(load(spec, dtype=opts.get("dtype"), device=opts.get("device")))


def _llamacpp(spec: str, **opts) -> Backend:
    from nl2sql.backends.llamacpp import LlamaCppBackend

    return LlamaCppBackend.open(spec, quant=opts.get("quant"), n_threads=opts.get("n_threads"))


def _remote(spec: str, **opts) -> Backend:
    from nl2sql.backends.remote import RemoteBackend

    return RemoteBackend.open(spec, url=opts.get("url"), model=opts.get("remote_model"), api_key=opts.get("api_key"))


OPENERS: dict[str, Callable[..., Backend]] = {"transformers": _transformers, "llama.cpp": _llamacpp,
                                              "remote": _remote}


def auto_choice(device: str | None = None) -> str:
    """The backend `auto` means here: transformers on a GPU, llama.cpp on a CPU when it is installed."""
    import importlib.util

    from nl2sql.models import auto_device

    if (device or auto_device()).startswith("cuda"):
        return "transformers"
    return "llama.cpp" if importlib.util.find_spec("llama_cpp") else "transformers"


def open_backend(spec: str, backend: str = "auto", **opts) -> Backend:
    """Load model `spec` on `backend` (one of NAMES); `auto` falls back to transformers, logging why."""
    if backend not in NAMES:
        raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(NAMES)}")
    if backend != "auto":
        return OPENERS[backend](spec, **opts)
    import importlib.util

    if auto_choice(opts.get("device")) == "llama.cpp":
        try:
            return OPENERS["llama.cpp"](spec, **opts)
        except BackendUnavailable as e:
            log.warning("the llama.cpp backend is unavailable for %s (%s): answering with transformers", spec, e)
    elif importlib.util.find_spec("llama_cpp") is None:
        log.warning("llama-cpp-python is not installed: answering with transformers "
                    "(pip install llama-cpp-python for the fast CPU backend)")
    return _transformers(spec, **opts)


__all__ = ["Backend", "BackendUnavailable", "DEFAULT_MAX_NEW_TOKENS", "Generation", "NAMES", "Sampling",
           "TransformersBackend", "auto_choice", "drive", "open_backend"]
