"""The join rules of schema-constrained decoding, when the names carry the join graph (`Names.edges`):

- `JOIN t`: t must be adjacent (share a key) to a table already in FROM, or have no key at all, so a path
  runs through its bridge tables instead of skipping them;
- `JOIN t ... ON q1.c1 = q2.c2`: the first condition is an equality along a key between t and a table
  already joined, each side qualified by its table's alias or name.

Escapes, so the rules never dead-end a query: a FROM holding a subquery, tables with no key between
them (a JOIN there is unconstrained), and everything after the first equality of an ON. Pure functions.
"""

from __future__ import annotations

from nl2sql.constrain.names import Names

Edge = tuple[str, str, str, str]
ON_SHAPE = 7  # tokens of `q1 . c1 = q2 . c2`


def joinable(names: Names, joined: list[str | None]) -> frozenset[str] | None:
    """The tables a JOIN may name after `joined` (FROM's tables so far); None: any."""
    if not names.edges or not joined or None in joined:
        return None
    adjacent = set().union(*(names.neighbours.get(t, ()) for t in joined))
    if not adjacent:
        return None  # the tables joined so far have no key: nothing to follow
    return frozenset(adjacent | {t for t in names.tables if t not in names.neighbours})


def on_edges(names: Names, joined: list[str | None]) -> frozenset[Edge]:
    """The keys (both ways round) between the table just joined (the last of `joined`) and the earlier ones."""
    if len(joined) < 2 or None in joined:
        return frozenset()
    new, earlier = joined[-1], set(joined[:-1])
    return frozenset(e for e in names.edges if (e[0] == new and e[2] in earlier) or (e[2] == new and e[0] in earlier))


def on_next(edges: frozenset[Edge], qualifiers: dict[str, str], written: list[str]) -> frozenset[str] | None:
    """What the next token of `ON q1.c1 = q2.c2` may be, after the tokens `written` since ON (lower-cased);
    None: anything (no key between the tables, or the equality is complete). `qualifiers`: alias or
    table name -> table, for the tables in FROM."""
    k = len(written)
    if not edges or k >= ON_SHAPE:
        return None
    if k in (1, 5):
        return frozenset({"."})
    if k == 3:
        return frozenset({"="})
    sides = {e[0] for e in edges}
    if k == 0:
        return frozenset(q for q, t in qualifiers.items() if t in sides)
    first = qualifiers.get(written[0])
    if k == 2:
        return frozenset(e[1] for e in edges if e[0] == first)
    if k == 4:
        others = {e[2] for e in edges if e[0] == first and e[1] == written[2]}
        return frozenset(q for q, t in qualifiers.items() if t in others and q != written[0])
    second = qualifiers.get(written[4])
    return frozenset(e[3] for e in edges if e[0] == first and e[1] == written[2] and e[2] == second)
