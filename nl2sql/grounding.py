"""Schema grounding (sqlglot): which tables and columns a query names that the schema lacks, and mending
the qualifiers a small model gets wrong in joins.

Split from nl2sql.sql, which re-exports `Unknown`, `ground` and `requalify`; `query_tables` is shared with
nl2sql.fit, which reads a query's tables the same way. Pure functions, as in nl2sql.sql.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from nl2sql.schema import Schema, Table, parse_schema


@dataclass(frozen=True)
class Unknown:
    """A table or column the query names that the schema does not have."""

    kind: str  # "table" | "column"
    name: str
    suggestion: str | None = None

    def __str__(self) -> str:
        hint = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        return f"unknown {self.kind} {self.name}{hint}"


def _closest(name: str, candidates: list[str]) -> str | None:
    by_lower = {c.lower(): c for c in candidates}
    hits = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.5)
    return by_lower[hits[0]] if hits else None


def query_tables(tree: exp.Expression) -> tuple[dict[str, str], set[str]]:
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
    aliases, local = query_tables(tree)
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
    aliases, local = query_tables(tree)
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


__all__ = ["Unknown", "ground", "query_tables", "requalify"]
