"""The backend interface and the one decode loop that llama.cpp and remote share."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from nl2sql.constrain import Names
from nl2sql.generate import DEFAULT_MAX_NEW_TOKENS, Generation, Sampling
from nl2sql.sql import extract, statement_complete


class BackendUnavailable(RuntimeError):
    """The backend cannot serve this model here (package missing, server down, format unsupported)."""


@dataclass
class Backend(ABC):
    """A model that answers prompts. `tokenizer` builds the prompt (chat template); `name` is truthful."""

    name: str
    spec: str
    tokenizer: object
    precision: str  # "float32, cpu", "GGUF F16, 2 threads", "served at http://..."

    kind = "abstract"  # the backend's name, as `open_backend` takes it
    can_constrain = True  # whether `names` (schema-constrained decoding, nl2sql.constrain) is applied

    @property
    def label(self) -> str:
        return f"{self.name} · {self.kind}, {self.precision}"

    @abstractmethod
    def stream(self, prompt: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
               sampling: Sampling | None = None, names: Names | None = None) -> Iterator[Generation]:
        """Yield growing partial Generations (done=False), then the final one (done=True); greedy unless
        `sampling` is given; kept to the schema's `names` when given (and `can_constrain`)."""

    def generate_batch(self, prompts: list[str], max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                       batch_size: int = 8, names: list[Names | None] | None = None) -> list[Generation]:
        """One Generation per prompt, in order (here: one prompt after another); `names` per prompt."""
        names = names or [None] * len(prompts)
        return [self.generate(p, max_new_tokens, names=n) for p, n in zip(prompts, names)]

    def generate(self, prompt: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                 sampling: Sampling | None = None, names: Names | None = None) -> Generation:
        last = None
        for last in self.stream(prompt, max_new_tokens, sampling, names):
            pass
        return last


def drive(pieces: Iterator[str], prompt_tokens: int, max_new_tokens: int, backend: str) -> Iterator[Generation]:
    """Turn a backend's text pieces (one per token) into Generations, stopping at the end of the statement.

    `pieces` yields the continuation's text so far after each new token; closing it stops the engine.
    """
    start = time.perf_counter()
    text, first, n = "", None, 0
    try:
        for text in pieces:
            n += 1
            if first is None:
                first = time.perf_counter() - start
            if n >= max_new_tokens or statement_complete(text):
                break
            yield Generation(extract(text, trim=False), text, prompt_tokens, n, time.perf_counter() - start, first,
                             done=False, backend=backend)
    finally:
        close = getattr(pieces, "close", None)
        if close:
            close()
    yield Generation(extract(text), text, prompt_tokens, n, time.perf_counter() - start, first, backend=backend)
