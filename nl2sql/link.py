"""Schema linking: which of a schema's tables the prompt shows for a question. Training prunes its
prompts with the same function (gold tables always kept), so training and serving agree.

Cheap signals, no model: the question's words (split, lower-cased, crudely stemmed) against each
table's name and columns (split on case and underscores), each word weighted by how few tables have
it; the best-scoring tables are kept, then the
foreign-key paths that join them (bridge tables included). Schemas of PASS_THROUGH tables or fewer are
shown whole: the measurement that chose it is in docs/linking.md (`python -m benchmarks.linking`).
Pure functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from nl2sql.joins import join_graph, key_path
from nl2sql.schema import Schema, Table
from nl2sql.words import name_words, question_words, stem  # noqa: F401 (stem: part of this module's interface)

PASS_THROUGH = 6  # tables; smaller schemas are shown whole
MIN_KEPT = 4  # the best-scoring tables always kept (before joins are added)
RELATIVE = 0.1  # and every other table scoring at least this share of the best score,
MAX_KEPT = 12  # up to this many (a word every table shares would keep them all: a 2,000-table upload)
MAX_HOPS = 3  # longest foreign-key path that joins two kept tables


@dataclass(frozen=True)
class Linking:
    """The tables shown (schema order), each table's score, and how many the schema has."""

    tables: list[str]
    scores: dict[str, float] = field(default_factory=dict)
    total: int = 0  # tables in the schema
    values: tuple = ()  # nl2sql.values.ValueHit: stored values the question names, shown beside their columns

    @property
    def pruned(self) -> bool:
        return len(self.tables) < self.total

    def describe(self) -> str:
        text = (f"shown {len(self.tables)} of {self.total} tables: {', '.join(self.tables)}" if self.pruned
                else f"all {self.total} tables shown")
        if self.values:
            text += "; values named: " + ", ".join(f"{h.table}.{h.column} = {h.value!r}" for h in self.values[:4])
        return text


def rarity(schema: Schema) -> dict[str, float]:
    """Each word's weight: words in every table (`id`, `amount`, `created`) say little about which one
    the question needs (inverse document frequency over the schema's tables)."""
    seen: dict[str, int] = {}
    for t in schema.tables:
        for w in {*name_words(t.name), *(w for c in t.columns for w in name_words(c.name))}:
            seen[w] = seen.get(w, 0) + 1
    n = len(schema.tables)
    return {w: math.log((n + 1) / (k + 0.5)) for w, k in seen.items()}


def _overlap(words: list[str], asked: set[str], weight: dict[str, float]) -> float:
    hits = [weight.get(w, 1.0) for w in words if w in asked and w not in ("id", "name")]
    return sum(hits) / len(words) if words else 0.0


def score_table(table: Table, asked: set[str], weight: dict[str, float] | None = None) -> float:
    """How much the question speaks of this table: its name (weighted 2) and its best columns, each
    word counted by its rarity across the schema."""
    weight = weight or {}
    name = 2.0 * _overlap(name_words(table.name), asked, weight)
    cols = sorted((_overlap(name_words(c.name), asked, weight) for c in table.columns), reverse=True)
    return name + sum(cols[:3]) * 0.5


def _neighbours(schema: Schema) -> dict[str, set[str]]:
    """The schema's tables and the tables its keys join each to (nl2sql.joins: the keys the schema holds,
    inferred ones included when the request added them)."""
    graph: dict[str, set[str]] = {t.name.lower(): set() for t in schema.tables}
    for table, others in join_graph(schema, infer=False).neighbours.items():
        if table in graph:
            graph[table].update(o for o in others if o in graph)
    return graph


def joined(kept: set[str], schema: Schema) -> set[str]:
    """`kept` plus the tables on the foreign-key paths that join each kept table to the others."""
    graph = _neighbours(schema)
    out = set(kept)
    order = sorted(kept)
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            out.update(key_path(graph, [a], b, MAX_HOPS))
    return out


def link(question: str, schema: Schema, always: set[str] | frozenset[str] = frozenset(),
         pass_through: int | None = None) -> Linking:
    """The tables to show for `question`: all of a small schema; else the best-scoring ones (and
    `always`, lower-cased names, e.g. a training row's gold tables) joined by their foreign-key paths."""
    names = [t.name for t in schema.tables]
    if len(names) <= (PASS_THROUGH if pass_through is None else pass_through):
        return Linking(names, total=len(names))
    asked = question_words(question)
    weight = rarity(schema)
    scores = {t.name.lower(): score_table(t, asked, weight) for t in schema.tables}
    ranked = sorted(scores, key=lambda n: -scores[n])
    best = scores[ranked[0]]
    keep = set(ranked[:MIN_KEPT]) | {n for n in ranked[:MAX_KEPT] if best > 0 and scores[n] >= RELATIVE * best}
    keep = joined(keep | ({a.lower() for a in always} & set(scores)), schema)  # only tables the schema has
    shown = [n for n in names if n.lower() in keep]
    return Linking(shown, {n: round(scores[n.lower()], 3) for n in names}, len(names))
