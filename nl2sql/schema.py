"""Parse a database schema (DDL, optionally followed by INSERTs) into small dataclasses.

Pure logic on top of sqlglot. prompt.py renders a Schema compactly, sql.py grounds queries against
it, sandbox.py builds databases from the statements it splits off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError


class SchemaError(ValueError):
    """The schema text does not parse as DDL."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str = ""
    primary_key: bool = False


@dataclass(frozen=True)
class ForeignKey:
    column: str
    ref_table: str
    ref_column: str


@dataclass
class Table:
    name: str
    columns: list[Column] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    def column(self, name: str) -> Column | None:
        low = name.lower()
        return next((c for c in self.columns if c.name.lower() == low), None)


@dataclass
class Schema:
    tables: list[Table] = field(default_factory=list)

    def table(self, name: str) -> Table | None:
        low = name.lower()
        return next((t for t in self.tables if t.name.lower() == low), None)


def split_statements(text: str, dialect: str = "sqlite") -> list[str]:
    """Split SQL text into statements (without trailing semicolons), respecting quotes and comments."""
    try:
        tokens = sqlglot.tokenize(text, read=dialect)
    except TokenError as e:
        raise SchemaError(f"cannot tokenize the schema: {e}") from e
    out, start = [], 0
    for tok in tokens:
        if tok.token_type == sqlglot.TokenType.SEMICOLON:
            piece = text[start : tok.start].strip()
            if piece:
                out.append(piece)
            start = tok.end + 1
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


_LEADING_COMMENTS = re.compile(r"^(\s*(--[^\n]*(\n|$)|/\*.*?\*/))*", re.S)


def split_ddl(text: str, dialect: str = "sqlite") -> tuple[str, str]:
    """Split a schema text into (DDL statements, everything else such as INSERTs), both ';'-joined."""
    ddl, rest = [], []
    for stmt in split_statements(text, dialect):
        words = _LEADING_COMMENTS.sub("", stmt).lstrip("( \n\t").split(None, 1)  # empty: parentheses only
        (ddl if words and words[0].upper() in {"CREATE", "ALTER", "DROP"} else rest).append(stmt)
    join = lambda parts: "".join(p + ";\n" for p in parts)  # noqa: E731
    return join(ddl), join(rest)


def _constraint_kinds(coldef: exp.ColumnDef) -> list[exp.Expression]:
    return [c.args.get("kind") for c in coldef.args.get("constraints") or []]


def _reference(ref: exp.Reference) -> tuple[str, list[str]]:
    target = ref.this  # Schema(this=Table, expressions=[Identifier]) or a bare Table
    table = target.this if isinstance(target, exp.Schema) else target
    cols = [i.name for i in target.expressions] if isinstance(target, exp.Schema) else []
    return table.name, cols


def _table_from_create(create: exp.Create) -> Table | None:
    target = create.this
    if create.args.get("kind", "").upper() != "TABLE" or not isinstance(target, exp.Schema):
        return None
    table = Table(name=target.this.name)
    pk_names: set[str] = set()
    for item in target.expressions:
        if isinstance(item, exp.ColumnDef):
            kinds = _constraint_kinds(item)
            is_pk = any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds)
            kind = item.args.get("kind")
            table.columns.append(Column(item.name, kind.sql("sqlite") if kind else "", is_pk))
            for ref in (k for k in kinds if isinstance(k, exp.Reference)):
                ref_table, ref_cols = _reference(ref)
                table.foreign_keys.append(ForeignKey(item.name, ref_table, ref_cols[0] if ref_cols else item.name))
        elif isinstance(item, exp.PrimaryKey):
            pk_names.update(e.name.lower() for e in item.expressions)
        elif isinstance(item, exp.ForeignKey):
            ref_table, ref_cols = _reference(item.args["reference"])
            for i, col in enumerate(item.expressions):
                ref_col = ref_cols[i] if i < len(ref_cols) else col.name
                table.foreign_keys.append(ForeignKey(col.name, ref_table, ref_col))
    if pk_names:
        table.columns = [Column(c.name, c.type, c.primary_key or c.name.lower() in pk_names) for c in table.columns]
    return table


def readable(description: str) -> str:
    """sqlglot's error description with its token reprs as the text they hold ('the end' for none)."""
    return re.sub(r"<Token token_type: TokenType\.(\w+), text: ([^,]*),.*?>",
                  lambda m: "the end" if m.group(1) == "SENTINEL" else repr(m.group(2)), description)


def _one_line(e: Exception) -> str:
    """sqlglot's message on one line: the first error's description and place, without the echoed SQL."""
    errors = getattr(e, "errors", None)
    if errors:
        err = errors[0]
        where = f"line {err.get('line')}, col {err.get('col')}: " if err.get("line") else ""
        return (where + readable(str(err.get("description", "")))).strip()[:200]
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e))
    return " ".join(text.split())[:200]


