"""The checker of schema-constrained decoding: which tokens of the SQL written so far break the schema's
rules. Pure: `failures(text, names)` / `acceptable(text, names)`. One handler per kind of position,
chosen from a table (`Checker.handler`); each records the offsets of the tokens at fault and goes on
as if they were right, so one committed mistake does not hide the next."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from nl2sql.constrain.lexer import (ALIAS_SHAPE, FUNCTIONS, JOIN_WORDS, KEYWORDS, NO_ARGUMENTS, PUNCT,
                                        SCOPED_CLAUSES, Token, may_be_keyword, tokens)
from nl2sql.constrain.joining import joinable, on_edges, on_next
from nl2sql.constrain.names import Names
from nl2sql.constrain.rules import Frame, apply_keyword, in_place
from nl2sql.sql import sql_region, statement_end


PrefixCheck = Callable[[str, Iterable[str]], bool]


def starts(written: str, pool: Iterable[str]) -> bool:
    low = written.lower()
    return any(p.startswith(low) for p in pool)


def failures(text: str, names: Names, prefix_ok: PrefixCheck = starts) -> set[int]:
    """Where model output `text` breaks the schema's rules: the offsets (in its SQL) of the tokens at
    fault; empty when it can still become SQL naming only `names`, and for prose.
    `prefix_ok(written, pool)`: whether an unfinished word may still become one of `pool` (lower-cased)."""
    sql = sql_region(text)
    if sql is None:
        return set()
    end = statement_end(sql)  # past the ';' that ends the statement: what follows is not checked
    checker = Checker(names, prefix_ok)
    checker.run([t for t in tokens(sql) if end is None or t.start < end - 1])
    if end is not None and len(checker.frames) > 1:
        checker.failed.add(end - 1)  # the statement ends with a "(" still open
    return checker.failed


def acceptable(text: str, names: Names) -> bool:
    """Whether model output `text` can still become SQL naming only `names` (True for prose)."""
    return not failures(text, names)


class Checker:
    def __init__(self, names: Names, prefix_ok: PrefixCheck = starts):
        self.names, self.prefix_ok = names, prefix_ok
        self.failed: set[int] = set()
        self.frames = [Frame()]
        self.aliases: dict[str, str | None] = {}  # alias -> table (None: a subquery or CTE)
        self.other_names: set[str] = set()  # column aliases and CTE names
        self.pending: dict[str, set[str]] = {}  # alias used before its definition -> columns used with it
        self.toks: list[Token] = []
        self.i = 0  # the token being checked
        self.prev = ""  # the previous significant token, lower-cased
        # Words, by position: the first rule whose test holds handles the word.
        self.word_rules: list[tuple[Callable[[str, Frame], bool], Callable[[Token, str, Frame], None]]] = [
            (lambda w, f: self.prev == ".", self._qualified),
            (lambda w, f: f.expect_table, self._table),
            (self._is_alias, self._alias),
            (lambda w, f: w == "with" and self.i == 0, self._leading_with),
            (self._is_cte_name, self._cte_name),
            (lambda w, f: True, self._word),
        ]

    def run(self, toks: list[Token]) -> None:
        """Check every token, recording the offsets of those at fault in `failed`."""
        self.toks = toks
        for self.i, tok in enumerate(toks):
            if self.frames[-1].on is not None and tok.kind != "comment":
                self._on_condition(tok, self.frames[-1])
            self.handler(tok)(tok, self.frames[-1])

    def handler(self, tok: Token) -> Callable[[Token, Frame], None]:
        if tok.kind == "punct":
            return self._punct
        if tok.kind != "word":
            return self._value
        word = tok.text.lower()
        frame = self.frames[-1]
        for test, handle in self.word_rules:
            if test(word, frame):
                return lambda t, f, handle=handle: handle(t, word, f)
        raise AssertionError("the last word rule always applies")

    def _next_text(self) -> str:
        return self.toks[self.i + 1].text if self.i + 1 < len(self.toks) else ""

    # --- handlers -------------------------------------------------------------------------------------

    def _punct(self, tok: Token, frame: Frame) -> None:
        text, nxt = tok.text, self._next_text()
        if text not in PUNCT:
            self.failed.add(tok.start)  # no stray characters in SQL outside quotes
        if text == "(":
            if nxt.lower() in ("select", "with"):
                self.frames.append(Frame())
            else:
                self.frames.append(Frame(clause=frame.clause, tables=frame.tables, subquery=False,
                                         select_columns=frame.select_columns))
            frame.expect_table = False
        elif text == ")":
            if self.prev == "(" and (self.i < 2 or self.toks[self.i - 2].text.lower() not in NO_ARGUMENTS):
                self.failed.add(tok.start)  # MIN() takes an argument
            closed = self.frames.pop() if len(self.frames) > 1 else None
            outer = self.frames[-1]
            if closed is not None and closed.subquery and outer.clause == "from":
                outer.tables.append(None)  # a derived table
                outer.last_table, outer.after_from_item = None, True
        elif text == "," and frame.clause == "from":
            frame.expect_table, frame.after_from_item = True, False
        self.prev = text

    def _value(self, tok: Token, frame: Frame) -> None:
        """A number, a string, a quoted name or a comment: nothing to check."""
        self.prev = tok.text if tok.kind != "comment" else self.prev
        frame.after_from_item = False

    def _qualified(self, tok: Token, word: str, frame: Frame) -> None:
        """A column after `qualifier.`: one of that table's (any, for a subquery or CTE alias)."""
        qualifier = self.toks[self.i - 2].text.lower() if self.i >= 2 else ""
        allowed = self._columns_of(qualifier)
        if allowed is not None and not (word in allowed if tok.complete else self.prefix_ok(tok.text, allowed)):
            self.failed.add(tok.start)
        if tok.complete and qualifier not in self.aliases and qualifier not in self.names.tables \
                and qualifier not in self.other_names:
            self.pending.setdefault(qualifier, set()).add(word)
        self.prev = word

    def _table(self, tok: Token, word: str, frame: Frame) -> None:
        if not self._table_ok(word, tok.text, tok.complete, frame):
            self.failed.add(tok.start)
        frame.expect_table = False
        if tok.complete:
            frame.tables.append(word if word in self.names.tables else None)
            frame.last_table, frame.after_from_item = word, True
        self.prev = word

    def _is_alias(self, word: str, frame: Frame) -> bool:
        return self.prev == "as" or self._implicit(word, frame)

    def _implicit(self, word: str, frame: Frame) -> bool:
        """`FROM t alias` without AS."""
        complete = self.toks[self.i].complete
        return frame.after_from_item and word not in KEYWORDS and not may_be_keyword(word, complete)

    def _alias(self, tok: Token, word: str, frame: Frame) -> None:
        if self._implicit(word, frame) and not ALIAS_SHAPE.fullmatch(word):
            self.failed.add(tok.start)  # FROM t alias: only short aliases (T1, e) without AS
        if tok.complete and not self._define_alias(word, frame):
            self.failed.add(tok.start)
        frame.after_from_item = False
        self.prev = word

    def _leading_with(self, tok: Token, word: str, frame: Frame) -> None:
        frame.after_from_item = False
        frame.clause = self.prev = word

    def _is_cte_name(self, word: str, frame: Frame) -> bool:
        return self.prev in ("with", "recursive") or (self.prev == "," and len(self.frames) == 1
                                                      and frame.clause == "with")

    def _cte_name(self, tok: Token, word: str, frame: Frame) -> None:
        frame.after_from_item = False
        if tok.complete:
            self.other_names.add(word)  # a CTE's name
        self.prev = word

    def _word(self, tok: Token, word: str, frame: Frame) -> None:
        """A keyword, function, column or alias anywhere else."""
        frame.after_from_item = False
        if not self._word_ok(word, tok.text, tok.complete, self._next_text()) \
                or (tok.complete and not in_place(word, frame, self.prev, self.toks, self.i)):
            self.failed.add(tok.start)
        if tok.complete:
            apply_keyword(word, frame)
            if frame.clause == "select" and word in self.names.columns and word not in KEYWORDS:
                frame.select_columns.add(word)
            if word == "on" and self.names.edges:
                frame.on, frame.on_edges = [], on_edges(self.names, frame.tables)
        self.prev = word

    def _on_condition(self, tok: Token, frame: Frame) -> None:
        """A token of ON's first condition, held to an equality along a key (constrain.joining)."""
        allowed = on_next(frame.on_edges, self._frame_qualifiers(frame), frame.on)
        if allowed is None:
            frame.on = None
            return
        ok = tok.text.lower() in allowed if tok.complete or tok.kind == "punct" else self.prefix_ok(tok.text, allowed)
        if not ok:
            self.failed.add(tok.start)
        frame.on.append(tok.text.lower())

    def _frame_qualifiers(self, frame: Frame) -> dict[str, str]:
        """Alias or table name -> table, for the tables in this level's FROM."""
        mine = {t for t in frame.tables if t is not None}
        return {**{t: t for t in mine}, **{a: t for a, t in self.aliases.items() if t in mine}}

    # --- what may stand at a position -------------------------------------------------------------------

    def _table_ok(self, word: str, written: str, complete: bool, frame: Frame) -> bool:
        tables = set(self.names.tables)
        # Aliases numbered T1, T2, ... in FROM order: columns already used with the next one narrow its table;
        # the first table must hold the unqualified columns SELECT named (when one table holds them all).
        numbered = sum(1 for a in self.aliases if re.fullmatch(r"t\d+", a))
        narrowed = False
        for need in (self.pending.get(f"t{numbered + 1}"), frame.select_columns if not frame.tables else None):
            if need:
                fit = {t for t in tables if need <= self.names.tables[t]}
                tables, narrowed = fit or tables, narrowed or bool(fit)
        adjacent = joinable(self.names, frame.tables) if self.prev == "join" else None
        if adjacent is not None:
            # a path runs through its bridge tables, unless the columns SELECT already used with this alias
            # name another table: then the query's own words win (its alias would fail otherwise)
            tables = (tables & adjacent) or (tables if narrowed else set(adjacent))
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
        if frame.clause not in SCOPED_CLAUSES or not frame.tables:
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
        if self.frames[-1].clause in SCOPED_CLAUSES:
            return names | {t for f in self.frames for t in f.tables if t is not None}, False
        return names | set(self.names.tables), True

    def _word_ok(self, word: str, written: str, complete: bool, nxt: str) -> bool:
        qualifiers, later = self._qualifiers()
        if complete and nxt == ".":
            return word in qualifiers or (later and bool(ALIAS_SHAPE.fullmatch(word)))
        scope = self._scope()
        keywords = KEYWORDS if self.frames[-1].clause in ("from", "on") else KEYWORDS - JOIN_WORDS
        pools = [keywords, self.other_names, self.names.columns if scope is None else scope]
        if complete:
            return any(word in p for p in pools) or (word in FUNCTIONS and nxt in ("(", ""))
        if later and ALIAS_SHAPE.fullmatch(word):
            return True  # may become a qualifier: T1.
        pools += [FUNCTIONS, qualifiers]
        return any(word in pool for pool in pools) or self.prefix_ok(written, set().union(*pools))

    def _define_alias(self, alias: str, frame: Frame) -> bool:
        if frame.clause == "from" and (frame.last_table is not None or self.prev == "as"):
            table = frame.last_table if frame.last_table in self.names.tables else None
            used = self.pending.pop(alias, set())
            self.aliases[alias] = table
            if table is not None and not used <= self.names.tables[table]:
                return False  # columns used earlier with this alias are not in the table it names
        else:
            self.other_names.add(alias)  # a column alias (SELECT ... AS n)
        return True
