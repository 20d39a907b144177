"""The lexer of schema-constrained decoding: the tokens of the SQL written so far and the word lists the
checker judges them by. Where SQL starts and ends in model text is nl2sql.sql's (sql_region,
statement_end). Pure functions."""

from __future__ import annotations

import re
from typing import NamedTuple


# Words a query may use besides names: SQLite's keywords that queries and DML commonly use (not its
# DDL, transaction, pragma or rare clause words, which a small model mostly writes as the start of an
# invented column name), and its functions, which must be followed by "(". Join words only in FROM.
KEYWORDS = frozenset("""
all and as asc between by case cast cross current_date current_time current_timestamp delete desc
distinct else end except exists from full group having in inner insert intersect into is join left
like limit not null nulls offset on or order outer over partition replace right select set then
union update using values when where with
""".split())
JOIN_WORDS = frozenset("cross full inner join left outer right".split())
FUNCTIONS = frozenset("""
abs avg count max min sum total group_concat length lower upper substr substring trim ltrim rtrim
replace round coalesce ifnull nullif instr date time datetime julianday strftime random iif
row_number rank dense_rank
""".split())
AGGREGATES = frozenset("avg count max min sum total group_concat".split())
# Clauses of one query level, in the order SQL allows them; each at most once.
CLAUSE_ORDER = {"where": 1, "group": 2, "having": 3, "order": 4, "limit": 5}

_TOKEN = re.compile(r"""
    (?P<str>'(?:[^']|'')*'?) | (?P<quoted>"[^"]*"?|`[^`]*`?|\[[^\]]*\]?) | (?P<comment>--[^\n]*)
  | (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?) | (?P<word>[^\W\d]\w*) | (?P<space>\s+) | (?P<punct>.)
""", re.VERBOSE | re.DOTALL)
TABLE_AFTER = {"from", "join", "into", "update"}
SCOPED_CLAUSES = {"where", "on", "group", "having", "order"}
CLAUSES = {"select", "from", "where", "on", "group", "having", "order", "limit", "set", "values", "using"}
SET_OPS = {"union", "intersect", "except"}
# After these, an expression starts: only these keywords may open one (DISTINCT and ALL only after
# SELECT or "(", SELECT, WITH, PARTITION and ORDER only after "(").
EXPR_BEFORE = frozenset("where and or on having by select not when then else ( , = < > ! + - / % |".split())
EXPR_WORDS = frozenset("not exists case cast null current_date current_time current_timestamp".split())
# Keywords that never follow a value (a name, a number, a string or ")"): `ORDER BY x DISTINCT`.
NOT_AFTER_VALUE = frozenset("select distinct with case cast exists by all insert update delete "
                             "current_date current_time current_timestamp".split())
AFTER_NOT = frozenset("in like between null exists".split())
NO_ARGUMENTS = frozenset("random row_number rank dense_rank over".split())  # may be followed by ()
PUNCT = frozenset(".,()*;=<>!+-/%|&~`")
ALIAS_SHAPE = re.compile(r"[a-z]\d{0,2}")  # T1, T2, s, a1: aliases a query may use before FROM defines them




class Token(NamedTuple):
    kind: str  # str | quoted | comment | num | word | punct
    text: str
    complete: bool  # False for the last token while the model may still be writing it
    start: int  # offset in the SQL


def may_be_keyword(word: str, complete: bool) -> bool:
    """A complete keyword, or (unfinished) the start of one."""
    return word in KEYWORDS or (not complete and any(k.startswith(word) for k in KEYWORDS))


def tokens(sql: str) -> list[Token]:
    """Each non-space token; the last is incomplete when the text ends in it."""
    out = []
    for m in _TOKEN.finditer(sql):
        kind = m.lastgroup
        if kind == "space":
            continue
        text = m.group(0)
        at_end = m.end() == len(sql)
        complete = not at_end
        if kind in ("str", "quoted") and at_end:
            complete = len(text) > 1 and text[-1] == {"'": "'", '"': '"', "`": "`", "[": "]"}[text[0]]
        out.append(Token(kind, text, complete, m.start()))
    return out
