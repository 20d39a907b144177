"""Choosing among a question's candidate answers by running them. Pure: takes answers that have been
run (nl2sql.pipeline runs them), returns the one to keep.

Voting (self-consistency by execution): answers whose SQL ran without error are grouped by their result
(the same rows, in any order, count as the same); the largest group wins and the earliest answer in it
is kept (ties go to the group holding the greedy answer, answers[0]). When no answer ran, the greedy
one stands. Voting subsumes execution-guided selection: a greedy answer that fails cannot win a vote.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Protocol

from nl2sql.sandbox import RunResult


class Runnable(Protocol):
    result: RunResult | None


def result_key(result: RunResult | None) -> tuple | None:
    """What two answers must share to be the same answer: their rows as a multiset (None: did not run)."""
    if result is None or not result.ok:
        return None
    return len(result.columns), tuple(sorted(map(repr, result.rows))), result.truncated


def vote(answers: list[Runnable]) -> tuple[int, int]:
    """(index of the answer to keep, votes for it) among answers[0] (greedy) and its sampled rivals."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, ans in enumerate(answers):
        key = result_key(ans.result)
        if key is not None:
            groups[key].append(i)
    if not groups:
        return 0, 0
    best = max(groups.values(), key=lambda members: (len(members), members[0] == 0, -members[0]))
    return best[0], len(best)
