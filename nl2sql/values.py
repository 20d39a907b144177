"""Value linking: which columns hold the values a question names ("singers from France" -> singer.country).

When a request has data (a database, or rows in its schema), the distinct values of its text columns
are read once into an index (bounded: MAX_DISTINCT values per column, MAX_COLUMNS columns, BUDGET_S
seconds in all, each read under the sandbox's or the database's own limits) and cached per database.
A question's phrases (quoted strings; runs of 1-4 words that are not all stop words or numbers) are
looked up in it, case-insensitively. The hits keep their tables in the prompt (schema linking) and,
with `Decoding.values`, are shown beside their columns: `singer(name, country ('France'))`.
Training prompts get the same hints from the same functions where a row has data (train = serve).
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from nl2sql.schema import Schema, affinity, quote_ident
from nl2sql.words import STOP_WORDS

MAX_DISTINCT = 1000  # distinct values read per text column
MAX_CHARS = 60  # longer values are prose, not names a question would quote
MAX_COLUMNS = 300  # text columns read per database
BUDGET_S = 3.0  # seconds for building one index; past it the index is marked incomplete
MAX_NGRAM = 4  # words in a phrase looked up
MAX_SHOWN = 2  # values shown per column in the prompt
MAX_HOLDERS = 3  # columns holding one value, at most, for its tables to be kept by linking
CACHE_SIZE = 16  # indexes kept (one per database or pasted schema)
_STOP = STOP_WORDS | {"not", "no"}  # a value never starts or ends with these
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'.&-]*")
_QUOTED = re.compile(r"""["“']([^"”']{1,60})["”']""")


@dataclass(frozen=True)
class ValueHit:
    table: str
    column: str
    value: str  # as stored


@dataclass
class ValueIndex:
    """Lower-cased value -> [(table, column, value as stored)]; `complete` is False when a bound cut it."""

    entries: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    columns: int = 0
    complete: bool = True
    seconds: float = 0.0

    def find(self, question: str) -> list[ValueHit]:
        """The stored values the question names, longest phrases first, each column once per value."""
        out, seen = [], set()
        for phrase in phrases(question):
            for table, column, value in self.entries.get(phrase.lower(), ()):
                if (table, column, value) not in seen:
                    seen.add((table, column, value))
                    out.append(ValueHit(table, column, value))
        return out


def phrases(question: str) -> list[str]:
    """Quoted strings, then runs of 1-MAX_NGRAM words, longest first; runs of only stop words or
    numbers are left out (a number matches too many columns to say which one is meant)."""
    out = [m.group(1).strip() for m in _QUOTED.finditer(question)]
    words = [w.strip(".'-") for w in _WORD.findall(question)]
    for n in range(MAX_NGRAM, 0, -1):
        for i in range(len(words) - n + 1):
            run = words[i:i + n]
            if all(w.lower() in _STOP or w.isdigit() or len(w) < 2 for w in run):
                continue
            if n == 1 and len(run[0]) < 3:
                continue
            out.append(" ".join(run))
    return list(dict.fromkeys(p for p in out if p))


def text_columns(schema: Schema) -> list[tuple[str, str]]:
    """(table, column) of every column that may hold names: TEXT affinity, or no type at all."""
    return [(t.name, c.name) for t in schema.tables for c in t.columns if affinity(c.type or "") in ("TEXT", "")]


def build_index(run: Callable[[str], object], schema: Schema, budget_s: float = BUDGET_S) -> ValueIndex:
    """Read the distinct values of the schema's text columns with `run(sql) -> RunResult` (SQLite SQL;
    the pipeline runs it where the data lives, under its limits)."""
    start, index = time.perf_counter(), ValueIndex()
    columns = text_columns(schema)
    if len(columns) > MAX_COLUMNS:
        columns, index.complete = columns[:MAX_COLUMNS], False
    for table, column in columns:
        if time.perf_counter() - start > budget_s:
            index.complete = False
            break
        result = run(f"SELECT DISTINCT {quote_ident(column)} FROM {quote_ident(table)} WHERE {quote_ident(column)} IS NOT NULL "
                     f"LIMIT {MAX_DISTINCT}")
        if result is None or not result.ok:
            continue
        index.columns += 1
        index.complete &= len(result.rows) < MAX_DISTINCT
        for (value,) in result.rows:
            if isinstance(value, str) and 0 < len(value) <= MAX_CHARS and not value.strip().isdigit():
                index.entries.setdefault(value.strip().lower(), []).append((table, column, value))
    index.seconds = time.perf_counter() - start
    return index


class IndexCache:
    """Indexes by a key naming the data (a file with its size and mtime, a URL, a schema's text): least
    recently used first out."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size, self.items = size, OrderedDict()

    def get(self, key, make: Callable[[], ValueIndex]) -> ValueIndex:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        index = self.items[key] = make()
        while len(self.items) > self.size:
            self.items.popitem(last=False)
        return index


def linked_tables(hits: list[ValueHit]) -> set[str]:
    """The tables (lower-cased) that schema linking keeps for the values a question names: those holding a
    value that at most MAX_HOLDERS columns hold (a status like 'open' held by a hundred tables says nothing
    of which one the question means)."""
    holders: dict[str, int] = {}
    for h in hits:
        holders[h.value.lower()] = holders.get(h.value.lower(), 0) + 1
    return {h.table.lower() for h in hits if holders[h.value.lower()] <= MAX_HOLDERS}


def by_column(hits: list[ValueHit]) -> dict[tuple[str, str], list[str]]:
    """{(table, column) lower-cased: up to MAX_SHOWN values}, for the prompt."""
    out: dict[tuple[str, str], list[str]] = {}
    for h in hits:
        shown = out.setdefault((h.table.lower(), h.column.lower()), [])
        if len(shown) < MAX_SHOWN and h.value not in shown:
            shown.append(h.value)
    return out


__all__ = ["IndexCache", "ValueHit", "ValueIndex", "build_index", "by_column", "linked_tables", "phrases", "text_columns"]
