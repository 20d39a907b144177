"""Shared fixtures: a tiny random-weight llama with a tokenizer trained here, offline, in seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
CORPUS = [
    "SELECT name FROM employees WHERE salary > 100;",
    "SELECT COUNT(*) FROM departments;",
    "How many employees are there? Tables: employees(id, name, salary)",
    "SELECT d.name, AVG(e.salary) FROM employees AS e JOIN departments AS d ON d.id = e.department_id GROUP BY d.name;",
    "Write one SQLite query that answers the question. Question: SQL:",
]


def build_tiny_model(out: Path, chat_template: bool = True) -> Path:
    """Save a 2-layer random llama + a byte-level BPE tokenizer (with <|im_end|> as eos) to `out`."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS * 4, trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                                                            initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|im_end|>",
                                   bos_token="<|im_start|>", unk_token="<|endoftext|>")
    if chat_template:
        fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id, tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(out)
    fast.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_plain_model_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-plain") / "model", chat_template=False)


@pytest.fixture(scope="session")
def tiny(tiny_model_dir):
    from nl2sql.models import load

    return load(str(tiny_model_dir), dtype="float32", device="cpu")


@pytest.fixture(scope="session")
def company_schema() -> str:
    return (EXAMPLES / "company.sql").read_text()


def scripted(answers: list[str], tokenizer=None):
    """A fake model in the style of simonw/llm's mock model: a Backend whose generations take the queued
    `answers` in order, streamed a character at a time; every call is recorded in `.calls` (prompt,
    sampling seed or None for greedy, whether schema names constrained it)."""
    from dataclasses import dataclass

    from nl2sql.backends import Backend, drive

    @dataclass(frozen=True)
    class Call:
        prompt: str
        seed: int | None  # None: greedy
        constrained: bool

    class Scripted(Backend):
        kind = "scripted"

        def __init__(self):
            super().__init__("scripted", "scripted", tokenizer, "text")
            self.queue, self.calls = list(answers), []

        def stream(self, prompt, max_new_tokens=160, sampling=None, names=None):
            self.calls.append(Call(prompt, sampling.seed if sampling else None, names is not None))
            assert self.queue, f"no answer queued for call {len(self.calls)}"
            text = self.queue.pop(0)
            return drive(iter([text[:i] for i in range(1, len(text) + 1)]), len(prompt.split()), max_new_tokens,
                         self.kind)

        @property
        def seeds(self) -> list[int | None]:
            return [c.seed for c in self.calls]

    return Scripted()


@pytest.fixture(scope="session")
def tiny_backend(tiny):
    from nl2sql.backends import TransformersBackend

    return TransformersBackend(tiny)
