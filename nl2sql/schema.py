"""Parse a database schema (DDL, optionally followed by INSERTs) into small dataclasses.

Pure logic on top of sqlglot. prompt.py renders a Schema compactly, sql.py grounds queries against
it, sandbox.py builds databases from the statements it splits off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


def split_ddl(text: str, dialect: str = "sqlite") -> tuple[str, str]:
    """Split a schema text into (DDL statements, everything else such as INSERTs), both ';'-joined."""
    ddl, rest = [], []
    for stmt in split_statements(text, dialect):
        head = stmt.lstrip("( \n\t").split(None, 1)[0].upper() if stmt.strip() else ""
        (ddl if head in {"CREATE", "ALTER", "DROP"} else rest).append(stmt)
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


def parse_schema(text: str, dialect: str = "sqlite") -> Schema:
    """Parse the CREATE TABLE statements of `text` (other statements are ignored).

    Raises SchemaError with sqlglot's message when a DDL statement does not parse.
    """
    ddl, _ = split_ddl(text, dialect)
    try:
        statements = sqlglot.parse(ddl, read=dialect) if ddl else []
    except (ParseError, TokenError) as e:
        raise SchemaError(f"schema does not parse: {e}") from e
    except RecursionError as e:
        raise SchemaError("schema does not parse: nested too deeply") from e
    tables = [t for s in statements if isinstance(s, exp.Create) for t in [_table_from_create(s)] if t]
    return Schema(tables=tables)
