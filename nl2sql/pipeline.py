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
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from nl2sql.backends.base import DEFAULT_MAX_NEW_TOKENS, Backend, Generation, Sampling
from nl2sql.choose import vote
from nl2sql.constrain import Names, names_or_none
from nl2sql.database import DatabaseError, database_schema, dialect_of, open_database, sqlite_path
from nl2sql.joins import with_inferred_keys
from nl2sql.link import Linking, link
from nl2sql.prompt import build_prompt
from nl2sql.sandbox import RunResult, run as run_sandbox
from nl2sql.schema import PreparedSchema, Schema, SchemaError, prepare_schema
from nl2sql.sql import SqlError, Unknown, Validation, changes_data, ground, requalify, sql_region, transpile, validate
from nl2sql.values import IndexCache, ValueHit, build_index, by_column

MODEL_DIALECT = "sqlite"
DEFAULT_CANDIDATES = 1  # 4 lifts grounded answers, not correct ones, at ~1.5x the time (docs/evaluation-and-decoding.md)
DEFAULT_CONSTRAIN = True  # schema-constrained decoding (docs/evaluation-and-decoding.md)
DEFAULT_LINK = True  # schema linking (docs/linking.md)
DEFAULT_VALUES = True  # value hints in the prompt: the shipped model was trained with them and gains (docs/linking.md)
DEFAULT_INFER_KEYS = False  # keys inferred from names where a table pair declares none (nl2sql.joins)
DEFAULT_FOLLOW_KEYS = False  # constrained JOIN/ON follow the join graph (nl2sql.constrain.joining)
DEFAULT_VOTES = 1  # voting costs votes x the time (docs/evaluation-and-decoding.md)
_VALUE_INDEXES = IndexCache()  # one per database or pasted schema with rows


@dataclass
class Request:
    """One question. `schema`: DDL, optionally followed by INSERT rows; `context`: more rows kept apart
    (canonical data rows carry them so); `db`: a SQLite file, or a database URL (postgresql://...,
    duckdb:///file.duckdb, mysql://...; nl2sql.database), whose own schema is used when `schema` is
    None. `run`: None runs when there is data. `dialect`: of the SQL shown; None: the database's own
    (sqlite for a file or a pasted schema)."""

    question: str
    schema: str | None = None
    dialect: str | None = None  # of the SQL shown (None: the database's own)
    run: bool | None = None
    db: str | Path | None = None
    context: str | None = None
    snapshot: bool = False  # a statement that changes data also returns every table's rows (evaluation)
    tables: list[str] | None = None  # show the model exactly these tables (else schema linking chooses)


@dataclass(frozen=True, kw_only=True)
class Decoding:
    """How to decode; the same for every request of a call. Fields by name only: a positional call once
    sent --votes into `values` (and --values into `votes`)."""

    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    constrain: bool = DEFAULT_CONSTRAIN
    candidates: int = DEFAULT_CANDIDATES
    batch_size: int = 8
    link: bool = DEFAULT_LINK  # schema linking: show the model the tables the question needs (nl2sql.link)
    values: bool = DEFAULT_VALUES  # show the values the question names beside their columns (nl2sql.values)
    votes: int = DEFAULT_VOTES  # > 1: greedy + votes-1 samples, run, the most common result wins (nl2sql.choose)
    infer_keys: bool = DEFAULT_INFER_KEYS  # keys inferred from names where a table pair declares none (nl2sql.joins)
    follow_keys: bool = DEFAULT_FOLLOW_KEYS  # constrained JOIN/ON follow the join graph (nl2sql.constrain.joining)

    @classmethod
    def from_args(cls, args) -> "Decoding":
        """The decoding a command line asked for: each field from the attribute of the same name, where
        `args` (an argparse.Namespace) has one; the default otherwise."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)})


@dataclass
class Answer:
    question: str
    sql: str  # in the requested dialect
    model_sql: str  # as the model wrote it (SQLite), qualifiers mended (requalified); what the sandbox runs
    dialect: str
    validation: Validation
    unknown: list[Unknown] = field(default_factory=list)
    result: RunResult | None = None
    generation: Generation | None = None
    model_name: str = ""
    candidates_tried: int = 1  # answers generated for it (execution-guided selection)
    selection_s: float = 0.0  # seconds spent on the extra candidates
    constrained: bool = False  # decoded under schema constraints (nl2sql.constrain)
    changes_data: bool = False  # INSERT/UPDATE/DELETE/DDL: runs only on a private copy
    linking: Linking | None = None  # the tables the prompt showed (None: no schema)
    votes: tuple[int, int] | None = None  # (answers that agreed with this one, answers generated) when voting
    requalified: list[str] = field(default_factory=list)  # qualifiers mended, "T3.name -> T2.name" (sql.requalify)

    @property
    def ok(self) -> bool:
        return self.validation.ok and not self.unknown and (self.result is None or self.result.ok)


@dataclass(frozen=True)
class Prepared:
    """A request read once: its schema, the prompt and the names that constrain decoding."""

    request: Request
    schema: PreparedSchema | None
    prompt: str
    names: Names | None
    linking: Linking | None = None


def shown_dialect(req: Request) -> str:
    """The dialect of the SQL an answer shows: the request's, else its database's, else SQLite."""
    return req.dialect or (dialect_of(req.db) if req.db else MODEL_DIALECT)


def _server(req: Request) -> bool:
    """Whether the request's data is a database server or DuckDB file (not SQLite: the sandbox runs that)."""
    return bool(req.db) and sqlite_path(req.db) is None


