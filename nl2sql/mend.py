"""Literals on the right column: a mend after generation.

A small model often compares a string with the wrong column (`T2.stuid = 'F'` where 'F' is a value of
student.sex; `petid IN ('cat', 'dog')` where those are values of pets.pettype). When the compared
column does not hold the string and exactly one text column of the database does (the value index of
nl2sql.values), the comparison is moved to that column; when its table is not in the query, the join
it needs is added along the join graph (nl2sql.joins, at most MAX_HOPS keys away). Numbers and dates
are never touched, nor a query the index cannot vouch for (an incomplete index, a column it did not
read, a value held by several columns). Pure: the index is passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from nl2sql.joins import JoinGraph, join_graph, key_path
from nl2sql.schema import Schema

MAX_HOPS = 2
_NOT_TEXT = re.compile(r"^[\d\s.,:/+-]*$")  # numbers and dates (2020-01-01, 12:30) stay as written
_NUMBERED = re.compile(r"t(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Holders:
    """Who holds which string: lower-cased value -> [(table, column, value as stored)], read from every
    text column in full."""

    entries: dict[str, list[tuple[str, str, str]]]

    @classmethod
    def of(cls, index) -> "Holders | None":
        """From an nl2sql.values.ValueIndex; None when it was cut short (it cannot say who holds what)."""
        return cls(index.entries) if index is not None and index.complete else None

    def holding(self, value: str) -> list[tuple[str, str, str]]:
        return self.entries.get(value.strip().lower(), [])

    def held_by(self, table: str, column: str, values: list[exp.Literal]) -> bool:
        key = (table.lower(), column.lower())
        return all(any((t.lower(), c.lower()) == key for t, c, _ in self.holding(v.this)) for v in values)


def _tables(select: exp.Select) -> dict[str, str]:
    """Qualifier (alias or name, lower-cased) -> table name, for the tables of this SELECT's FROM and JOINs."""
    items = [select.args.get("from_")] + list(select.args.get("joins") or [])
    out = {}
    for item in items:
        table = item.this if item is not None else None
        if isinstance(table, exp.Table):
            out[(table.alias or table.name).lower()] = table.name
    return out


def _own(node: exp.Expression, select: exp.Select) -> bool:
    return node.find_ancestor(exp.Select) is select


def _comparisons(select: exp.Select):
    """(column, [string literals]) for `col = 'x'` and `col IN ('x', 'y')` in this SELECT's WHERE."""
    where = select.args.get("where")
    for node in where.find_all(exp.EQ, exp.In) if where else ():
        if not _own(node, select):
            continue
        col, rest = node.this, (node.args.get("expressions") or [] if isinstance(node, exp.In) else [node.expression])
        if isinstance(node, exp.EQ) and isinstance(node.expression, exp.Column) and isinstance(col, exp.Literal):
            col, rest = node.expression, [col]
        if isinstance(col, exp.Column) and rest and all(isinstance(v, exp.Literal) and v.is_string for v in rest):
            yield col, rest


def _add_joins(select: exp.Select, path: list[str], graph: JoinGraph, schema: Schema, quals: dict[str, str]) -> str:
    """Join each table of `path` after its first (already in the query) along its key; the last one's qualifier."""
    numbered = [int(m.group(1)) for q in quals for m in [_NUMBERED.fullmatch(q)] if m]
    by_table = {t.lower(): q for q, t in quals.items()}
    for prev, table in zip(path, path[1:]):
        edge = graph.between(prev, table)[0]
        name = schema.table(table).name
        qual = f"T{max(numbered) + 1}" if numbered else name
        numbered += [max(numbered) + 1] if numbered else []
        mine, theirs = (edge.column, edge.ref_column) if edge.table.lower() == table else (edge.ref_column, edge.column)
        on = exp.EQ(this=exp.column(mine, qual), expression=exp.column(theirs, _spelling(by_table[prev], select)))
        select.join(exp.to_table(name).as_(qual) if qual != name else exp.to_table(name), on=on, copy=False)
        by_table[table], quals[qual.lower()] = qual, name
    return by_table[path[-1]]


def _holder(values: list[exp.Literal], holders: Holders) -> tuple[str, str] | None:
    """The one (table, column) holding every value, or None."""
    found = None
    for v in values:
        held = {(t, c) for t, c, _ in holders.holding(v.this)}
        if len(held) != 1 or (found is not None and held != {found}):
            return None
        found = held.pop()
    return found


def mend_literals(sql: str, schema: Schema, holders: Holders | None, dialect: str = "sqlite") -> tuple[str, list[str]]:
    """`sql` with each string compared with a column that does not hold it moved to the one column that
    does (joining its table when needed), and the changes ("T2.stuid = 'F' -> T3.sex = 'F'"). Unchanged
    (and no changes) when nothing applies or the SQL does not parse."""
    if holders is None:
        return sql, []
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except (SqlglotError, ValueError, RecursionError):
        return sql, []
    graph, changes = join_graph(schema, infer=False), []
    for select in list(tree.find_all(exp.Select)):
        quals = _tables(select)
        for col, values in list(_comparisons(select)):
            if any(_NOT_TEXT.match(v.this) for v in values):
                continue
            table = quals.get(col.table.lower()) if col.table else None
            owners = [t for t in quals.values() if schema.table(t) and schema.table(t).column(col.name)]
            table = table or (owners[0] if len(owners) == 1 else None)
            if table is None or holders.held_by(table, col.name, values):
                continue  # the column holds the value (or which column it is cannot be told)
            found = _holder(values, holders)
            if found is None or schema.table(found[0]) is None:
                continue
            before = f"{col.sql(dialect)} ... {', '.join(v.sql(dialect) for v in values)}"
            here = [q for q, t in quals.items() if t.lower() == found[0].lower()]
            if here:
                qual = here[0]
            else:
                path = key_path(graph.neighbours, {t.lower() for t in quals.values()}, found[0].lower(), MAX_HOPS)
                if not path:
                    continue
                qual = _add_joins(select, path, graph, schema, quals)
            col.set("this", exp.to_identifier(schema.table(found[0]).column(found[1]).name))
            col.set("table", exp.to_identifier(_spelling(qual, select)))
            for v in values:
                v.set("this", holders.holding(v.this)[0][2])  # as stored
            changes.append(f"{before} -> {col.sql(dialect)} ... {', '.join(v.sql(dialect) for v in values)}")
    return (tree.sql(dialect=dialect), changes) if changes else (sql, [])


def _spelling(qual: str, select: exp.Select) -> str:
    """A qualifier as the query writes it (T1, not t1)."""
    for item in [select.args.get("from_")] + list(select.args.get("joins") or []):
        table = item.this if item is not None else None
        if isinstance(table, exp.Table) and (table.alias or table.name).lower() == qual.lower():
            return table.alias or table.name
    return qual
