"""The transformers backend: the model exactly as training and evaluation load it (nl2sql.models)."""

from __future__ import annotations

from collections.abc import Iterator

from nl2sql import generate as gen
from nl2sql.backends.base import DEFAULT_MAX_NEW_TOKENS, Backend, Generation, Sampling
from nl2sql.constrain import Names
from nl2sql.models import LoadedModel


class TransformersBackend(Backend):
    kind = "transformers"

    def __init__(self, lm: LoadedModel):
        super().__init__(lm.name, lm.spec, lm.tokenizer, f"{str(lm.dtype).replace('torch.', '')}, {lm.device}")
        self.lm = lm

    def stream(self, prompt: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
               sampling: Sampling | None = None, names: Names | None = None) -> Iterator[Generation]:
        return gen.stream(self.lm, prompt, max_new_tokens, sampling, names)

    def generate_batch(self, prompts: list[str], max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                       batch_size: int = 8, names: list[Names | None] | None = None) -> list[Generation]:
        return gen.generate_batch(self.lm, prompts, max_new_tokens, batch_size, names)

    def generate(self, prompt: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                 sampling: Sampling | None = None, names: Names | None = None) -> Generation:
        return gen.generate(self.lm, prompt, max_new_tokens, sampling, names)
