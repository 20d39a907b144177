"""The SQL toolkit (sqlglot): extract SQL from model text, validate, pretty-print, transpile, ground.

All functions are pure. Errors come back as dataclasses, never as exceptions, so the app, the CLI
and evaluation can show them as they are. Grounding (`ground`, `requalify`, `Unknown`) lives in
nl2sql.grounding and fitting to another database in nl2sql.fit; both are re-exported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from nl2sql.fit import fit_to_schema
from nl2sql.grounding import Unknown, ground, requalify  # noqa: F401 - re-exported: callers import them from here
from nl2sql.schema import Schema, SchemaError, readable  # noqa: F401 - SchemaError is re-exported

DIALECTS = ("sqlite", "postgres", "mysql", "bigquery", "snowflake", "tsql", "duckdb", "oracle", "spark", "trino")

# Roots that are statements; sqlglot happily parses prose such as "Here is the query" as an alias.
_STATEMENTS = (exp.Query, exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Alter, exp.Merge,
               exp.TruncateTable)
_START = re.compile(r"\b(WITH|SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|REPLACE)\b", re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_QUERY_HEADS = ("SELECT", "WITH", "VALUES", "(")
_PROSE_LINE = re.compile(r"^\s*(this|the|it|here|note|explanation|in this|output|result)\b[^;]*[:.]?\s*$",
                         re.IGNORECASE)


@dataclass(frozen=True)
class SqlError:
    message: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, col {self.col}: " if self.line is not None else ""
        return f"{where}{self.message}"


@dataclass
class Validation:
    ok: bool
    errors: list[SqlError] = field(default_factory=list)


def statement_end(text: str) -> int | None:
    """Index just past the first ';' that is outside quotes and comments, or None."""
    quote, i, n = None, 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"`":
            quote = ch
        elif ch == "[":
            quote = "]"
        elif text.startswith("--", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        elif ch == ";":
            return i + 1
        i += 1
    return None


_WRITE_HEADS = ("INSERT", "UPDATE", "DELETE", "DROP", "CREATE", "ALTER", "REPLACE", "TRUNCATE", "MERGE")


def _reads_only(sql: str, dialect: str) -> bool | None:
    """True/False when `sql` parses (every statement a query, VALUES or PRAGMA), None when it does not."""
    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
    except (ParseError, TokenError, ValueError, RecursionError):
        return None
    return bool(trees) and all(isinstance(t, (exp.Query, exp.Values, exp.Pragma)) for t in trees)


# The statements schema-constrained decoding knows how to check (nl2sql.constrain): SQL it steers starts so.
CONSTRAINED_STARTS = ("select", "with", "insert", "update", "delete")


def sql_region(text: str) -> str | None:
    """The part of model output that is SQL so far, or None while it is (or may still be) prose.

    SQL starts at the beginning of the answer (after an optional ``` fence) with a statement keyword;
    it ends at the first ';' outside quotes or at a closing fence (the rest is not constrained).
    """
    body = text.lstrip()
    if body.startswith("`"):
        if not body.startswith("```") or "\n" not in body:
            return None
        body = body.split("\n", 1)[1].lstrip()
    head = re.match(r"[A-Za-z]*", body).group(0).lower()
    if len(head) == len(body):  # the first word is still being written
        return body if any(s.startswith(head) for s in CONSTRAINED_STARTS) and head else None
    return body if head in CONSTRAINED_STARTS else None


def is_query(sql: str, dialect: str = "sqlite") -> bool:
    """Whether every statement only reads, so it can run on a read-only database (`WITH ... DELETE`
    does not). Unparsable text is judged by its first word."""
    reads = _reads_only(sql, dialect)
    return sql.lstrip().upper().startswith(_QUERY_HEADS) if reads is None else reads


def changes_data(sql: str, dialect: str = "sqlite") -> bool:
    """Whether a statement changes data or schema (INSERT, UPDATE, DELETE, DROP, CREATE, ...)."""
    reads = _reads_only(sql, dialect)
    return sql.lstrip().upper().startswith(_WRITE_HEADS) if reads is None else not reads


def statement_complete(text: str) -> bool:
    """Whether model output already holds a whole statement: SQL started and was ended by ';' or a
    blank line (prose before the SQL, which may hold ';' or blank lines, does not count)."""
    start = _START.search(text)
    if not start:
        return False
    body = text[start.start():]
    return statement_end(body) is not None or re.search(r"\n[ \t]*\n", body) is not None


def _parses(sql: str, dialect: str) -> bool:
    return validate(sql, dialect).ok


def _trim_tail(sql: str, dialect: str) -> str:
    """Drop trailing prose lines; keep the longest line prefix that parses, if any does."""
    lines = sql.splitlines()
    while len(lines) > 1 and _PROSE_LINE.match(lines[-1]):
        lines.pop()
    for end in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:end]).strip()
        if _parses(candidate, dialect):
            return candidate
    return "\n".join(lines).strip()


