"""The guide of schema-constrained decoding: the decoder hook. `Guide.mask` turns the checker's verdicts
into a mask over next-token scores, shared by the transformers and llama.cpp backends."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from nl2sql.constrain.checker import failures, starts
from nl2sql.constrain.names import Names
from nl2sql.sql import sql_region


@dataclass
class Guide:
    """Masks next-token scores so the SQL keeps to the schema (see the module docstring).

    `greedy`: keep only the most likely token that passes; else (sampling) every passing one among the
    `top_k` most likely; `widen`: how far down the ranking to look when none of the top_k passes.
    A token passes when it adds no fault to the text (faults already written, after a step where
    nothing passed, are not held against later tokens). An unfinished word must be the start of a
    name as the tokenizer itself would spell it (`canonical`): a model that writes " Make" meaning
    "Maker" would need the unlikely piece "r" next, where the tokenizer has one token " Maker".
    `patience` (sampling only): after this many steps where nothing in reach passed, the guide stands aside
    for the rest of the answer. Such a step checks `widen` candidates (about 50 times a normal step's
    cost), and a sampled answer that has left the schema keeps missing to its last token: a vote of 8
    questions once took minutes so. Greedy answers are constrained to the end, as before.
    """

    names: Names
    tokenizer: object
    greedy: bool = True
    top_k: int = 24
    widen: int = 1024
    canonical: bool = True
    patience: int = 2
    _misses: int = 0
    _pieces: dict[int, str] = field(default_factory=dict)
    _spelled: dict[str, frozenset[str]] = field(default_factory=dict)
    _memo: dict[str, set[int]] = field(default_factory=dict)  # faults of the last step's candidates

    def piece(self, token: int) -> str:
        if token not in self._pieces:
            special = token in getattr(self.tokenizer, "all_special_ids", ())
            self._pieces[token] = ";" if special else self.tokenizer.decode([token])  # an end token ends the SQL
        return self._pieces[token]

    def _prefixes(self, name: str) -> frozenset[str]:
        """Every text that a prefix of the tokenizer's own spelling of `name` decodes to (as written,
        lower, upper or capitalised; after a space or not)."""
        if name not in self._spelled:
            out: set[str] = set()
            as_written = self.names.spelling.get(name, name)
            for spelling in {as_written, name, name.upper(), name.capitalize()}:
                for lead in (" ", ""):
                    ids = self.tokenizer(lead + spelling, add_special_tokens=False)["input_ids"]
                    out.update(self.tokenizer.decode(ids[:k]).strip() for k in range(1, len(ids) + 1))
            self._spelled[name] = frozenset(out)
        return self._spelled[name]

    def _prefix_ok(self, written: str, pool: Iterable[str]) -> bool:
        low = written.lower()
        return any(p.startswith(low) and written in self._prefixes(p) for p in pool)

    def faults(self, text: str) -> set[int]:
        if text not in self._memo:
            self._memo[text] = failures(text, self.names, self._prefix_ok if self.canonical else starts)
        return self._memo[text]

    def mask(self, text: str, scores: np.ndarray) -> np.ndarray:
        """`scores` (one row over the vocabulary) with every token set to -inf except the passing ones
        among the most likely: the first that passes (greedy) or those among the top_k (sampling); when
        none of the top_k passes, the search goes on through the next most likely, up to `widen`.
        Unchanged when none passes at all. An end token counts as ending the statement."""
        if sql_region(text) is None and sql_region(text + "SELECT") is None:
            return scores
        if not self.greedy and self._misses >= self.patience:
            return scores  # this sampled answer has left the schema for good
        committed = self.faults(text)  # usually known: the text is last step's text + the chosen token
        self._memo = {text: committed}
        width = min(self.widen, scores.shape[-1])
        top = np.argpartition(-scores, width - 1)[:width]
        top = top[np.argsort(-scores[top], kind="stable")].tolist()
        keep: list[int] = []
        for rank, token in enumerate(top):
            if keep and (self.greedy or rank >= self.top_k):
                break
            if self.faults(text + self.piece(token)) <= committed:
                keep.append(token)
        if not keep:
            self._misses += 1
            return scores
        out = np.full_like(scores, -np.inf)
        out[keep] = scores[keep]
        return out
