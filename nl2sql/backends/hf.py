"""The transformers backend: the model exactly as training and evaluation load it (nl2sql.models).

The engine: greedy or sampled, stopped by the backends' one rule, batched, streaming. Every call returns
`Generation` dataclasses with the extracted SQL, the raw text, token counts and timings, so callers
never re-measure. `TransformersBackend` wraps `generate`, `generate_batch` and `stream` for the pipeline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import torch
from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList, \
    TextIteratorStreamer

from nl2sql.backends.base import DEFAULT_MAX_NEW_TOKENS, Backend, Generation, Sampling, stop_reason
from nl2sql.constrain import Guide, Names
from nl2sql.models import LoadedModel
from nl2sql.sql import extract


class StopRule(StoppingCriteria):
    """Stop each row by the backends' one rule (nl2sql.backends.base.stop_reason): end of statement,
    token limit, runaway repetition."""

    def __init__(self, tokenizer, prompt_len: int, max_new_tokens: int):
        self.tokenizer, self.prompt_len, self.max_new_tokens = tokenizer, prompt_len, max_new_tokens

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_len:], skip_special_tokens=True)
        n = input_ids.shape[1] - self.prompt_len
        return torch.tensor([stop_reason(t, n, self.max_new_tokens) is not None for t in texts],
                            device=input_ids.device)


def _final(text: str, prompt_tokens: int, new_tokens: int, latency: float, max_new_tokens: int,
           first: float | None = None) -> Generation:
    stop = stop_reason(text, new_tokens, max_new_tokens) or "eos"
    return Generation(extract(text), text, prompt_tokens, new_tokens, latency, first, stop=stop)


class SchemaGuide(LogitsProcessor):
    """Schema-constrained decoding (nl2sql.constrain) for each row that has a schema's names."""

    def __init__(self, tokenizer, names: list[Names | None], prompt_len: int, greedy: bool):
        self.tokenizer, self.prompt_len = tokenizer, prompt_len
        self.guides = [Guide(n, tokenizer, greedy=greedy) if n is not None else None for n in names]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        for row, guide in enumerate(self.guides):
            if guide is not None:
                text = self.tokenizer.decode(input_ids[row, self.prompt_len:], skip_special_tokens=True)
                masked = guide.mask(text, scores[row].float().cpu().numpy())
                scores[row] = torch.from_numpy(masked).to(scores.device, scores.dtype)
        return scores


def _encode(lm: LoadedModel, prompts: list[str]) -> dict:
    lm.tokenizer.padding_side = "left"  # decoder-only batching: pad on the left
    # The chat template already holds the special tokens; never add a second BOS.
    enc = lm.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    return {k: v.to(lm.device) for k, v in enc.items()}


def _gen_kwargs(lm: LoadedModel, prompt_len: int, max_new_tokens: int, sampling: Sampling | None = None,
                names: list[Names | None] | None = None) -> dict:
    decoding = dict(do_sample=False, temperature=None, top_p=None, top_k=None)
    if sampling is not None:
        torch.manual_seed(sampling.seed)
        decoding = dict(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p, top_k=None)
    if names and any(n is not None for n in names):
        decoding["logits_processor"] = LogitsProcessorList(
            [SchemaGuide(lm.tokenizer, names, prompt_len, greedy=sampling is None)])
    return dict(max_new_tokens=max_new_tokens, num_beams=1,
                pad_token_id=lm.tokenizer.pad_token_id, eos_token_id=lm.tokenizer.eos_token_id,
                stopping_criteria=StoppingCriteriaList([StopRule(lm.tokenizer, prompt_len, max_new_tokens)]),
                **decoding)


def _count_new(ids: torch.Tensor, tokenizer) -> int:
    """Generated tokens up to and including the first eos (the rest is batch padding)."""
    ids = ids.tolist()
    eos = tokenizer.eos_token_id
    return ids.index(eos) + 1 if eos in ids else len(ids)