def _parse_ddl(ddl: str, dialect: str) -> list[exp.Expression]:
    try:
        return [s for s in sqlglot.parse(ddl, read=dialect) if s is not None] if ddl else []
    except (ParseError, TokenError) as e:
        raise SchemaError(f"schema does not parse: {_one_line(e)}") from e
    except RecursionError as e:
        raise SchemaError("schema does not parse: nested too deeply") from e


def parse_schema(text: str, dialect: str = "sqlite") -> Schema:
    """Parse the CREATE TABLE statements of `text` (other statements are ignored).

    Raises SchemaError with sqlglot's message (one line) when a DDL statement does not parse.
    """
    statements = _parse_ddl(split_ddl(text, dialect)[0], dialect)
    tables = [t for s in statements if isinstance(s, exp.Create) for t in [_table_from_create(s)] if t]
    return Schema(tables=tables)


# DDL pasted from another database is read in the first of these dialects that parses it.
READ_DIALECTS = ("sqlite", "postgres", "mysql", "tsql", "duckdb", "snowflake", "bigquery", "oracle")


@dataclass(frozen=True)
class PreparedSchema:
    """A schema text read once per request: what prompts, constraints, grounding and the sandbox need.

    `ddl` runs in SQLite (sqlglot's SQLite rendering when the text as written does not), `context` the
    rest (INSERT rows), `read_as` the dialect the DDL was read in.
    """

    text: str
    ddl: str
    context: str
    parsed: Schema
    read_as: str = "sqlite"

    @property
    def has_rows(self) -> bool:
        return bool(self.context.strip())

    @property
    def table_names(self) -> list[str]:
        return [t.name for t in self.parsed.tables]


def _loads_in_sqlite(ddl: str) -> bool:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(ddl)
        return True
    except (sqlite3.Error, ValueError):
        return False
    finally:
        conn.close()


def _as_sqlite(statement: exp.Expression) -> str:
    statement = statement.copy()
    for table in statement.find_all(exp.Table):  # dbo.users -> users: SQLite has one schema
        table.set("db", None)
        table.set("catalog", None)
    return statement.sql("sqlite", unsupported_level=sqlglot.ErrorLevel.IGNORE)


def affinity(type_name: str) -> str:
    """SQLite's type affinity rules (https://sqlite.org/datatype3.html, 3.1) as a plain type name."""
    t = type_name.upper()
    for needles, name in ((("INT",), "INTEGER"), (("CHAR", "CLOB", "TEXT"), "TEXT"), (("BLOB",), "BLOB"),
                          (("REAL", "FLOA", "DOUB"), "REAL")):
        if any(n in t for n in needles):
            return name
    return "NUMERIC" if t else ""


def quote_ident(name: str) -> str:
    """A name as a double-quoted SQL identifier (SQLite, PostgreSQL, DuckDB and the kit's DDL text)."""
    return '"' + name.replace('"', '""') + '"'


def _plain_ddl(tables: list[Table]) -> str:
    """The tables' names, columns (by affinity) and primary keys only: DDL that SQLite always runs."""
    out = []
    for t in tables:
        cols = [f"{quote_ident(c.name)} {affinity(c.type)}".rstrip() for c in t.columns]
        keys = ", ".join(quote_ident(c.name) for c in t.columns if c.primary_key)
        body = ", ".join(cols + ([f"PRIMARY KEY ({keys})"] if keys else []))
        out.append(f"CREATE TABLE {quote_ident(t.name)} ({body});\n")
    return "".join(out)


def _sqlite_ddl(statements: list[exp.Expression], tables: list[Table], original: str) -> str:
    """DDL that SQLite runs: the text as written if it can, else sqlglot's SQLite rendering, else the
    tables' plain columns (types by affinity, primary keys; constraints and defaults dropped)."""
    if _loads_in_sqlite(original):
        return original
    try:
        rendered = "".join(_as_sqlite(s) + ";\n" for s in statements)
    except (sqlglot.errors.SqlglotError, RecursionError):
        rendered = ""
    return rendered if rendered and _loads_in_sqlite(rendered) else _plain_ddl(tables)


@lru_cache(maxsize=2048)
def prepare_schema(text: str, dialect: str = "sqlite") -> PreparedSchema:
    """Read a schema text once: SchemaError (one line) when it holds no table the kit can use.

    Cached: the app, the CLI and evaluation ask about the same few schemas again and again.
    """
    if "\x00" in text:
        raise SchemaError("the schema contains NUL bytes; paste SQL text")
    try:
        ddl, context = split_ddl(text, dialect)
    except RecursionError as e:
        raise SchemaError("the schema is nested too deeply to read") from e
    if not ddl.strip():
        raise SchemaError("the schema has no CREATE TABLE statement")
    first_error = None
    for read in dict.fromkeys((dialect, *READ_DIALECTS)):
        try:
            statements = _parse_ddl(ddl, read)
        except SchemaError as e:
            first_error = first_error or e
            continue
        tables = [t for s in statements if isinstance(s, exp.Create) for t in [_table_from_create(s)] if t]
        if tables:
            return PreparedSchema(text, _sqlite_ddl(statements, tables, ddl), context, Schema(tables), read)
    raise first_error or SchemaError("the schema has no CREATE TABLE statement with columns")
