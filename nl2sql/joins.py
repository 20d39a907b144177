"""The join graph of a schema: which columns join which tables.

Edges come from the declared foreign keys. Many real databases declare none (warehouses, dumps, CSV
uploads), so where a pair of tables has no declared key, keys are inferred from names by one rule:

    A column `c` of table A refers to table B (A != B, no declared key between them, `c` not declared
    as a foreign key already) when B has a key column k (its single-column primary key, else its only
    `id`-shaped column) and either
      1. `c` is spelled as k (any case) and is not a bare `id`; when `c` is also A's own key (two keyed
         tables, 1:1), only if B's name is what `c` names (`people_id` -> people); or
      2. k is a bare `id` and `c` is `<B>_id` / `<B>Id` / `<B>ID`, B's name read singular or plural
         (`student_id` -> student.id or students.id).
    A column that would refer to several tables keeps only those whose name it carries; if that
    leaves more than one, or none, the column gets no inferred key (ambiguous).

Declared keys always win. `with_inferred_keys` returns the schema with the inferred keys added as
foreign keys, so the prompt shows them, schema linking follows them and the constraint allows them
exactly as declared ones. `strip_foreign_keys` removes every declared key from DDL text (the
evaluation of a database that declares none). Pure functions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from nl2sql.schema import ForeignKey, Schema, SchemaError, Table, split_ddl
from nl2sql.words import name_words


@dataclass(frozen=True)
class Edge:
    """`table.column` refers to `ref_table.ref_column` (names as the schema spells them)."""

    table: str
    column: str
    ref_table: str
    ref_column: str
    declared: bool = True

    def joins(self, a: str, b: str) -> bool:
        """Whether the edge joins tables a and b (either way round, any case)."""
        pair = {self.table.lower(), self.ref_table.lower()}
        return pair == {a.lower(), b.lower()}


@dataclass(frozen=True)
class JoinGraph:
    edges: tuple[Edge, ...]

    @cached_property
    def neighbours(self) -> dict[str, frozenset[str]]:
        """Lower-cased table -> the other tables an edge joins it to."""
        pairs = ((e.table.lower(), e.ref_table.lower()) for e in self.edges)
        return adjacency((a, b) for a, b in pairs if a != b)

    def between(self, a: str, b: str) -> list[Edge]:
        return [e for e in self.edges if e.joins(a, b)]


def adjacency(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """Table -> the tables it is paired with, each pair counted both ways round."""
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in out.items()}


def key_path(neighbours: Mapping[str, Iterable[str]], start: Iterable[str], goal: str, max_hops: int) -> list[str]:
    """The shortest path of keys from a table of `start` to `goal` (both ends included, in that order), or []
    when none is within `max_hops`. Ties go to the alphabetically first table, so every run picks the same."""
    seen: dict[str, str | None] = {s: None for s in start}
    queue = deque((s, 0) for s in seen)
    while queue:
        node, hops = queue.popleft()
        if node == goal:
            path = [node]
            while seen[path[-1]] is not None:
                path.append(seen[path[-1]])
            return path[::-1]
        if hops < max_hops:
            for nxt in sorted(set(neighbours.get(node, ())) - seen.keys()):
                seen[nxt] = node
                queue.append((nxt, hops + 1))
    return []


def declared_edges(schema: Schema) -> list[Edge]:
    names = {t.name.lower(): t for t in schema.tables}
    out = []
    for t in schema.tables:
        for fk in t.foreign_keys:
            ref = names.get(fk.ref_table.lower())
            ref_col = ref.column(fk.ref_column) if ref else None
            out.append(Edge(t.name, fk.column, ref.name if ref else fk.ref_table,
                            ref_col.name if ref_col else fk.ref_column))
    return out


def key_column(table: Table) -> str | None:
    """The column other tables would refer to: the single-column primary key, else the only `id`-shaped column."""
    keys = [c.name for c in table.columns if c.primary_key]
    if keys:
        return keys[0] if len(keys) == 1 else None
    ids = [c.name for c in table.columns if name_words(c.name)[-1:] == ["id"]]
    return ids[0] if len(ids) == 1 else None


def _names(column: str, table: Table) -> bool:
    """Whether the column's words, less a trailing `id`, are the table's name (`student_id`, `StudentID` -> students)."""
    words = name_words(column)
    words = words[:-1] if words[-1:] == ["id"] else words
    return bool(words) and words == name_words(table.name)


def _refers(column: str, table: Table, other: Table) -> bool:
    """Rule 1 or 2 of the module docstring: whether `table.column` may refer to `other`'s key."""
    key = key_column(other)
    if key is None:
        return False
    if column.lower() == key.lower():
        if key.lower() == "id":
            return False
        own = key_column(table)
        return own is None or own.lower() != column.lower() or _names(column, other)
    return key.lower() == "id" and name_words(column)[-1:] == ["id"] and _names(column, other)