def _fit(req: Request, schema: PreparedSchema | None) -> dict:
    """How SQLite SQL is fitted to the schema when written in another dialect (nl2sql.fit): on a
    database, to the schema read from it (exact spellings, so names are respelled as it spells them);
    else to the request's schema (strings and types only: a pasted DDL's spelling may not be the stored one)."""
    if _server(req):
        return {"schema": prepare_schema(database_schema(req.db)).parsed, "respell": True}
    return {"schema": schema.parsed if schema else None, "respell": False}


def read_schema_of(req: Request) -> PreparedSchema | None:
    """The request's schema (else its database's), read once (cached); ValueError/SchemaError/
    DatabaseError with a one-line message."""
    if not req.question or not req.question.strip():
        raise ValueError("the question is empty")
    if req.schema is None or not req.schema.strip():
        return prepare_schema(database_schema(req.db)) if req.db else None
    return prepare_schema(req.schema)


def check_request(req: Request) -> None:
    """ValueError (SchemaError for the schema) with a one-line message for input that cannot be answered."""
    read_schema_of(req)


def value_hits(req: Request, schema: PreparedSchema) -> list[ValueHit]:
    """The stored values the question names (nl2sql.values), from an index built once per database."""
    path = sqlite_path(req.db)
    if _server(req):
        key = ("url", str(req.db))
    elif path is not None:
        stat = path.stat() if path.is_file() else None
        key = ("file", str(path.resolve()), stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)
    else:
        key = ("schema", schema.text, req.context or "")
    data = Request(req.question, req.schema, db=req.db, context=req.context)
    index = _VALUE_INDEXES.get(key, lambda: build_index(lambda sql: execute(sql, data, schema), schema.parsed))
    return index.find(req.question)


def shown_tables(req: Request, schema: PreparedSchema, decoding: Decoding,
                 hits: list[ValueHit] = ()) -> Linking:
    """The tables the prompt shows: the request's own choice, else schema linking's (keeping the tables
    that hold values the question names), else all."""
    names = schema.table_names
    if req.tables:
        wanted = {t.strip().lower() for t in req.tables if t.strip()}
        unknown = wanted - {n.lower() for n in names}
        if unknown:
            raise ValueError(f"no such table in the schema: {', '.join(sorted(unknown))}")
        shown = [n for n in names if n.lower() in wanted]
        return Linking(shown, total=len(names))
    if not decoding.link:
        return Linking(names, total=len(names))
    return link(req.question, schema.parsed, always={h.table.lower() for h in hits})


def prepare(lm: Backend, req: Request, decoding: Decoding) -> Prepared:
    schema = read_schema_of(req)
    if schema is None:
        return Prepared(req, None, build_prompt(req.question, None, lm.tokenizer), None)
    if decoding.infer_keys:
        schema = replace(schema, parsed=with_inferred_keys(schema.parsed))
    hits = value_hits(req, schema) if decoding.values and has_data(req, schema) else []
    linking = shown_tables(req, schema, decoding, hits)
    shown_hits = [h for h in hits if h.table in linking.tables]
    linking = replace(linking, values=tuple(shown_hits))
    prompt = build_prompt(req.question, schema.parsed, lm.tokenizer, tables=linking.tables,
                          values=by_column(shown_hits))
    shown = Schema([t for t in schema.parsed.tables if t.name in linking.tables])
    names = names_or_none(shown, joins=decoding.follow_keys) if decoding.constrain and lm.can_constrain else None
    return Prepared(req, schema, prompt, names, linking)


def has_data(req: Request, schema: PreparedSchema | None) -> bool:
    """Whether there are rows to run on: a database, or rows in the schema or the request's context."""
    return bool(req.db or (schema and (schema.has_rows or (req.context or "").strip())))


