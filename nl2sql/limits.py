"""What one SQL query may cost in the sandbox (nl2sql.sandbox): time, rows, the size of one value, the
bytes of one result, SQLite's memory. `Limits.from_env()` reads them from NL2SQL_* variables (README,
"Limits and safety"); the helpers here apply them to a connection and to fetching."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_TIMEOUT_S = 2.0
DEFAULT_MAX_ROWS = 1000


@dataclass(frozen=True)
class Limits:
    """What one query may cost. Environment: NL2SQL_SQL_TIMEOUT_S, NL2SQL_MAX_ROWS,
    NL2SQL_MAX_VALUE_BYTES, NL2SQL_MAX_RESULT_BYTES, NL2SQL_SQLITE_HEAP_MB."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    max_rows: int = DEFAULT_MAX_ROWS
    max_value_bytes: int = 1_000_000  # SQLITE_LIMIT_LENGTH: the largest string or blob a query may build
    max_result_bytes: int = 2_000_000  # all cells of one result together
    heap_mb: int = 512  # SQLite's hard heap limit, for the whole process (every connection together)

    @classmethod
    def from_env(cls, env=None) -> "Limits":
        env = os.environ if env is None else env
        keys = {"timeout_s": ("NL2SQL_SQL_TIMEOUT_S", float), "max_rows": ("NL2SQL_MAX_ROWS", int),
                "max_value_bytes": ("NL2SQL_MAX_VALUE_BYTES", int),
                "max_result_bytes": ("NL2SQL_MAX_RESULT_BYTES", int), "heap_mb": ("NL2SQL_SQLITE_HEAP_MB", int)}
        values = {}
        for name, (var, cast) in keys.items():
            if env.get(var):
                try:
                    values[name] = cast(env[var])
                except ValueError as e:
                    raise ValueError(f"{var} must be a number, got {env[var]!r}") from e
                if values[name] <= 0:
                    raise ValueError(f"{var} must be above 0, got {env[var]!r}")
        return cls(**values)


@lru_cache(maxsize=1)
def default_limits() -> Limits:
    return Limits.from_env()


_SPEC = re.compile(r"%[-+ 0#,!]*(\*|\d+)?(?:\.(\*|\d+))?")
_helpers = threading.local()


def printf_guard(guard, limit: int):
    """printf()/format() in place of SQLite's own: a width or precision over the value limit is refused
    at once. SQLite would return NULL, after spending seconds (2^31 => ~10 s) inside one call that the
    time limit cannot interrupt. Anything else is formatted by SQLite itself, on a helper connection."""

    def call(*args):
        fmt = args[0] if args and isinstance(args[0], str) else ""
        sizes = [int(x) for m in _SPEC.finditer(fmt) for x in m.groups() if x and x != "*"]
        if "*" in fmt:
            sizes += [abs(int(a)) for a in args[1:] if isinstance(a, (int, float))]
        if any(n > limit for n in sizes):
            guard.refused = f"printf() width or precision over {limit:,} (NL2SQL_MAX_VALUE_BYTES)"
            raise ValueError(guard.refused)
        helper = getattr(_helpers, "conn", None)
        if helper is None:
            helper = _helpers.conn = sqlite3.connect(":memory:", check_same_thread=False)
        helper.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limit)
        marks = ", ".join("?" * len(args))
        return helper.execute(f"SELECT printf({marks})", args).fetchone()[0]

    return call


_heap_lock = threading.Lock()
_heap_set: list[int] = []


def cap_heap(conn: sqlite3.Connection, mb: int) -> None:
    """PRAGMA hard_heap_limit is process-wide: set it once (again only if the limit changes)."""
    with _heap_lock:
        if _heap_set != [mb]:
            conn.execute(f"PRAGMA hard_heap_limit = {int(mb) * 1024 * 1024}")
            _heap_set[:] = [mb]


def _size(value) -> int:
    return len(value) if isinstance(value, (str, bytes)) else 8


def fetch(cur: sqlite3.Cursor, limits: Limits) -> tuple[list[tuple], str | None]:
    """(rows, why they were cut or None): at most max_rows rows and max_result_bytes bytes of cells.
    One row at a time: a batch of wide rows would be built in memory before the byte cap could see it."""
    rows, size = [], 0
    for row in iter(cur.fetchone, None):
        if len(rows) == limits.max_rows:
            return rows, f"the first {limits.max_rows:,} rows (NL2SQL_MAX_ROWS)"
        size += sum(_size(v) for v in row)
        if size > limits.max_result_bytes:
            return rows, f"the first {limits.max_result_bytes:,} bytes (NL2SQL_MAX_RESULT_BYTES)"
        rows.append(row)
    return rows, None