@torch.inference_mode()
def generate_batch(lm: LoadedModel, prompts: list[str], max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                   batch_size: int = 8, names: list[Names | None] | None = None) -> list[Generation]:
    """Greedy generation for many prompts, `batch_size` at a time; one Generation per prompt, in order.
    `names`: per prompt, the schema names to keep its SQL to (None: unconstrained)."""
    out: list[Generation] = []
    names = names or [None] * len(prompts)
    for i in range(0, len(prompts), batch_size):
        chunk = prompts[i : i + batch_size]
        enc = _encode(lm, chunk)
        width = enc["input_ids"].shape[1]
        start = time.perf_counter()
        ids = lm.model.generate(**enc, **_gen_kwargs(lm, width, max_new_tokens, names=names[i : i + batch_size]))
        latency = time.perf_counter() - start
        lengths = enc["attention_mask"].sum(dim=1).tolist()
        for row, plen in zip(ids, lengths):
            new = row[width:]
            text = lm.tokenizer.decode(new, skip_special_tokens=True)
            out.append(_final(text, int(plen), _count_new(new, lm.tokenizer), latency, max_new_tokens))
    return out


def generate(lm: LoadedModel, prompt: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
             sampling: Sampling | None = None, names: Names | None = None) -> Generation:
    """Greedy (or, with `sampling`, sampled) generation for one prompt."""
    if sampling is None:
        return generate_batch(lm, [prompt], max_new_tokens, batch_size=1, names=[names])[0]
    last = None
    for last in stream(lm, prompt, max_new_tokens, sampling, names):
        pass
    return last


def stream(lm: LoadedModel, prompt: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
           sampling: Sampling | None = None, names: Names | None = None) -> Iterator[Generation]:
    """Yield growing partial Generations (done=False) as tokens arrive, then the final one (done=True)."""
    enc = _encode(lm, [prompt])
    width = enc["input_ids"].shape[1]
    streamer = TextIteratorStreamer(lm.tokenizer, skip_prompt=True, skip_special_tokens=True)
    kwargs = dict(**enc, **_gen_kwargs(lm, width, max_new_tokens, sampling, [names]), streamer=streamer)
    result: dict = {}

    def work() -> None:
        with torch.inference_mode():
            try:
                result["ids"] = lm.model.generate(**kwargs)
            except Exception as e:  # re-raised in the caller's thread below
                result["error"] = e
                streamer.end()

    start = time.perf_counter()
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    text, first = "", None
    for piece in streamer:
        if piece and first is None:
            first = time.perf_counter() - start
        text += piece
        yield Generation(extract(text, trim=False), text, width, 0, time.perf_counter() - start, first, done=False)
    thread.join()
    if "error" in result:
        raise result["error"]
    new = result["ids"][0][width:]
    text = lm.tokenizer.decode(new, skip_special_tokens=True)
    yield _final(text, width, _count_new(new, lm.tokenizer), time.perf_counter() - start, max_new_tokens, first)


class TransformersBackend(Backend):
    kind = "transformers"

    def __init__(self, lm: LoadedModel):
        super().__init__(lm.name, lm.spec, lm.tokenizer, f"{str(lm.dtype).replace('torch.', '')}, {lm.device}")
        self.lm = lm

    def stream(self, prompt: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
               sampling: Sampling | None = None, names: Names | None = None) -> Iterator[Generation]:
        return stream(self.lm, prompt, max_new_tokens, sampling, names)

    def generate_batch(self, prompts: list[str], max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                       batch_size: int = 8, names: list[Names | None] | None = None) -> list[Generation]:
        return generate_batch(self.lm, prompts, max_new_tokens, batch_size, names)

    def generate(self, prompt: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                 sampling: Sampling | None = None, names: Names | None = None) -> Generation:
        return generate(self.lm, prompt, max_new_tokens, sampling, names)
