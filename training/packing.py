"""Shared-prefix packing: several questions of one schema share one copy of the schema prompt.

Spider train has about 50 questions per schema, and most of each row's tokens are its schema prompt.
With causal attention a prefix's hidden states do not depend on what follows it, so rows whose prompts
start alike can share one copy of that start: prefix, then row 1's rest, row 2's rest, ... in one
sequence, with an attention mask that lets each rest see the prefix and itself only, and position ids
that restart after the prefix for each rest. Loss and gradients are those of the rows one by one
(tests/test_packing.py checks it on the tiny model), for a fraction of the tokens.

- `grouped_order(keys, rows_per_batch, seed, epochs)`: the row order that puts rows with the same
  prompt prefix (e.g. the same shown tables) into the same micro-batch; each epoch shuffled anew.
- `PackingCollator`: the data collator; it packs the rows of a micro-batch that share a prefix (any
  that do not share one stay rows of their own) and pads the packed sequences to one length. Its batches
  carry a 4D boolean attention mask and position ids; `training.sft.completion_only_loss` reads both.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

MIN_SHARED = 16  # tokens two rows must share before packing them pays for the mask
SHARE_RATIO = 0.5  # and the share of a cluster's prefix a row must have to join it


def prefix_key(prompt: str, marker: str = "\nQuestion:") -> str:
    """The part of a prompt that rows of one schema (as shown) have in common: all before the question."""
    cut = prompt.rfind(marker)
    return prompt[:cut] if cut >= 0 else prompt


def grouped_order(keys: list[str], rows_per_batch: int, seed: int, epochs: int = 1) -> list[int]:
    """Row indices, `epochs` times over, arranged so that each run of `rows_per_batch` rows shares a key
    where it can: rows are grouped by key and shuffled in their group, cut into micro-batches, the
    remainders of all groups batched together, and the micro-batches shuffled. Deterministic per seed."""
    rng = random.Random(seed)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        groups[key].append(i)
    order: list[int] = []
    for _ in range(max(1, epochs)):
        batches, rest = [], []
        for key in sorted(groups):
            idx = groups[key][:]
            rng.shuffle(idx)
            full = len(idx) - len(idx) % rows_per_batch
            batches += [idx[i:i + rows_per_batch] for i in range(0, full, rows_per_batch)]
            rest += idx[full:]
        batches += [rest[i:i + rows_per_batch] for i in range(0, len(rest), rows_per_batch)]
        rng.shuffle(batches)
        order += [i for b in batches for i in b]
    return order


def _common(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _labels(row: dict) -> list[int]:
    """A tokenized row's labels (-100 off the completion), as trl builds them, or from its completion mask."""
    if "labels" in row:
        return list(row["labels"])
    return [t if m else -100 for t, m in zip(row["input_ids"], row["completion_mask"])]


def _prompt_len(labels: list[int]) -> int:
    return next((i for i, t in enumerate(labels) if t != -100), len(labels))


def clusters(rows: list[dict], min_shared: int = MIN_SHARED) -> list[tuple[list[int], int]]:
    """[(row indices, shared prefix length)]: rows packed together share their first `length` tokens,
    all of them prompt tokens with at least one more prompt token after them in every row (so each
    row's first label-free token starts its own part, and no completion token is predicted across parts)."""
    out: list[tuple[list[int], int]] = []
    for i, row in enumerate(rows):
        ids, limit = row["input_ids"], _prompt_len(_labels(row)) - 1
        shares = [min(_common(rows[members[0]]["input_ids"], ids), limit, length) for members, length in out]
        # The cluster sharing most, if that is most of its prefix: a chat template alone is not a schema.
        best = max(range(len(out)), key=shares.__getitem__, default=None)
        if best is not None and shares[best] >= max(min_shared, SHARE_RATIO * out[best][1]):
            out[best] = (out[best][0] + [i], shares[best])
        else:
            out.append(([i], limit))
    return out


@dataclass
class PackingCollator:
    """Micro-batch of tokenized rows ({"input_ids", "labels"} as trl makes them, or "completion_mask" in place
    of labels) -> packed, padded tensors."""

    pad_token_id: int
    min_shared: int = MIN_SHARED

    def pack(self, rows: list[dict]) -> list[dict]:
        """One sequence per cluster: ids, labels (-100 off the completions), position ids, part of each token
        (-1: the shared prefix, k: row k's own part)."""
        seqs = []
        for members, shared in clusters(rows, self.min_shared):
            if len(members) == 1:
                shared = 0  # a row alone is simply itself
            first = rows[members[0]]["input_ids"]
            ids, labels, pos, part = list(first[:shared]), [-100] * shared, list(range(shared)), [-1] * shared
            for k, m in enumerate(members):
                row_ids = rows[m]["input_ids"]
                ids += row_ids[shared:]
                labels += _labels(rows[m])[shared:]
                pos += list(range(shared, len(row_ids)))
                part += [k] * (len(row_ids) - shared)
            seqs.append({"ids": ids, "labels": labels, "pos": pos, "part": part})
        return seqs

    def __call__(self, rows: list[dict]) -> dict:
        import torch

        seqs = self.pack(rows)
        n = max(len(s["ids"]) for s in seqs)
        batch = len(seqs)
        input_ids = torch.full((batch, n), self.pad_token_id, dtype=torch.long)
        labels = torch.full((batch, n), -100, dtype=torch.long)
        position_ids = torch.zeros((batch, n), dtype=torch.long)
        part = torch.full((batch, n), -2, dtype=torch.long)  # -2: padding
        for b, s in enumerate(seqs):
            m = len(s["ids"])
            input_ids[b, :m] = torch.tensor(s["ids"])
            labels[b, :m] = torch.tensor(s["labels"])
            position_ids[b, :m] = torch.tensor(s["pos"])
            part[b, :m] = torch.tensor(s["part"])
        causal = torch.ones(n, n, dtype=torch.bool).tril()
        q, k = part[:, :, None], part[:, None, :]
        # A token sees the shared prefix and its own part, causally; padding sees itself only (no NaNs).
        allowed = causal & ((k == -1) & (q != -2) | (q == k))
        allowed |= torch.eye(n, dtype=torch.bool)
        return {"input_ids": input_ids, "labels": labels, "position_ids": position_ids,
                "attention_mask": allowed[:, None]}


__all__ = ["PackingCollator", "clusters", "grouped_order", "prefix_key"]
