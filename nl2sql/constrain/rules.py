"""The placement rules of schema-constrained decoding: the state of one query level (`Frame`) and the
rules a small model breaks about where a word may stand. Pure functions of that state."""

from __future__ import annotations

from dataclasses import dataclass, field

from nl2sql.constrain.lexer import (AFTER_NOT, AGGREGATES, CLAUSE_ORDER, CLAUSES, EXPR_BEFORE, EXPR_WORDS, KEYWORDS,
                                    NOT_AFTER_VALUE, SET_OPS, TABLE_AFTER, Token)


@dataclass
class Frame:
    """One query level (parentheses open a new one)."""

    clause: str = ""
    tables: list[str | None] = field(default_factory=list)  # FROM items; None: subquery or CTE
    expect_table: bool = False
    last_table: str | None = None  # the table just named in FROM (its alias may follow)
    after_from_item: bool = False
    subquery: bool = True  # False: parentheses of a function or expression, sharing the outer level
    select_columns: set[str] = field(default_factory=set)  # unqualified columns named before FROM
    last_clause: int = 0  # CLAUSE_ORDER of the latest clause at this level
    on: list[str] | None = None  # tokens written since ON while its key equality is checked (constrain.joining)
    on_edges: frozenset = frozenset()  # the keys that equality may follow


def in_place(word: str, frame: Frame, prev: str, toks: list[Token], i: int) -> bool:
    """Placement rules a small model breaks: clauses out of order or twice, aggregates in WHERE, ON or
    GROUP BY, window words out of place, the same name twice in a row (`x, x`, `DISTINCT DISTINCT`),
    a keyword that cannot open an expression where one starts (`WHERE WITH`, `ORDER BY IS`)."""
    if word in KEYWORDS and prev == word:
        return False
    before = toks[i - 1] if i else None
    after_value = before is not None and (before.kind in ("num", "str", "quoted") or before.text == ")"
                                          or (before.kind == "word" and before.text.lower() not in KEYWORDS))
    if word in NOT_AFTER_VALUE and after_value and not (word == "select" and frame.clause == "with"):
        return False
    if word in ("distinct", "all") and prev not in ("select", "(", "union"):
        return False
    if word in KEYWORDS and prev in EXPR_BEFORE:
        opens = word in EXPR_WORDS or (prev == "not" and word in AFTER_NOT) \
            or (word in ("distinct", "all") and prev in ("select", "(")) \
            or (word in ("select", "with", "partition", "order") and prev == "(")
        if not opens or (word == "case" and prev == "when"):
            return False
    if word in ("null", "true", "false") and i + 1 < len(toks) and toks[i + 1].text == "(":
        return False
    rank = CLAUSE_ORDER.get(word)
    if rank is not None and not (prev == "(" or rank > frame.last_clause):  # (ORDER BY inside OVER
        return False
    if word in AGGREGATES and frame.clause in ("where", "on", "group"):
        return False
    if (word == "over" and prev != ")") or (word == "partition" and prev != "("):
        return False
    return not (prev == "," and i >= 2 and toks[i - 2].text.lower() == word)


def apply_keyword(word: str, frame: Frame) -> None:
    """What a keyword does to its query level: the clause it opens, a table expected next, a new SELECT."""
    if word in CLAUSE_ORDER:
        frame.last_clause = CLAUSE_ORDER[word]
    if word in TABLE_AFTER:
        frame.expect_table = True
        frame.clause = "from" if word in ("from", "join") else word
    elif word in CLAUSES:
        frame.clause = word
    elif word in SET_OPS:
        frame.tables, frame.clause, frame.last_clause = [], "", 0
        frame.select_columns = set()
