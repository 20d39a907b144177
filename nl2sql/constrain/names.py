"""The schema's names as schema-constrained decoding needs them: lower-cased tables and columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from nl2sql.schema import Schema, SchemaError, parse_schema


@dataclass(frozen=True)
class Names:
    """The schema's identifiers, lower-cased: table -> its columns."""

    tables: dict[str, frozenset[str]]
    spelling: dict[str, str] = field(default_factory=dict)  # lower-cased -> as the schema writes it

    @cached_property
    def columns(self) -> frozenset[str]:
        return frozenset().union(*self.tables.values()) if self.tables else frozenset()

    @classmethod
    def of(cls, schema: Schema | str) -> "Names":
        schema = parse_schema(schema) if isinstance(schema, str) else schema
        spelling = {n.lower(): n for t in schema.tables for n in [t.name, *(c.name for c in t.columns)]}
        return cls({t.name.lower(): frozenset(c.name.lower() for c in t.columns) for t in schema.tables}, spelling)


def names_or_none(schema: Schema | str | None) -> Names | None:
    """Names of a schema, or None (no constraint) when there is no schema or it has no tables."""
    if not schema:
        return None
    try:
        names = Names.of(schema)
    except SchemaError:
        return None
    return names if names.tables else None
