"""Schema-constrained decoding: keep the model's SQL to the tables and columns the schema has.

A light, PICARD-style check of the text written so far. While the model writes a SQL statement,
every word must be able to become a SQL keyword, a function (followed by "("), a table where a table
belongs (after FROM, JOIN, INTO, UPDATE; the first one holding the columns SELECT already named, and
the next T1/T2 alias's table holding the columns already used with it), a column of the schema (of
the named table when qualified by a table or a defined alias; of the tables in scope once WHERE, ON,
GROUP BY, HAVING or ORDER BY follow FROM), or an alias. A few placement rules a small model breaks
are enforced too: clauses in order and once per query level, no aggregate in WHERE/ON/GROUP BY, no
`x, x`, no stray characters, no "(" left open at the end. An unfinished word must be the start of a
name as the tokenizer itself spells it.

At each step the decoder tries the most likely next tokens in order and keeps the first whose text
passes (`Guide.mask`; for sampling, every passing one among the top few), looking further down the
ranking when none of the top few passes and leaving the step unconstrained when nothing in reach
does: the check steers, it never dead-ends the model. Prose, and everything after the statement
ends, is never constrained: a model that answers in words is left alone. Window functions beyond
ROW_NUMBER/RANK/DENSE_RANK, DDL and rare clauses are outside its word lists; turn it off
(`constrain=False`, `--no-constrain`, `CONSTRAIN=0`) for those.

`failures(text, names)` / `acceptable(text, names)` are the pure checks; `Guide` turns them into a
mask over next-token scores, shared by the transformers and llama.cpp backends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from nl2sql.schema import Schema, SchemaError, parse_schema

# Words a query may use besides names: SQLite's keywords that queries and DML commonly use (not its
# DDL, transaction, pragma or rare clause words, which a small model mostly writes as the start of an
# invented column name), and its functions, which must be followed by "(". Join words only in FROM.
KEYWORDS = frozenset("""
all and as asc between by case cast cross current_date current_time current_timestamp delete desc
distinct else end except exists from full group having in inner insert intersect into is join left
like limit not null nulls offset on or order outer over partition replace right select set then
union update using values when where with
""".split())
_JOIN_WORDS = frozenset("cross full inner join left outer right".split())
FUNCTIONS = frozenset("""
abs avg count max min sum total group_concat length lower upper substr substring trim ltrim rtrim
replace round coalesce ifnull nullif instr date time datetime julianday strftime random iif
row_number rank dense_rank
""".split())
AGGREGATES = frozenset("avg count max min sum total group_concat".split())
# Clauses of one query level, in the order SQL allows them; each at most once.
_CLAUSE_ORDER = {"where": 1, "group": 2, "having": 3, "order": 4, "limit": 5}

_TOKEN = re.compile(r"""
    (?P<str>'(?:[^']|'')*'?) | (?P<quoted>"[^"]*"?|`[^`]*`?|\[[^\]]*\]?) | (?P<comment>--[^\n]*)
  | (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?) | (?P<word>[^\W\d]\w*) | (?P<space>\s+) | (?P<punct>.)
