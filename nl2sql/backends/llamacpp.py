"""The llama.cpp backend: llama-cpp-python on a GGUF export of the model (see nl2sql.export).

The prompt is tokenized and the output decoded with the model's own transformers tokenizer, so the
token ids and text match the transformers backend; llama.cpp only runs the network (greedy, or
seeded sampling for execution-guided selection).
llama-cpp-python keeps one sequence per context: batches run one prompt after another, and a shared
prefix (the system turn and schema of the previous prompt) is reused from the KV cache.
Two threads on one context crash in decode; two contexts at once (the app holds a base and a fine-tuned
model; a server thread may load one while another decodes) ran clean here, but a CI run once crashed in
decode with two threads inside llama.cpp. So one process-wide lock (`_LLAMA`) serialises loading, decoding
and freeing: on a CPU each decode already uses every core, so nothing is lost.
The lock is a plain Lock held across the generator's yields: Gradio may resume a stream on another thread.
Models load without llama.cpp's extra CPU buffer types (`use_extra_bufts`: AMX tiles, repacked weights),
which a build for the machine's own CPU (-march=native) turns on where the CPU has them. On Intel Sapphire
Rapids (AMX) the fast suite segfaulted in decode on Q8_0 models, every time, and only there (Zen 3 and Zen 4
ran clean): the weights then sit in llama.cpp's AMX buffer. Plain CPU buffers run the same kernels on every
machine; F16, the default, has no AMX or repacked kernels anyway.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nl2sql.backends.base import DEFAULT_MAX_NEW_TOKENS, Backend, BackendUnavailable, Generation, Sampling, drive
from nl2sql.constrain import Guide, Names
# default_quant and model_files live with the export (its command line uses them too) and are re-exported here.
from nl2sql.export import ExportError, default_quant, model_files

_LLAMA = threading.Lock()  # every llama.cpp call that touches a model or a context (see the module docstring)
DEFAULT_N_CTX = 8192  # SmolLM2's context; the KV cache costs ~23 KB per token in f16


def _threads(env=None) -> int:
    """NL2SQL_THREADS when set, else the CPUs this process may run on. llama.cpp's threads wait for each other
    at every step: where another process holds a core, fewer threads than cores can be much faster."""
    env = os.environ if env is None else env
    if env.get("NL2SQL_THREADS"):
        value = env["NL2SQL_THREADS"].strip()
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"NL2SQL_THREADS must be a whole number of threads, 1 or more, got {value!r}")
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _trained_context(gguf: Path) -> int:
    from gguf import GGUFReader

    fields = GGUFReader(gguf).fields
    arch = fields["general.architecture"].contents()
    return int(fields[f"{arch}.context_length"].contents())


def _close(llm, wait_s: float = 60.0) -> None:
    """Free a model's context and weights under the lock. While another generation holds it (a cyclic
    collection can run inside one), a helper thread waits for it; at interpreter exit, where no thread can start,
    the process's end frees them."""
    def close_when_free(timeout: float) -> bool:
        if not _LLAMA.acquire(timeout=timeout):
            return False
        try:
            llm.close()
        finally:
            _LLAMA.release()
        return True

    if close_when_free(0):
        return
    try:
        threading.Thread(target=close_when_free, args=(wait_s,), daemon=True).start()
    except RuntimeError:
        pass


@contextmanager
def plain_cpu_buffers(lib):
    """Models loaded inside get plain CPU buffers (use_extra_bufts off; see the module docstring).
    llama-cpp-python's Llama takes no such argument: it starts from llama_model_default_params(), so that is
    wrapped for the duration. Call it holding _LLAMA, which every load does."""
    default = lib.llama_model_default_params

    def params():
        p = default()
        p.use_extra_bufts = False
        return p

    lib.llama_model_default_params = params
    try:
        yield
    finally:
        lib.llama_model_default_params = default


class LlamaCppBackend(Backend):
    kind = "llama.cpp"

    def __init__(self, name: str, spec: str, tokenizer, precision: str, llm):
        super().__init__(name, spec, tokenizer, precision)
        self.llm = llm
        # Free the model before the interpreter tears down ctypes (llama-cpp-python's __del__ fails then), never
        # while another thread decodes: at exit a daemon thread may still be generating.
        weakref.finalize(self, _close, llm)

    @classmethod
    def open(cls, spec: str, quant: str | None = None, n_threads: int | None = None,
             n_ctx: int | None = None) -> "LlamaCppBackend":
        try:
            import llama_cpp
        except ImportError as e:
            raise BackendUnavailable("llama-cpp-python is not installed (pip install llama-cpp-python)") from e
        except (OSError, RuntimeError) as e:  # installed, but its compiled library cannot load (a missing libgomp)
            raise BackendUnavailable(f"llama-cpp-python is installed but its library does not load: {e}") from e
        from nl2sql.models import tokenizer_at

        quant = quant or default_quant()
        try:
            gguf, tok_dir, name = model_files(spec, quant)
        except ExportError as e:
            raise BackendUnavailable(str(e)) from e
        threads = n_threads or _threads()
        n_ctx = min(n_ctx or int(os.environ.get("NL2SQL_N_CTX", DEFAULT_N_CTX)), _trained_context(gguf))
        with _LLAMA, plain_cpu_buffers(llama_cpp.llama_cpp):
            llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                                  verbose=False)
        tok = tokenizer_at(str(tok_dir))
        return cls(name, spec, tok, f"GGUF {quant.upper()}, {threads} thread{'s' * (threads != 1)}", llm)

    def stream(self, prompt: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
               sampling: Sampling | None = None, names: Names | None = None) -> Iterator[Generation]:
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        room = self.llm.n_ctx() - max_new_tokens
        if len(ids) > room:
            raise ValueError(f"the prompt is {len(ids):,} tokens; this model's context leaves room for {room:,}")
        return drive(self._pieces(ids, sampling, names), len(ids), max_new_tokens, self.kind)

    @staticmethod
    def _guide(written: list[str], names: Names, tokenizer, greedy: bool) -> list:
        """A llama-cpp-python logits processor: nl2sql.constrain.Guide on the text generated so far,
        which `_pieces` has already decoded (written[0]); llama.cpp calls it before each next token."""
        guide = Guide(names, tokenizer, greedy=greedy)
        return [lambda input_ids, scores: guide.mask(written[0], scores)]

    def _pieces(self, ids: list[int], sampling: Sampling | None, names: Names | None) -> Iterator[str]:
        eos = self.tokenizer.eos_token_id
        decoding = dict(temp=0.0, top_k=1, top_p=1.0)
        if sampling is not None:
            decoding = dict(temp=sampling.temperature, top_k=0, top_p=sampling.top_p)
        written = [""]  # the answer so far, shared with the guide
        if names is not None:
            decoding["logits_processor"] = self._guide(written, names, self.tokenizer, greedy=sampling is None)
        out: list[int] = []
        with _LLAMA:
            if sampling is not None:
                self.llm.set_seed(sampling.seed)
            for token in self.llm.generate(ids, min_p=0.0, repeat_penalty=1.0, **decoding):
                out.append(token)
                written[0] = self.tokenizer.decode(out, skip_special_tokens=True)
                yield written[0]
                if token == eos:
                    return