def _index(schema: Schema) -> tuple[dict[str, list[Table]], dict[tuple[str, ...], list[Table]]]:
    """The tables a column could refer to, found by name rather than by trying every table (a 2,000-table
    upload would cost seconds per request): by key column (lower-cased), and by the words of the table's name."""
    by_key: dict[str, list[Table]] = {}
    by_words: dict[tuple[str, ...], list[Table]] = {}
    for t in schema.tables:
        key = key_column(t)
        if key is not None:
            by_key.setdefault(key.lower(), []).append(t)
            by_words.setdefault(tuple(name_words(t.name)), []).append(t)
    return by_key, by_words


def _candidates(column: str, by_key: dict, by_words: dict) -> list[Table]:
    """The tables rule 1 or 2 could link `column` to, before the rule's own checks."""
    words = name_words(column)
    named = by_words.get(tuple(words[:-1]), []) if words[-1:] == ["id"] else []
    same = by_key.get(column.lower(), []) if column.lower() != "id" else []  # a bare id never joins a bare id
    return list({id(o): o for o in same + named}.values())


def inferred_edges(schema: Schema) -> list[Edge]:
    """Keys inferred from names where a pair of tables declares none (the module docstring's rule)."""
    declared = declared_edges(schema)
    linked = {frozenset((e.table.lower(), e.ref_table.lower())) for e in declared}
    by_key, by_words = _index(schema)
    order = {id(t): i for i, t in enumerate(schema.tables)}
    out = []
    for t in schema.tables:
        taken = {fk.column.lower() for fk in t.foreign_keys}
        for c in t.columns:
            if c.name.lower() in taken:
                continue
            targets = sorted((o for o in _candidates(c.name, by_key, by_words) if o is not t
                              and _refers(c.name, t, o) and frozenset((t.name.lower(), o.name.lower())) not in linked),
                             key=lambda o: order[id(o)])
            if len(targets) > 1:
                targets = [o for o in targets if _names(c.name, o)]
            if len(targets) == 1:
                out.append(Edge(t.name, c.name, targets[0].name, key_column(targets[0]), declared=False))
    return out


def join_graph(schema: Schema, infer: bool = True) -> JoinGraph:
    """The schema's join graph: declared keys, plus inferred ones where a pair declares none (`infer`)."""
    return JoinGraph(tuple(declared_edges(schema) + (inferred_edges(schema) if infer else [])))


def with_inferred_keys(schema: Schema) -> Schema:
    """The schema with its inferred keys added to its tables as foreign keys (the same object when none)."""
    extra = inferred_edges(schema)
    if not extra:
        return schema
    tables = []
    for t in schema.tables:
        mine = [ForeignKey(e.column, e.ref_table, e.ref_column) for e in extra if e.table == t.name]
        tables.append(replace(t, foreign_keys=t.foreign_keys + mine) if mine else t)
    return Schema(tables)


def _without_keys(statement: exp.Expression) -> exp.Expression:
    statement = statement.copy()
    for node in list(statement.find_all(exp.ForeignKey, exp.Reference)):
        parent = node.parent
        node.pop()
        if isinstance(parent, exp.ColumnConstraint) and parent.args.get("kind") is None:
            parent.pop()  # the REFERENCES constraint left empty
    return statement


def strip_foreign_keys(text: str, dialect: str = "sqlite") -> str:
    """DDL text with every declared foreign key removed (column REFERENCES and FOREIGN KEY clauses); the
    rest of the text (INSERTs) kept. Raises SchemaError when the DDL does not parse."""
    ddl, rest = split_ddl(text, dialect)
    try:
        statements = [s for s in sqlglot.parse(ddl, read=dialect) if s is not None]
    except (SqlglotError, RecursionError) as e:
        raise SchemaError(f"schema does not parse: {e}") from e
    return "".join(_without_keys(s).sql(dialect, pretty=True) + ";\n" for s in statements) + rest
