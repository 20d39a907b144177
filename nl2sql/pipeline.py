"""Request -> Answer: the one path the CLI, the app and evaluation all walk.

`answer(backend, Request(...), Decoding(...))` (and `answer_batch`, `answer_stream`): the request's
schema is read once (`schema.prepare_schema`) -> the tables the question needs are chosen (`link`, or
the request's own `tables`) -> `prompt.build_prompt` -> the backend generates (kept to the shown
tables' names: nl2sql.constrain) -> `sql.extract` -> validate (-> transpile) -> ground -> run where
the request's data lives (`execute`: the only place that decides where and how SQL runs) -> select.
The model writes SQLite; other dialects are produced by sqlglot from that.

Running: a request with data (rows in its schema or context, or a database) is run unless it says
`run=False`; on a database URL (nl2sql.database) only queries run, read-only by the database; elsewhere
a statement that changes data runs only on a private copy (an in-memory database built
from the schema, or an in-memory copy of the database file), so nothing is ever saved.

Execution-guided selection (`Decoding.candidates` > 1): when the greedy answer fails a check (does not
parse, names an unknown table or column, or errors when run), up to `candidates - 1` sampled answers
(fixed seeds, so reruns agree) are tried and the first that passes is kept; else the greedy one stands.
Voting (`Decoding.votes` > 1, with data to run on): the greedy answer and votes-1 samples are all run
and the most common result wins (nl2sql.choose); it takes the place of selection.

Schema-constrained decoding (`Decoding.constrain`): applied when a schema is given and the backend can
(transformers, llama.cpp; not a remote server). When the constrained answer does not parse, the model's
own greedy answer is tried and kept if it parses (`constrained` then says False).

The steps live in rooms of their own, and every name callers use is re-exported here: nl2sql.request
(Request, Decoding, Answer, Prepared, the defaults), nl2sql.preparation (the request read once: schema,
values, linking, prompt), nl2sql.execution (where SQL runs; everything after generation) and
nl2sql.selection (execution-guided selection and voting).
"""

from __future__ import annotations

from collections.abc import Iterator

from nl2sql.backends.base import Backend, Generation
from nl2sql.database import dialect_of
# Re-exported: the CLI, the app, eval/, training/ and tests import these from here.
from nl2sql.execution import execute, finish, has_data, locate, shown_dialect, wants_run  # noqa: F401
from nl2sql.preparation import prepare, read_schema_of, shown_tables, value_hits  # noqa: F401
from nl2sql.request import (DEFAULT_CANDIDATES, DEFAULT_CONSTRAIN, DEFAULT_FOLLOW_KEYS,  # noqa: F401
                            DEFAULT_INFER_KEYS, DEFAULT_LINK, DEFAULT_VALUES, DEFAULT_VOTES, MODEL_DIALECT, Answer,
                            Decoding, Prepared, Request)
from nl2sql.sandbox import RunResult
from nl2sql.schema import SchemaError  # noqa: F401
from nl2sql.selection import by_votes, complete, passes, select, unsteered_if_unparsable  # noqa: F401
from nl2sql.sql import transpile


def check_request(req: Request) -> None:
    """ValueError (SchemaError for the schema) with a one-line message for input that cannot be answered."""
    read_schema_of(req)


def run_sql(sql: str, req: Request) -> RunResult:
    """Run SQL written in the request's dialect (a user's edit, a gold query) on the request's data."""
    if not (req.schema and req.schema.strip()) and not req.db:
        raise ValueError("there is no data to run on: give a schema (CREATE TABLE + INSERT rows) or a database")
    schema = read_schema_of(Request(req.question or "-", req.schema, db=req.db))
    dialect = shown_dialect(req)
    target = dialect_of(req.db) if locate(req.db).server else MODEL_DIALECT
    if dialect != target:
        _, errors = transpile(sql, dialect, target)
        if errors:
            raise ValueError(f"the SQL does not parse as {dialect}: {errors[0]}")
    return execute(sql, req, schema, dialect)


def _backend(lm) -> Backend:
    if not isinstance(lm, Backend):
        raise TypeError(f"answer() takes a Backend (nl2sql.backends.open_backend), not {type(lm).__name__}")
    return lm


def answer(lm: Backend, request: Request, decoding: Decoding = Decoding()) -> Answer:
    """Answer one request."""
    return answer_batch(lm, [request], decoding)[0]


def answer_batch(lm: Backend, requests: list[Request], decoding: Decoding = Decoding()) -> list[Answer]:
    """Answer many requests with batched generation; one Answer per request, in order."""
    lm = _backend(lm)
    prepared = [prepare(lm, r, decoding) for r in requests]
    generations = lm.generate_batch([p.prompt for p in prepared], decoding.max_new_tokens, decoding.batch_size,
                                    [p.names for p in prepared])
    return [complete(lm, p, g, decoding) for p, g in zip(prepared, generations)]


def answer_stream(lm: Backend, request: Request, decoding: Decoding = Decoding()) -> Iterator[Generation | Answer]:
    """Yield partial Generations while the model writes, then the final Answer."""
    lm = _backend(lm)
    p, last = prepare(lm, request, decoding), None
    for last in lm.stream(p.prompt, decoding.max_new_tokens, names=p.names):
        if not last.done:
            yield last
    yield complete(lm, p, last, decoding)


__all__ = ["Answer", "Decoding", "Request", "SchemaError", "answer", "answer_batch", "answer_stream", "execute",
           "run_sql"]
