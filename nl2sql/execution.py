"""Where and how a request's SQL runs, and everything after generation (`finish`: validate, mend
qualifiers, transpile, ground, run). `execute` is the one place that decides where SQL runs; split from
nl2sql.pipeline, which re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from nl2sql.backends.base import Backend, Generation
from nl2sql.database import DatabaseError, database_schema, dialect_of, open_database, sqlite_path
from nl2sql.request import MODEL_DIALECT, Answer, Prepared, Request
from nl2sql.mend import mend_literals
from nl2sql.sandbox import RunResult, run as run_sandbox
from nl2sql.schema import PreparedSchema, prepare_schema
from nl2sql.sql import SqlError, Validation, changes_data, ground, requalify, transpile, validate


@dataclass(frozen=True)
class Location:
    """Where a request's data lives: `path`, a SQLite file (run by the sandbox); `server`, a database server
    or DuckDB file (run in its own dialect by nl2sql.database); neither: the rows of its schema or context."""

    path: Path | None
    server: bool


@lru_cache(maxsize=64)
def locate(db) -> Location:
    """Where the data of a request whose `db` is this lives. Worked out once per value: a request asks
    several times (its value index, each run, fitting to another dialect)."""
    path = sqlite_path(db)
    return Location(path, bool(db) and path is None)


def shown_dialect(req: Request) -> str:
    """The dialect of the SQL an answer shows: the request's, else its database's, else SQLite."""
    return req.dialect or (dialect_of(req.db) if req.db else MODEL_DIALECT)


def _fit(req: Request, schema: PreparedSchema | None) -> dict:
    """How SQLite SQL is fitted to the schema when written in another dialect (nl2sql.fit): on a
    database, to the schema read from it (exact spellings, so names are respelled as it spells them);
    else to the request's schema (strings and types only: a pasted DDL's spelling may not be the stored one)."""
    if locate(req.db).server:
        return {"schema": prepare_schema(database_schema(req.db)).parsed, "respell": True}
    return {"schema": schema.parsed if schema else None, "respell": False}


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
    where = locate(req.db)
    if where.server:
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
        return run_sandbox(sql, db_path=where.path, copy=dml, with_snapshot=snap)
    if schema is not None:
        rows = "".join(part for part in (schema.context, req.context) if part)
        return run_sandbox(sql, schema=schema.ddl, context=rows or None, with_snapshot=snap)
    return None


def finish(lm: Backend, p: Prepared, generation: Generation, constrained: bool = False) -> Answer:
    """Everything after generation: validate, transpile, ground, run."""
    req, model_sql = p.request, generation.sql
    validation = validate(model_sql, MODEL_DIALECT)
    requalified: list[str] = []
    literals: list[str] = []
    if validation.ok and p.schema:
        model_sql, requalified = requalify(model_sql, p.schema.parsed, MODEL_DIALECT)
        model_sql, literals = mend_literals(model_sql, p.schema.parsed, p.holders, MODEL_DIALECT)
    sql, dialect = model_sql, shown_dialect(req)
    if validation.ok and dialect != MODEL_DIALECT:
        sql, errors = transpile(model_sql, MODEL_DIALECT, dialect, **_fit(req, p.schema))
        validation = Validation(not errors, [SqlError(f"transpile to {dialect}: {e}") for e in errors])
    unknown = ground(model_sql, p.schema.parsed, MODEL_DIALECT) if p.schema and validation.ok else []
    result = execute(model_sql, req, p.schema) if validation.ok and wants_run(req, p.schema) else None
    return Answer(req.question, sql, model_sql, dialect, validation, unknown, result, generation, lm.name,
                  constrained=constrained, changes_data=validation.ok and changes_data(model_sql), linking=p.linking,
                  requalified=requalified, literals=literals)


__all__ = ["Location", "execute", "finish", "has_data", "locate", "shown_dialect", "wants_run"]
