"""The schema's names as schema-constrained decoding needs them: lower-cased tables and columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from nl2sql.joins import adjacency, join_graph
from nl2sql.schema import Schema, SchemaError, parse_schema


@dataclass(frozen=True)
class Names:
    """The schema's identifiers, lower-cased: table -> its columns; `edges`: the join graph's key pairs
    (table, column, other table, other column), both ways round, when joins are constrained (empty: not)."""

    tables: dict[str, frozenset[str]]
    spelling: dict[str, str] = field(default_factory=dict)  # lower-cased -> as the schema writes it
    edges: frozenset[tuple[str, str, str, str]] = frozenset()

    @cached_property
    def neighbours(self) -> dict[str, frozenset[str]]:
        return adjacency((a, b) for a, _, b, _ in self.edges)

    @cached_property
    def columns(self) -> frozenset[str]:
        return frozenset().union(*self.tables.values()) if self.tables else frozenset()

    @classmethod
    def of(cls, schema: Schema | str, joins: bool = False) -> "Names":
        """The schema's names; `joins`: with its key pairs (the foreign keys it holds, inferred ones included
        when they were added: nl2sql.joins), so that JOIN and ON follow them (constrain.joining)."""
        schema = parse_schema(schema) if isinstance(schema, str) else schema
        spelling = {n.lower(): n for t in schema.tables for n in [t.name, *(c.name for c in t.columns)]}
        tables = {t.name.lower(): frozenset(c.name.lower() for c in t.columns) for t in schema.tables}
        edges = set()
        for e in join_graph(schema, infer=False).edges if joins else ():
            a, ca, b, cb = e.table.lower(), e.column.lower(), e.ref_table.lower(), e.ref_column.lower()
            if a in tables and b in tables and ca in tables[a] and cb in tables[b]:
                edges |= {(a, ca, b, cb), (b, cb, a, ca)}
        return cls(tables, spelling, frozenset(edges))


def names_or_none(schema: Schema | str | None, joins: bool = False) -> Names | None:
    """Names of a schema, or None (no constraint) when there is no schema or it has no tables."""
    if not schema:
        return None
    try:
        names = Names.of(schema, joins)
    except SchemaError:
        return None
    return names if names.tables else None