def extract(text: str, dialect: str = "sqlite", trim: bool = True) -> str:
    """The first SQL statement in model output: fences, prose and trailing junk removed, no ';'.
    trim=False skips the parse-based trimming of an unterminated tail: cheap, for partial output
    shown while the model is still writing."""
    fences = [m.group(2) for m in _FENCE.finditer(text) if _START.search(m.group(2))]
    body = fences[0] if fences else text
    start = _START.search(body)
    if not start:
        return ""
    body = body[start.start():]
    end = statement_end(body)
    if end is not None:
        return body[: end - 1].strip().strip("`").strip()
    # No terminator: the statement ends at the first blank line (prose usually follows one).
    body = re.split(r"\n\s*\n", body, maxsplit=1)[0].strip().rstrip("`").strip()
    return _trim_tail(body, dialect) if trim else body


def _error(err: dict) -> SqlError:
    return SqlError(readable(err.get("description", "")), err.get("line"), err.get("col"))


def validate(sql: str, dialect: str = "sqlite") -> Validation:
    """Parse `sql` with sqlglot for `dialect`; every error with its message, line and column."""
    if not sql or not sql.strip():
        return Validation(False, [SqlError("empty query")])
    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
    except ParseError as e:
        return Validation(False, [_error(x) for x in e.errors] or [SqlError(str(e))])
    except TokenError as e:
        return Validation(False, [SqlError(f"cannot tokenize: {e}")])
    except RecursionError:  # pathological nesting, e.g. a model repeating "(" until its token cap
        return Validation(False, [SqlError("the query is nested too deeply to parse")])
    except ValueError as e:  # unknown dialect
        return Validation(False, [SqlError(str(e))])
    bad = [t for t in trees if not isinstance(t, _STATEMENTS)]
    if not trees or bad:
        text = bad[0].sql(dialect)[:60] if bad else sql[:60]
        return Validation(False, [SqlError(f"not a SQL statement: {text!r}", 1, 1)])
    return Validation(True)


def pretty(sql: str, dialect: str = "sqlite") -> str:
    """Pretty-printed SQL; the input unchanged when it does not parse."""
    try:
        return ";\n\n".join(sqlglot.transpile(sql, read=dialect, write=dialect, pretty=True))
    except (ParseError, TokenError, ValueError, RecursionError):
        return sql


def transpile(sql: str, read: str = "sqlite", write: str = "sqlite", pretty: bool = False,
              schema: Schema | None = None, respell: bool = False) -> tuple[str, list[SqlError]]:
    """(`sql` rewritten for `write`, errors); on errors the text is the input unchanged. With a
    `schema`, SQLite SQL is fitted to it for another dialect (fit_to_schema: double-quoted strings;
    with `respell`, names as the database spells them)."""
    if read == write and not pretty:
        return sql, []
    try:
        if schema is not None and read == "sqlite" and write != "sqlite":
            trees = [fit_to_schema(t, schema, respell) for t in sqlglot.parse(sql, read=read) if t is not None]
            out = [t.sql(write, pretty=pretty, unsupported_level=sqlglot.ErrorLevel.RAISE) for t in trees]
        else:
            out = sqlglot.transpile(sql, read=read, write=write, pretty=pretty,
                                    unsupported_level=sqlglot.ErrorLevel.RAISE)
        return ";\n".join(out), []
    except ParseError as e:
        return sql, [_error(x) for x in e.errors] or [SqlError(str(e))]
    except (TokenError, ValueError, sqlglot.errors.UnsupportedError) as e:
        return sql, [SqlError(str(e))]
    except RecursionError:
        return sql, [SqlError("the query is nested too deeply to parse")]


__all__ = ["DIALECTS", "SqlError", "Validation", "Unknown", "SchemaError", "statement_end", "statement_complete", "extract",
           "validate", "pretty", "transpile", "ground", "requalify", "is_query", "changes_data", "sql_region"]
