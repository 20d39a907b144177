"""Question (+ schema) -> Answer: the one path the CLI, the app and evaluation all walk.

prompt.build_prompt -> generate -> sql.extract -> sql.validate (-> transpile) -> sql.ground
(-> sandbox.run). The model writes SQLite; other dialects are produced by sqlglot from that.

Execution-guided selection (`candidates` > 1): when the greedy answer fails a check (does not parse,
names an unknown table or column, or errors when run on the schema or database), up to
`candidates - 1` sampled answers (fixed seeds, so reruns agree) are tried and the first that passes
is kept; if none does, the greedy answer stands.

Schema-constrained decoding (`constrain`, nl2sql.constrain): while the model writes SQL, tokens that
would name a table or column the schema lacks are skipped for the next most likely that does not.
Applied when a schema is given and the backend can (transformers, llama.cpp; not a remote server).
When the constrained answer does not parse (the model was steered somewhere it could not finish),
the model's own greedy answer is tried and kept if it parses (`constrained` then says False).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nl2sql import generate as gen
from nl2sql.backends import Backend, TransformersBackend
from nl2sql.constrain import Names, names_or_none, sql_region
from nl2sql.models import LoadedModel
from nl2sql.prompt import build_prompt
from nl2sql.sandbox import RunResult, run as run_sql
from nl2sql.schema import SchemaError, parse_schema, split_ddl
from nl2sql.sql import SqlError, Unknown, Validation, ground, is_query, transpile, validate

MODEL_DIALECT = "sqlite"
DEFAULT_CANDIDATES = 1  # app and CLI default; 4 lifts grounded answers, not correct ones, at ~1.5x the time (README)
DEFAULT_CONSTRAIN = True  # schema-constrained decoding (README: Evaluation)


@dataclass
class Request:
    """One question; `schema` is DDL optionally followed by INSERTs; `db` a .sqlite file to run on."""

    question: str
    schema: str | None = None
    dialect: str = "sqlite"
    run: bool = False
    db: str | Path | None = None


@dataclass
class Answer:
    question: str
    sql: str  # in the requested dialect
    model_sql: str  # as the model wrote it (SQLite); what the sandbox runs
    dialect: str
    validation: Validation
    unknown: list[Unknown] = field(default_factory=list)
    result: RunResult | None = None
    generation: gen.Generation | None = None
    model_name: str = ""
    candidates_tried: int = 1  # answers generated for it (execution-guided selection)
    selection_s: float = 0.0  # seconds spent on the extra candidates
    constrained: bool = False  # decoded under schema constraints (nl2sql.constrain)

    @property
    def ok(self) -> bool:
        return self.validation.ok and not self.unknown and (self.result is None or self.result.ok)


def check_request(req: Request) -> None:
    """ValueError with a one-line message for input that cannot be answered."""
    if not req.question or not req.question.strip():
        raise ValueError("the question is empty")
    if req.schema and not parse_schema(req.schema).tables:  # parse_schema raises SchemaError itself
        raise SchemaError("the schema has no CREATE TABLE statement")


Model = Backend | LoadedModel  # a LoadedModel answers through the transformers backend


def as_backend(lm: Model) -> Backend:
    return TransformersBackend(lm) if isinstance(lm, LoadedModel) else lm


def _prompt(lm: Model, req: Request) -> str:
    ddl = split_ddl(req.schema)[0] if req.schema else None
    return build_prompt(req.question, ddl, lm.tokenizer)


def _names(lm: Backend, req: Request, constrain: bool) -> Names | None:
    """The schema names to constrain decoding to, or None (off, no schema, or a backend that cannot)."""
    if not (constrain and req.schema and lm.can_constrain):
        return None
    return names_or_none(split_ddl(req.schema)[0])


def finish(lm: Model, req: Request, generation: gen.Generation, names: Names | None = None) -> Answer:
    """Everything after generation: validate, transpile, ground, run."""
    model_sql = generation.sql
    validation = validate(model_sql, MODEL_DIALECT)
    sql = model_sql
    if validation.ok and req.dialect != MODEL_DIALECT:
        sql, errors = transpile(model_sql, MODEL_DIALECT, req.dialect)
        validation = Validation(not errors, [SqlError(f"transpile to {req.dialect}: {e}") for e in errors])
    unknown = ground(model_sql, split_ddl(req.schema)[0], MODEL_DIALECT) if req.schema and validation.ok else []
    result = None
    if req.run and validation.ok and (req.schema or req.db):
        result = run_sql(model_sql, schema=None if req.db else req.schema, db_path=req.db)
    return Answer(req.question, sql, model_sql, req.dialect, validation, unknown, result, generation, lm.name,
                  constrained=names is not None)


def unsteered_if_unparsable(lm: Backend, req: Request, prompt: str, ans: Answer, max_new_tokens: int) -> Answer:
    """A constrained answer that does not parse gives way to the unconstrained greedy one, if that parses.
    Prose is never constrained, so an answer that did not start as SQL would only come back the same."""
    if not ans.constrained or ans.validation.ok or ans.generation is None or sql_region(ans.generation.text) is None:
        return ans
    free = finish(lm, req, lm.generate(prompt, max_new_tokens))
    return free if free.validation.ok else ans


def passes(ans: Answer, req: Request) -> bool:
    """The checks of execution-guided selection: parses, is grounded, runs without error where it can run."""
    if not ans.validation.ok or not ans.model_sql or ans.unknown:
        return False
    if ans.result is not None:
        return ans.result.ok
    if not (req.schema or req.db):
        return True
    return run_sql(ans.model_sql, schema=None if req.db else req.schema, db_path=req.db or None,
                   copy=bool(req.db) and not is_query(ans.model_sql)).ok


def select(lm: Backend, req: Request, prompt: str, first: Answer, candidates: int, max_new_tokens: int,
           names: Names | None = None) -> Answer:
    """`first` if it passes; else the first of up to candidates - 1 sampled answers that does (or `first`)."""
    if candidates <= 1 or passes(first, req):
        return first
    start, chosen, k = time.perf_counter(), first, 0
    for k in range(1, candidates):
        ans = finish(lm, req, lm.generate(prompt, max_new_tokens, gen.Sampling(seed=k), names), names)
        if passes(ans, req):
            chosen = ans
            break
    chosen.candidates_tried, chosen.selection_s = k + 1, time.perf_counter() - start
    return chosen


def answer(lm: Model, question: str, schema: str | None = None, dialect: str = "sqlite",
           run: bool = False, db: str | Path | None = None,
           max_new_tokens: int = gen.DEFAULT_MAX_NEW_TOKENS, candidates: int = 1,
           constrain: bool = DEFAULT_CONSTRAIN) -> Answer:
    """Answer one question (see Request for the arguments)."""
    return answer_batch(lm, [Request(question, schema, dialect, run, db)], max_new_tokens, batch_size=1,
                        candidates=candidates, constrain=constrain)[0]


def answer_batch(lm: Model, requests: list[Request], max_new_tokens: int = gen.DEFAULT_MAX_NEW_TOKENS,
                 batch_size: int = 8, candidates: int = 1, constrain: bool = DEFAULT_CONSTRAIN) -> list[Answer]:
    """Answer many requests with batched generation; one Answer per request, in order."""
    for req in requests:
        check_request(req)
    lm = as_backend(lm)
    prompts = [_prompt(lm, r) for r in requests]
    names = [_names(lm, r, constrain) for r in requests]
    generations = lm.generate_batch(prompts, max_new_tokens, batch_size, names)
    firsts = [unsteered_if_unparsable(lm, r, p, finish(lm, r, g, n), max_new_tokens)
              for r, p, g, n in zip(requests, prompts, generations, names)]
    return [select(lm, r, p, a, candidates, max_new_tokens, n) for r, p, a, n in zip(requests, prompts, firsts, names)]


def answer_stream(lm: Model, req: Request, max_new_tokens: int = gen.DEFAULT_MAX_NEW_TOKENS,
                  candidates: int = 1, constrain: bool = DEFAULT_CONSTRAIN) -> Iterator[gen.Generation | Answer]:
    """Yield partial Generations while the model writes, then the final Answer."""
    check_request(req)
    lm = as_backend(lm)
    prompt, last, names = _prompt(lm, req), None, _names(lm, req, constrain)
    for last in lm.stream(prompt, max_new_tokens, names=names):
        if not last.done:
            yield last
    first = unsteered_if_unparsable(lm, req, prompt, finish(lm, req, last, names), max_new_tokens)
    yield select(lm, req, prompt, first, candidates, max_new_tokens, names)
