"""The backend interface, the types it speaks (Generation, Sampling, the token budget), the one rule
for when an answer stops (`stop_reason`), and the decode loop that llama.cpp and remote share."""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from nl2sql.constrain import Names
from nl2sql.sql import extract, statement_complete

DEFAULT_MAX_NEW_TOKENS = 160
# Runaway repetition: the answer stops once its last REPEAT_NGRAM words/symbols have been written
# REPEAT_TIMES times (a model nesting `WHERE id IN (SELECT id FROM ...` up to its token cap).
REPEAT_NGRAM = 6
REPEAT_TIMES = 4
_WORD = re.compile(r"\w+|[^\w\s]")

STOPS = {"statement": "end of the statement", "eos": "the model ended its answer",
         "limit": "the new-token limit", "repetition": "the model began repeating itself"}


@dataclass
class Generation:
    sql: str
    text: str  # raw decoded continuation
    prompt_tokens: int
    new_tokens: int
    latency_s: float
    first_token_s: float | None = None  # streaming only
    done: bool = True  # False for partial snapshots while streaming
    backend: str = "transformers"  # which engine answered (nl2sql.backends)
    stop: str = "statement"  # why it ended: a key of STOPS

    @property
    def tokens_per_s(self) -> float:
        return self.new_tokens / self.latency_s if self.latency_s > 0 else 0.0


@dataclass(frozen=True)
class Sampling:
    """Sampled instead of greedy decoding: extra candidates (execution-guided selection, voting)."""

    seed: int
    temperature: float = 0.7
    top_p: float = 0.95


def repeating(text: str, n: int = REPEAT_NGRAM, times: int = REPEAT_TIMES) -> bool:
    """Whether the last n words/symbols of `text` already occur `times` times in it."""
    words = _WORD.findall(text)
    if len(words) < n * times:
        return False
    tail = words[-n:]
    return sum(words[i : i + n] == tail for i in range(len(words) - n + 1)) >= times


def stop_reason(text: str, new_tokens: int, max_new_tokens: int) -> str | None:
    """Why the answer must stop now (a key of STOPS), or None to go on. Every backend stops by this rule."""
    if statement_complete(text):
        return "statement"
    if new_tokens >= max_new_tokens:
        return "limit"
    if repeating(text):
        return "repetition"
    return None


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
    text, first, n, stop = "", None, 0, "eos"
    try:
        for text in pieces:
            n += 1
            if first is None:
                first = time.perf_counter() - start
            stop = stop_reason(text, n, max_new_tokens) or "eos"
            if stop != "eos":
                break
            yield Generation(extract(text, trim=False), text, prompt_tokens, n, time.perf_counter() - start, first,
                             done=False, backend=backend)
    finally:
        close = getattr(pieces, "close", None)
        if close:
            close()
    yield Generation(extract(text), text, prompt_tokens, n, time.perf_counter() - start, first, backend=backend,
                     stop=stop)