def wants_run(req: Request, schema: PreparedSchema | None) -> bool:
    if req.run is not None:
        return req.run and bool(schema or req.db)
    return has_data(req, schema)


def execute(sql: str, req: Request, schema: PreparedSchema | None, dialect: str = MODEL_DIALECT) -> RunResult | None:
    """Run `sql` (written in `dialect`) where the request's data lives; None when it has none. The one
    place that decides: a database server or DuckDB file in its own dialect, read-only by the database
    (nl2sql.database); a SQLite file read-only (a private in-memory copy for DML); else an in-memory
    database built from the schema's DDL and rows."""
    if _server(req):
        try:
            db, fit = open_database(str(req.db)), _fit(req, schema)
        except DatabaseError as e:  # it went away since its schema was read
            return RunResult(error=str(e), private=False)
        target, errors = transpile(sql, dialect, db.dialect, **fit)
        if errors:
            return RunResult(error=f"cannot be written in {db.dialect}: {errors[0]}", private=False)
        return db.run(target)
    if dialect != MODEL_DIALECT:
        sql, errors = transpile(sql, dialect, MODEL_DIALECT)
        if errors:
            return RunResult(error=f"the SQL does not parse as {dialect}: {errors[0]}")
    dml = changes_data(sql)
    snap = req.snapshot and dml
    if req.db:
        return run_sandbox(sql, db_path=sqlite_path(req.db), copy=dml, with_snapshot=snap)
    if schema is not None:
        rows = "".join(part for part in (schema.context, req.context) if part)
        return run_sandbox(sql, schema=schema.ddl, context=rows or None, with_snapshot=snap)
    return None


def run_sql(sql: str, req: Request) -> RunResult:
    """Run SQL written in the request's dialect (a user's edit, a gold query) on the request's data."""
    if not (req.schema and req.schema.strip()) and not req.db:
        raise ValueError("there is no data to run on: give a schema (CREATE TABLE + INSERT rows) or a database")
    schema = read_schema_of(Request(req.question or "-", req.schema, db=req.db))
    dialect = shown_dialect(req)
    target = dialect_of(req.db) if _server(req) else MODEL_DIALECT
    if dialect != target:
        _, errors = transpile(sql, dialect, target)
        if errors:
            raise ValueError(f"the SQL does not parse as {dialect}: {errors[0]}")
    return execute(sql, req, schema, dialect)


def finish(lm: Backend, p: Prepared, generation: Generation, constrained: bool = False) -> Answer:
    """Everything after generation: validate, transpile, ground, run."""
    req, model_sql = p.request, generation.sql
    validation = validate(model_sql, MODEL_DIALECT)
    requalified: list[str] = []
    if validation.ok and p.schema:
        model_sql, requalified = requalify(model_sql, p.schema.parsed, MODEL_DIALECT)
    sql, dialect = model_sql, shown_dialect(req)
    if validation.ok and dialect != MODEL_DIALECT:
        sql, errors = transpile(model_sql, MODEL_DIALECT, dialect, **_fit(req, p.schema))
        validation = Validation(not errors, [SqlError(f"transpile to {dialect}: {e}") for e in errors])
    unknown = ground(model_sql, p.schema.parsed, MODEL_DIALECT) if p.schema and validation.ok else []
    result = execute(model_sql, req, p.schema) if validation.ok and wants_run(req, p.schema) else None
    return Answer(req.question, sql, model_sql, dialect, validation, unknown, result, generation, lm.name,
                  constrained=constrained, changes_data=validation.ok and changes_data(model_sql), linking=p.linking,
                  requalified=requalified)


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


def _complete(lm: Backend, p: Prepared, generation: Generation, decoding: Decoding) -> Answer:
    first = unsteered_if_unparsable(lm, p, finish(lm, p, generation, constrained=p.names is not None), decoding)
    if decoding.votes > 1 and has_data(p.request, p.schema):
        return by_votes(lm, p, first, decoding)
    return select(lm, p, first, decoding)


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
    return [_complete(lm, p, g, decoding) for p, g in zip(prepared, generations)]


def answer_stream(lm: Backend, request: Request, decoding: Decoding = Decoding()) -> Iterator[Generation | Answer]:
    """Yield partial Generations while the model writes, then the final Answer."""
    lm = _backend(lm)
    p, last = prepare(lm, request, decoding), None
    for last in lm.stream(p.prompt, decoding.max_new_tokens, names=p.names):
        if not last.done:
            yield last
    yield _complete(lm, p, last, decoding)


__all__ = ["Answer", "Decoding", "Request", "SchemaError", "answer", "answer_batch", "answer_stream", "execute",
           "run_sql"]
