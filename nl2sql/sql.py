"""The SQL toolkit (sqlglot): extract SQL from model text, validate, pretty-print, transpile, ground.

All functions are pure. Errors come back as dataclasses, never as exceptions, so the app, the CLI
and evaluation can show them as they are.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from nl2sql.schema import Schema, SchemaError, Table, parse_schema, readable

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


@dataclass(frozen=True)
class Unknown:
    """A table or column the query names that the schema does not have."""

    kind: str  # "table" | "column"
    name: str
    suggestion: str | None = None

    def __str__(self) -> str:
        hint = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        return f"unknown {self.kind} {self.name}{hint}"


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
            from nl2sql.fit import fit_to_schema  # it builds on this module

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


def _closest(name: str, candidates: list[str]) -> str | None:
    by_lower = {c.lower(): c for c in candidates}
    hits = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.5)
    return by_lower[hits[0]] if hits else None


def _query_tables(tree: exp.Expression) -> tuple[dict[str, str], set[str]]:
    """({alias or name (lower) -> table name}, CTE/derived names (lower)) for every table reference."""
    local = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    local |= {s.alias.lower() for s in tree.find_all(exp.Subquery) if s.alias}
    aliases = {}
    for t in tree.find_all(exp.Table):
        aliases[t.name.lower()] = t.name
        if t.alias:
            aliases[t.alias.lower()] = t.name
    return aliases, local


def _unknown_column(col: exp.Column, schema: Schema, aliases: dict, local: set, tables: list) -> Unknown | None:
    qualifier = col.table.lower()
    if qualifier in local:
        return None
    if qualifier and qualifier not in aliases:  # a qualifier no table of the query is named or aliased as
        scope = [(a, schema.table(t)) for a, t in aliases.items() if schema.table(t)]
        return Unknown("column", f"{col.table}.{col.name}",
                       _closest(f"{col.table}.{col.name}", [f"{a}.{c.name}" for a, t in scope for c in t.columns]))
    if qualifier:
        table = schema.table(aliases[qualifier])
        if table is None or table.column(col.name):
            return None  # an unknown table is reported once, as a table
        return Unknown("column", f"{table.name}.{col.name}",
                       _closest(f"{table.name}.{col.name}", [f"{table.name}.{c.name}" for c in table.columns]))
    if any(t.column(col.name) for t in tables) or not tables:
        return None
    # Suggest from the query's tables first, then from any table (the column may live in one not joined).
    for pool in (tables, schema.tables):
        real = {c.name: f"{t.name}.{c.name}" for t in reversed(pool) for c in t.columns}
        best = _closest(col.name, list(real))
        if best:
            return Unknown("column", col.name, real[best])
    return Unknown("column", col.name)


def ground(sql: str, schema: Schema | str, dialect: str = "sqlite") -> list[Unknown]:
    """Tables and columns that `sql` names but the schema lacks, each with the closest real name.

    Raises SchemaError when a DDL string does not parse; an unparsable query yields [] (validate
    reports it).
    """
    schema = parse_schema(schema, dialect) if isinstance(schema, str) else schema
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except (ParseError, TokenError, ValueError, RecursionError):
        return []
    aliases, local = _query_tables(tree)
    names = [t.name for t in schema.tables]
    unknown, seen = [], set()
    for ref in tree.find_all(exp.Table):
        if ref.name.lower() not in local and schema.table(ref.name) is None and ref.name.lower() not in seen:
            seen.add(ref.name.lower())
            unknown.append(Unknown("table", ref.name, _closest(ref.name, names)))
    used = [schema.table(n) for n in aliases.values() if schema.table(n)]
    select_aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)}
    for col in tree.find_all(exp.Column):
        if not col.table and col.name.lower() in select_aliases or isinstance(col.this, exp.Star):
            continue
        miss = _unknown_column(col, schema, aliases, local, used)
        if miss and dialect == "sqlite" and not col.table and isinstance(col.this, exp.Identifier) and col.this.quoted:
            continue  # SQLite reads a double-quoted word that names no column as a string: "France"
        if miss and miss.name.lower() not in seen:
            seen.add(miss.name.lower())
            unknown.append(miss)
    return unknown


def _scope_tables(col: exp.Column, schema: Schema, local: set[str]) -> list[tuple[str, Table]]:
    """(the name it goes by, schema table) for each schema table in the FROM and JOINs of the SELECT that holds
    `col` (not of its subqueries), in query order."""
    select = col.find_ancestor(exp.Select)
    if select is None:
        return []
    out = []
    for t in select.find_all(exp.Table):
        table = schema.table(t.name)
        if table is not None and t.name.lower() not in local and t.find_ancestor(exp.Select) is select:
            out.append((t.alias or t.name, table))
    return out


def _equated(tree: exp.Expression, column: str, names: list[str]) -> bool:
    """Whether the query equates `column` across all of `names` (ON a.x = b.x): then any of them gives the same value."""
    linked = {names[0].lower()}
    pairs = [(eq.left, eq.right) for eq in tree.find_all(exp.EQ)
             if isinstance(eq.left, exp.Column) and isinstance(eq.right, exp.Column)
             and eq.left.name.lower() == column and eq.right.name.lower() == column]
    for _ in names:
        for a, b in pairs:
            if a.table.lower() in linked or b.table.lower() in linked:
                linked |= {a.table.lower(), b.table.lower()}
    return all(n.lower() in linked for n in names)


def requalify(sql: str, schema: Schema, dialect: str = "sqlite") -> tuple[str, list[str]]:
    """`sql` with each column qualifier that names no table of the query (T3.name where FROM has only T1 and
    T2) replaced by the name or alias of the table of its SELECT that has that column, and the changes
    ("T3.name -> T2.name"). A small model often numbers its aliases one too far in joins; the query then fails
    with "no such column". Where several tables have the column, only a join key that the query equates
    across them (ON T1.id = T2.id) is mended, to the first of them: any gives the same value. Nothing changes
    otherwise, nor in an unparsable query; the SQL is rewritten (sqlglot's spelling) only when something did."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except (ParseError, TokenError, ValueError, RecursionError):
        return sql, []
    aliases, local = _query_tables(tree)
    changes = []
    for col in list(tree.find_all(exp.Column)):
        qualifier = col.table.lower()
        if not qualifier or qualifier in aliases or qualifier in local or isinstance(col.this, exp.Star):
            continue
        owners = list(dict.fromkeys(name for name, table in _scope_tables(col, schema, local) if table.column(col.name)))
        if len(owners) == 1 or (len(owners) > 1 and _equated(tree, col.name.lower(), owners)):
            changes.append(f"{col.table}.{col.name} -> {owners[0]}.{col.name}")
            col.set("table", exp.to_identifier(owners[0]))
    if not changes:
        return sql, []
    return tree.sql(dialect=dialect), list(dict.fromkeys(changes))


__all__ = ["DIALECTS", "SqlError", "Validation", "Unknown", "SchemaError", "statement_end", "statement_complete", "extract",
           "validate", "pretty", "transpile", "ground", "requalify", "is_query", "changes_data", "sql_region"]
