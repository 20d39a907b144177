"""The template machinery: a registry, and helpers that pick tables, columns and literal values.

A template is a function (db, rng) -> Slots or None (None: this database cannot host it). Its
phrasings are format strings over the slots, in three styles: a question, an imperative, a terse
analyst request. Complexity classes and task types use gretel's labels.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from nl2sql.synth.world import Column, Db, DbTable, sql_literal

COMPLEXITY = {
    "basic SQL": "basic SQL with a simple select statement",
    "aggregation": "aggregation functions (COUNT, SUM, AVG, MIN, MAX, etc.), and HAVING clause",
    "single join": "only one join (specify inner, outer, cross)",
    "multiple_joins": "two or more joins (specify inner and/or outer)",
    "subqueries": "subqueries, including correlated and nested subqueries",
    "window functions": "window functions (e.g., ROW, LEAD, LAG, RANk, NTILE, PERCENT_RANK, etc.) with partitioning and ordering",
    "set operations": "set operations such as UNION, INTERSECT, and EXCEPT",
    "CTEs": "common table expressions",
}
TASKS = {
    "analytics and reporting": "generating reports, dashboards, and analytical insights",
    "data retrieval": "basic data fetching queries",
    "data manipulation": "inserting, updating, or deleting records",
    "data definition": "creating, altering, or dropping tables and other database objects",
}


class Skip(Exception):
    """Raised by helpers when the database cannot host the template."""


@dataclass(frozen=True)
class Template:
    name: str
    complexity: str
    task: str
    phrasings: tuple[str, ...]
    explanation: str
    build: Callable[[Db, random.Random], dict]
    train_only: bool = False  # added after the test split was fixed: never used for it, so its rows stay the same


REGISTRY: list[Template] = []


def template(complexity: str, task: str, phrasings: list[str], explanation: str, train_only: bool = False):
    assert complexity in COMPLEXITY and task in TASKS and len(phrasings) >= 3

    def wrap(fn):
        REGISTRY.append(Template(fn.__name__, complexity, task, tuple(phrasings), explanation, fn, train_only))
        return fn

    return wrap


def pick(rng: random.Random, items: list):
    if not items:
        raise Skip
    return rng.choice(items)


def table_with(db: Db, rng: random.Random, *roles: str, label: bool = False) -> DbTable:
    return pick(rng, [t for t in db.tables if all(t.cols(r) for r in roles) and (t.label or not label)])


def col(t: DbTable, rng: random.Random, role: str, exclude: tuple = ()) -> Column:
    return pick(rng, [c for c in t.cols(role) if c not in exclude])


def lit(t: DbTable, c: Column, rng: random.Random):
    """(SQL literal, spoken value) of a value that occurs in `c`."""
    v = pick(rng, t.values(c))
    if c.role == "num" and isinstance(v, float):
        v = round(v) if v > 20 else v
    return sql_literal(v), str(v)


def threshold(t: DbTable, c: Column, rng: random.Random):
    """A literal near the middle of `c`'s values, so both sides of a comparison hold rows."""
    vals = sorted(t.values(c))
    if len(vals) < 2:
        raise Skip
    v = vals[rng.randrange(len(vals) // 4, (3 * len(vals)) // 4 or 1)]
    if isinstance(v, float):
        v = round(v) if v > 20 else round(v, 1)
    return sql_literal(v), str(v)


def label_or_id(t: DbTable) -> tuple[str, str]:
    """(column, spoken) that names rows of `t`: its label, else its id."""
    return (t.label.name, t.label.spoken) if t.label else (t.pk, "id")


def join(db: Db, rng: random.Random, parent_label: bool = True) -> tuple[DbTable, str, DbTable]:
    """(child, fk column, parent) for a random foreign key; the parent has a label when asked."""
    pairs = [(t, fk, db.table(p)) for t in db.tables for fk, p in t.fks.items()]
    return pick(rng, [x for x in pairs if x[2].label or not parent_label])


def two_parents(db: Db, rng: random.Random) -> tuple[DbTable, str, DbTable, str, DbTable]:
    """(child, fk1, parent1, fk2, parent2) for a table that references two labelled tables."""
    options = [t for t in db.tables if len(t.fks) >= 2]
    child = pick(rng, options)
    (fk1, p1), (fk2, p2) = rng.sample(list(child.fks.items()), 2)
    p1, p2 = db.table(p1), db.table(p2)
    if not (p1.label and p2.label):
        raise Skip
    return child, fk1, p1, fk2, p2


def year_of(t: DbTable, c: Column, rng: random.Random) -> str:
    return str(pick(rng, t.values(c)))[:4]


def linked_parent_rows(child: DbTable, fk: str, parent: DbTable, where=None) -> list[dict]:
    """Parent rows referenced by at least one child row (that satisfies `where`, a row predicate)."""
    ids = {r[fk] for r in child.rows if where is None or where(r)}
    return [r for r in parent.rows if r[parent.pk] in ids]


def lit_linked(child: DbTable, fk: str, parent: DbTable, c: Column, rng: random.Random, where=None):
    """(literal, spoken) of parent column `c` taken from a parent row that has children."""
    v = pick(rng, [r[c.name] for r in linked_parent_rows(child, fk, parent, where) if r[c.name] is not None])
    return sql_literal(v), str(v)


def chain(db: Db, rng: random.Random) -> tuple[DbTable, str, DbTable, str, DbTable]:
    """(grandchild, fk to child, child, fk to parent, parent) along two foreign keys; labelled parent."""
    options = [(g, fk1, db.table(c), fk2, db.table(p)) for g in db.tables for fk1, c in g.fks.items()
               for fk2, p in db.table(c).fks.items() if db.table(p).label]
    return pick(rng, options)