""", re.VERBOSE | re.DOTALL)
_STARTS = ("select", "with", "insert", "update", "delete")
_TABLE_AFTER = {"from", "join", "into", "update"}
_SCOPED_CLAUSES = {"where", "on", "group", "having", "order"}
_CLAUSES = {"select", "from", "where", "on", "group", "having", "order", "limit", "set", "values", "using"}
_SET_OPS = {"union", "intersect", "except"}
# After these, an expression starts: only these keywords may open one (DISTINCT and ALL only after
# SELECT or "(", SELECT, WITH, PARTITION and ORDER only after "(").
_EXPR_BEFORE = frozenset("where and or on having by select not when then else ( , = < > ! + - / % |".split())
_EXPR_WORDS = frozenset("not exists case cast null current_date current_time current_timestamp".split())
# Keywords that never follow a value (a name, a number, a string or ")"): `ORDER BY x DISTINCT`.
_NOT_AFTER_VALUE = frozenset("select distinct with case cast exists by all insert update delete "
                             "current_date current_time current_timestamp".split())
_AFTER_NOT = frozenset("in like between null exists".split())
_NO_ARGUMENTS = frozenset("random row_number rank dense_rank over".split())  # may be followed by ()
_PUNCT = frozenset(".,()*;=<>!+-/%|&~`")
_ALIAS_SHAPE = re.compile(r"[a-z]\d{0,2}")  # T1, T2, s, a1: aliases a query may use before FROM defines them


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


@dataclass
class _Frame:
    """One query level (parentheses open a new one)."""

    clause: str = ""
    tables: list[str | None] = field(default_factory=list)  # FROM items; None: subquery or CTE
    expect_table: bool = False
    last_table: str | None = None  # the table just named in FROM (its alias may follow)
    after_from_item: bool = False
    subquery: bool = True  # False: parentheses of a function or expression, sharing the outer level
    select_columns: set[str] = field(default_factory=set)  # unqualified columns named before FROM
    last_clause: int = 0  # _CLAUSE_ORDER of the latest clause at this level


def sql_region(text: str) -> str | None:
    """The part of model output that is SQL so far, or None while it is (or may still be) prose.

    SQL starts at the beginning of the answer (after an optional ``` fence) with a statement keyword;
    it ends at the first ';' outside quotes or at a closing fence (the rest is not constrained).
    """
    body = text.lstrip()
    if body.startswith("`"):
        if not body.startswith("```") or "\n" not in body:
            return None
        body = body.split("\n", 1)[1].lstrip()
    head = re.match(r"[A-Za-z]*", body).group(0).lower()
    if len(head) == len(body):  # the first word is still being written
        return body if any(s.startswith(head) for s in _STARTS) and head else None
    return body if head in _STARTS else None


def _may_be_keyword(word: str, complete: bool) -> bool:
    """A complete keyword, or (unfinished) the start of one."""
    return word in KEYWORDS or (not complete and any(k.startswith(word) for k in KEYWORDS))


def _tokens(sql: str) -> list[tuple[str, str, bool, int]]:
    """(kind, text, complete, start) for each non-space token; the last is incomplete when text ends in it."""
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
        out.append((kind, text, complete, m.start()))
    return out


def _ended(tokens: list[tuple[str, str, bool, int]]) -> int:
    """Index of the first ';' or closing fence token (the statement's end): later tokens are not checked."""
    for i, (kind, text, _, _) in enumerate(tokens):
        if kind == "punct" and text in (";", "`"):
            return i
    return len(tokens)


PrefixCheck = Callable[[str, Iterable[str]], bool]


def _starts(written: str, pool: Iterable[str]) -> bool:
    low = written.lower()
    return any(p.startswith(low) for p in pool)


def failures(text: str, names: Names, prefix_ok: PrefixCheck = _starts) -> set[int]:
    """Where model output `text` breaks the schema's rules: the offsets (in its SQL) of the tokens at
    fault; empty when it can still become SQL naming only `names`, and for prose.
    `prefix_ok(written, pool)`: whether an unfinished word may still become one of `pool` (lower-cased)."""
    sql = sql_region(text)
    if sql is None:
        return set()
    tokens = _tokens(sql)
    end = _ended(tokens)
    checker = _Checker(names, prefix_ok)
    checker.run(tokens[:end])
    if end < len(tokens) and len(checker.frames) > 1:
        checker.failed.add(tokens[end][3])  # the statement ends with a "(" still open
    return checker.failed


def acceptable(text: str, names: Names) -> bool:
    """Whether model output `text` can still become SQL naming only `names` (True for prose)."""
    return not failures(text, names)


class _Checker:
    def __init__(self, names: Names, prefix_ok: PrefixCheck = _starts):
        self.names, self.prefix_ok = names, prefix_ok
        self.failed: set[int] = set()
        self.frames = [_Frame()]
        self.aliases: dict[str, str | None] = {}  # alias -> table (None: a subquery or CTE)
        self.other_names: set[str] = set()  # column aliases and CTE names
        self.pending: dict[str, set[str]] = {}  # alias used before its definition -> columns used with it

    # --- what may stand at a position -------------------------------------------------------------

    def _table_ok(self, word: str, written: str, complete: bool, frame: _Frame) -> bool:
        tables = set(self.names.tables)
        # Aliases numbered T1, T2, ... in FROM order: columns already used with the next one narrow its table;
        # the first table must hold the unqualified columns SELECT named (when one table holds them all).
        numbered = sum(1 for a in self.aliases if re.fullmatch(r"t\d+", a))
        for need in (self.pending.get(f"t{numbered + 1}"), frame.select_columns if not frame.tables else None):
            if need:
                tables = {t for t in tables if need <= self.names.tables[t]} or tables
        pool = tables | {a for a, t in self.aliases.items() if t is None} | self.other_names
        return word in pool if complete else self.prefix_ok(written, pool)

    def _columns_of(self, qualifier: str) -> frozenset[str] | None:
        """Columns a qualifier allows; None when any column (or any name) may follow it."""
        if qualifier in self.aliases:
            table = self.aliases[qualifier]
            return None if table is None else self.names.tables.get(table)
        if qualifier in self.other_names:
            return None
        return self.names.tables.get(qualifier, self.names.columns)

    def _scope(self) -> frozenset[str] | None:
        """Columns an unqualified name may be in WHERE/ON/GROUP/HAVING/ORDER after FROM; None: any."""
        frame = self.frames[-1]
        if frame.clause not in _SCOPED_CLAUSES or not frame.tables:
            return None
        cols: set[str] = set()
        for f in self.frames:
            for t in f.tables:
                if t is None or t not in self.names.tables:
                    return None
                cols |= self.names.tables[t]
        return frozenset(cols)

    def _qualifiers(self) -> tuple[set[str], bool]:
        """(names that may qualify a column here, whether an alias defined later may too). After FROM only
        the tables and aliases in scope; before it, any table or an alias-shaped name (T1.)."""
        names = set(self.aliases) | self.other_names
        if self.frames[-1].clause in _SCOPED_CLAUSES:
            return names | {t for f in self.frames for t in f.tables if t is not None}, False
        return names | set(self.names.tables), True

    def _word_ok(self, word: str, written: str, complete: bool, nxt: str) -> bool:
        qualifiers, later = self._qualifiers()
        if complete and nxt == ".":
            return word in qualifiers or (later and bool(_ALIAS_SHAPE.fullmatch(word)))
        scope = self._scope()
        keywords = KEYWORDS if self.frames[-1].clause in ("from", "on") else KEYWORDS - _JOIN_WORDS
        pools = [keywords, self.other_names, self.names.columns if scope is None else scope]
        if complete:
            return any(word in p for p in pools) or (word in FUNCTIONS and nxt in ("(", ""))
        if later and _ALIAS_SHAPE.fullmatch(word):
            return True  # may become a qualifier: T1.
        pools += [FUNCTIONS, qualifiers]
        return any(word in pool for pool in pools) or self.prefix_ok(written, set().union(*pools))

    # --- the pass -----------------------------------------------------------------------------------

    def run(self, tokens: list[tuple[str, str, bool, int]]) -> None:
        """Check every token, recording the offsets of those at fault in `failed` (and going on as if
        they were right, so one committed mistake does not hide the next)."""
        prev = ""  # previous significant token, lower-cased
        for i, (kind, text, complete, start) in enumerate(tokens):
            frame = self.frames[-1]
            nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
            if kind == "punct":
                if text not in _PUNCT:
                    self.failed.add(start)  # no stray characters in SQL outside quotes
                if text == "(":
                    if nxt.lower() in ("select", "with"):
                        self.frames.append(_Frame())
                    else:
                        self.frames.append(_Frame(clause=frame.clause, tables=frame.tables, subquery=False,
                                                  select_columns=frame.select_columns))
                    frame.expect_table = False
                elif text == ")":
                    if prev == "(" and (i < 2 or tokens[i - 2][1].lower() not in _NO_ARGUMENTS):
                        self.failed.add(start)  # MIN() takes an argument
                    closed = self.frames.pop() if len(self.frames) > 1 else None
                    outer = self.frames[-1]
                    if closed is not None and closed.subquery and outer.clause == "from":
                        outer.tables.append(None)  # a derived table
                        outer.last_table, outer.after_from_item = None, True
                elif text == "," and frame.clause == "from":
                    frame.expect_table, frame.after_from_item = True, False
                prev = text
                continue
            if kind != "word":
                prev = text if kind != "comment" else prev
                frame.after_from_item = False
                continue
            word = text.lower()
            if prev == ".":
                qualifier = tokens[i - 2][1].lower() if i >= 2 else ""
                allowed = self._columns_of(qualifier)
                if allowed is not None and not (word in allowed if complete else self.prefix_ok(text, allowed)):
                    self.failed.add(start)
                if complete and qualifier not in self.aliases and qualifier not in self.names.tables \
                        and qualifier not in self.other_names:
                    self.pending.setdefault(qualifier, set()).add(word)
                prev = word
                continue
            if frame.expect_table:
                if not self._table_ok(word, text, complete, frame):
                    self.failed.add(start)
                frame.expect_table = False
                if complete:
                    frame.tables.append(word if word in self.names.tables else None)
                    frame.last_table, frame.after_from_item = word, True
                prev = word
                continue
            implicit = frame.after_from_item and word not in KEYWORDS and not _may_be_keyword(word, complete)
            if implicit and not _ALIAS_SHAPE.fullmatch(word):
                self.failed.add(start)  # FROM t alias: only short aliases (T1, e) without AS
            if prev == "as" or implicit:
                if complete and not self._define_alias(word, frame, prev):
                    self.failed.add(start)
                frame.after_from_item = False
                prev = word
                continue
            frame.after_from_item = False
            if word == "with" and i == 0:
                frame.clause = prev = word
                continue
            if prev in ("with", "recursive") or (prev == "," and len(self.frames) == 1 and frame.clause == "with"):
                if complete:
                    self.other_names.add(word)  # a CTE's name
                prev = word
                continue
            if not self._word_ok(word, text, complete, nxt) or (complete and not self._in_place(word, frame, prev, tokens, i)):
                self.failed.add(start)
            if complete:
                self._keyword(word, frame)
                if frame.clause == "select" and word in self.names.columns and word not in KEYWORDS:
                    frame.select_columns.add(word)
            prev = word

    def _define_alias(self, alias: str, frame: _Frame, prev: str) -> bool:
        if frame.clause == "from" and (frame.last_table is not None or prev == "as"):
            table = frame.last_table if frame.last_table in self.names.tables else None
            used = self.pending.pop(alias, set())
            self.aliases[alias] = table
            if table is not None and not used <= self.names.tables[table]:
                return False  # columns used earlier with this alias are not in the table it names
        else:
            self.other_names.add(alias)  # a column alias (SELECT ... AS n)
        return True

    @staticmethod
    def _in_place(word: str, frame: _Frame, prev: str, tokens: list, i: int) -> bool:
        """Placement rules a small model breaks: clauses out of order or twice, aggregates in WHERE, ON or
        GROUP BY, window words out of place, the same name twice in a row (`x, x`, `DISTINCT DISTINCT`),
        a keyword that cannot open an expression where one starts (`WHERE WITH`, `ORDER BY IS`)."""
        if word in KEYWORDS and prev == word:
            return False
        before = tokens[i - 1] if i else None
        after_value = before is not None and (before[0] in ("num", "str", "quoted") or before[1] == ")"
                                              or (before[0] == "word" and before[1].lower() not in KEYWORDS))
        if word in _NOT_AFTER_VALUE and after_value and not (word == "select" and frame.clause == "with"):
            return False
        if word in ("distinct", "all") and prev not in ("select", "(", "union"):
            return False
        if word in KEYWORDS and prev in _EXPR_BEFORE:
            opens = word in _EXPR_WORDS or (prev == "not" and word in _AFTER_NOT) \
                or (word in ("distinct", "all") and prev in ("select", "(")) \
                or (word in ("select", "with", "partition", "order") and prev == "(")
            if not opens or (word == "case" and prev == "when"):
                return False
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if word in ("null", "true", "false") and nxt == "(":
            return False
        rank = _CLAUSE_ORDER.get(word)
        if rank is not None and not (prev == "(" or rank > frame.last_clause):  # (ORDER BY inside OVER
            return False
        if word in AGGREGATES and frame.clause in ("where", "on", "group"):
            return False
        if (word == "over" and prev != ")") or (word == "partition" and prev != "("):
            return False
        return not (prev == "," and i >= 2 and tokens[i - 2][1].lower() == word)

    @staticmethod
    def _keyword(word: str, frame: _Frame) -> None:
        if word in _CLAUSE_ORDER:
            frame.last_clause = _CLAUSE_ORDER[word]
        if word in _TABLE_AFTER:
            frame.expect_table = True
            frame.clause = "from" if word in ("from", "join") else word
        elif word in _CLAUSES:
            frame.clause = word
        elif word in _SET_OPS:
            frame.tables, frame.clause, frame.last_clause = [], "", 0
            frame.select_columns = set()


@dataclass
class Guide:
    """Masks next-token scores so the SQL keeps to the schema (see the module docstring).

    `greedy`: keep only the most likely token that passes; else (sampling) every passing one among the
    `top_k` most likely; `widen`: how far down the ranking to look when none of the top_k passes.
    A token passes when it adds no fault to the text (faults already written, after a step where
    nothing passed, are not held against later tokens). An unfinished word must be the start of a
    name as the tokenizer itself would spell it (`canonical`): a model that writes " Make" meaning
    "Maker" would need the unlikely piece "r" next, where the tokenizer has one token " Maker".
    """

    names: Names
    tokenizer: object
    greedy: bool = True
    top_k: int = 24
    widen: int = 1024
    canonical: bool = True
    _pieces: dict[int, str] = field(default_factory=dict)
    _spelled: dict[str, frozenset[str]] = field(default_factory=dict)
    _memo: dict[str, set[int]] = field(default_factory=dict)  # faults of the last step's candidates

    def piece(self, token: int) -> str:
        if token not in self._pieces:
            special = token in getattr(self.tokenizer, "all_special_ids", ())
            self._pieces[token] = ";" if special else self.tokenizer.decode([token])  # an end token ends the SQL
        return self._pieces[token]

    def _prefixes(self, name: str) -> frozenset[str]:
        """Every text that a prefix of the tokenizer's own spelling of `name` decodes to (as written,
        lower, upper or capitalised; after a space or not)."""
        if name not in self._spelled:
            out: set[str] = set()
            as_written = self.names.spelling.get(name, name)
            for spelling in {as_written, name, name.upper(), name.capitalize()}:
                for lead in (" ", ""):
                    ids = self.tokenizer(lead + spelling, add_special_tokens=False)["input_ids"]
                    out.update(self.tokenizer.decode(ids[:k]).strip() for k in range(1, len(ids) + 1))
            self._spelled[name] = frozenset(out)
        return self._spelled[name]

    def _prefix_ok(self, written: str, pool: Iterable[str]) -> bool:
        low = written.lower()
        return any(p.startswith(low) and written in self._prefixes(p) for p in pool)

    def faults(self, text: str) -> set[int]:
        if text not in self._memo:
            self._memo[text] = failures(text, self.names, self._prefix_ok if self.canonical else _starts)
        return self._memo[text]

    def mask(self, text: str, scores: np.ndarray) -> np.ndarray:
        """`scores` (one row over the vocabulary) with every token set to -inf except the passing ones
        among the most likely: the first that passes (greedy) or those among the top_k (sampling); when
        none of the top_k passes, the search goes on through the next most likely, up to `widen`.
        Unchanged when none passes at all. An end token counts as ending the statement."""
        if sql_region(text) is None and sql_region(text + "SELECT") is None:
            return scores
        committed = self.faults(text)  # usually known: the text is last step's text + the chosen token
        self._memo = {text: committed}
        width = min(self.widen, scores.shape[-1])
        top = np.argpartition(-scores, width - 1)[:width]
        top = top[np.argsort(-scores[top], kind="stable")].tolist()
        keep: list[int] = []
        for rank, token in enumerate(top):
            if keep and (self.greedy or rank >= self.top_k):
                break
            if self.faults(text + self.piece(token)) <= committed:
                keep.append(token)
        if not keep:
            return scores
        out = np.full_like(scores, -np.inf)
        out[keep] = scores[keep]
        return out
