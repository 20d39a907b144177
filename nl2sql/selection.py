"""After the first answer: a constrained answer that does not parse gives way to the model's own; then
execution-guided selection (`Decoding.candidates` > 1) or voting (`Decoding.votes` > 1, with data to run on)
among seeded samples. Split from nl2sql.pipeline, which re-exports these names.
"""

from __future__ import annotations

import time

from nl2sql.backends.base import Backend, Generation, Sampling
from nl2sql.choose import vote
from nl2sql.execution import execute, finish, has_data
from nl2sql.request import Answer, Decoding, Prepared
from nl2sql.sql import sql_region


def unsteered_if_unparsable(lm: Backend, p: Prepared, ans: Answer, decoding: Decoding) -> Answer:
    """A constrained answer that does not parse gives way to the unconstrained greedy one, if that parses.
    Prose is never constrained, so an answer that did not start as SQL would only come back the same."""
    if not ans.constrained or ans.validation.ok or ans.generation is None or sql_region(ans.generation.text) is None:
        return ans
    free = finish(lm, p, lm.generate(p.prompt, decoding.max_new_tokens))
    return free if free.validation.ok else ans


def passes(ans: Answer, p: Prepared) -> bool:
    """The checks of execution-guided selection: parses, is grounded, runs without error where it can run."""
    if not ans.validation.ok or not ans.model_sql or ans.unknown:
        return False
    result = ans.result if ans.result is not None else execute(ans.model_sql, p.request, p.schema)
    return result is None or result.ok


def select(lm: Backend, p: Prepared, first: Answer, decoding: Decoding) -> Answer:
    """`first` if it passes; else the first of up to candidates - 1 sampled answers that does (or `first`)."""
    if decoding.candidates <= 1 or passes(first, p):
        return first
    start, chosen, k = time.perf_counter(), first, 0
    for k in range(1, decoding.candidates):
        gen = lm.generate(p.prompt, decoding.max_new_tokens, Sampling(seed=k), p.names)
        ans = finish(lm, p, gen, constrained=p.names is not None)
        if passes(ans, p):
            chosen = ans
            break
    chosen.candidates_tried, chosen.selection_s = k + 1, time.perf_counter() - start
    return chosen


def by_votes(lm: Backend, p: Prepared, first: Answer, decoding: Decoding) -> Answer:
    """The greedy answer and votes-1 sampled ones (seeded), each run on the request's data; the answer
    of the largest group of equal results is kept (nl2sql.choose.vote). Only with rows to run on."""
    start = time.perf_counter()
    answers = [first]
    for k in range(1, decoding.votes):
        gen = lm.generate(p.prompt, decoding.max_new_tokens, Sampling(seed=k), p.names)
        answers.append(finish(lm, p, gen, constrained=p.names is not None))
    for ans in answers:
        if ans.result is None and ans.validation.ok:
            ans.result = execute(ans.model_sql, p.request, p.schema)
    index, agreed = vote(answers)
    chosen = answers[index]
    chosen.votes, chosen.candidates_tried = (agreed, len(answers)), len(answers)
    chosen.selection_s = time.perf_counter() - start
    return chosen


def complete(lm: Backend, p: Prepared, generation: Generation, decoding: Decoding) -> Answer:
    """The answer to a prepared request from its first generation: the unconstrained one where the
    constrained one does not parse, then voting or execution-guided selection as `decoding` asks."""
    first = unsteered_if_unparsable(lm, p, finish(lm, p, generation, constrained=p.names is not None), decoding)
    if decoding.votes > 1 and has_data(p.request, p.schema):
        return by_votes(lm, p, first, decoding)
    return select(lm, p, first, decoding)


__all__ = ["by_votes", "complete", "passes", "select", "unsteered_if_unparsable"]
