"""Run one SQL query on SQLite, safely and bounded in time and memory.

Either on an in-memory database built from a schema (DDL + optional INSERTs), or on an existing
.sqlite file opened read-only (or copied into memory, so DML runs on a private copy). An authorizer
refuses ATTACH, load_extension, file access and state-changing PRAGMAs; a progress handler ends
runaway queries at the time limit; SQLite refuses any value over a byte limit (`printf('%.*c', 3e8,
'x')`, `randomblob(1e9)`) and its memory is capped process-wide; rows and the bytes of one result
are capped. The limits (`Limits`) come from the environment: README, "Limits and safety".
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from nl2sql.limits import Limits, cap_heap, default_limits, fetch, printf_guard  # noqa: F401 - Limits is public here
from nl2sql.schema import SchemaError, quote_ident, split_statements

MAX_CELL_CHARS = 200  # what a table shows of one value (the full value stays in RunResult)
# PRAGMAs that only describe tables (their argument is a table name); any other may change state or reveal paths.
_READ_PRAGMAS = {"table_info", "table_xinfo", "index_list", "index_info", "foreign_key_list", "table_list"}
_REFUSED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}
_WRITES = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE, sqlite3.SQLITE_CREATE_TABLE,
           sqlite3.SQLITE_DROP_TABLE, sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_CREATE_INDEX,
           sqlite3.SQLITE_DROP_INDEX, sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_DROP_VIEW,
           sqlite3.SQLITE_CREATE_TRIGGER, sqlite3.SQLITE_DROP_TRIGGER, sqlite3.SQLITE_CREATE_TEMP_TABLE}


@dataclass
class RunResult:
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    error: str | None = None
    timed_out: bool = False
    truncated: bool = False  # more rows existed than the caps let through
    rowcount: int = -1  # rows changed by DML, when applicable
    seconds: float = 0.0
    snapshot: dict[str, list[tuple]] | None = None  # every table's rows after the query, when asked for
    cut: str | None = None  # which cap truncated the rows
    private: bool = True  # ran on a throwaway database (built from the schema, or a copy): nothing was saved
    changes: bool = False  # the statement changes data or schema (not a query)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Guard:
    """Authorizer state: what the current phase may do, and why the last refusal happened."""

    read_only: bool = False
    refused: str | None = None

    def __call__(self, action, arg1, arg2, db_name, trigger):
        reason = None
        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            reason = "ATTACH/DETACH is not allowed"
        elif action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _REFUSED_FUNCTIONS:
            reason = f"function {arg2}() is not allowed"
        elif action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() not in _READ_PRAGMAS:
            reason = f"PRAGMA {arg1} is not allowed"
        elif self.read_only and action in _WRITES:
            reason = "the database is read-only"
        if reason:
            self.refused = reason
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK


def _connect(db_path: str | Path | None, copy: bool = False,
             limits: Limits | None = None) -> tuple[sqlite3.Connection, _Guard]:
    """A guarded connection: in-memory, the file read-only, or (copy=True) a private in-memory copy of it."""
    if db_path is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        guard = _Guard()
    else:
        path = Path(db_path)
        if not path.is_file():
            raise FileNotFoundError(f"no such database file: {path}")
        # mode=ro refuses writes at the SQLite level; the guard turns them into a clear message.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        guard = _Guard(read_only=not copy)
        if copy:
            mem = sqlite3.connect(":memory:", check_same_thread=False)
            conn.backup(mem)
            conn.close()
            conn = mem
    limits = limits or default_limits()
    cap_heap(conn, limits.heap_mb)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limits.max_value_bytes)
    for name in ("printf", "format"):
        conn.create_function(name, -1, printf_guard(guard, limits.max_value_bytes))
    conn.set_authorizer(guard)
    return conn, guard


def snapshot(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every user table's rows, sorted, for comparing database states after DML."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: sorted(conn.execute(f"SELECT * FROM {quote_ident(n)}").fetchall(), key=repr) for n in names}


def _message(e: sqlite3.Error, guard: _Guard, timed_out: bool, limits: Limits) -> str:
    if timed_out:
        return f"query stopped: it ran longer than the {limits.timeout_s:g} s limit (NL2SQL_SQL_TIMEOUT_S)"
    if guard.refused and ("not authorized" in str(e) or "user-defined function" in str(e)):
        return f"refused: {guard.refused}"
    if "too big" in str(e):
        return (f"refused: a value would be larger than {limits.max_value_bytes:,} bytes "
                f"(NL2SQL_MAX_VALUE_BYTES)")
    if isinstance(e, sqlite3.OperationalError) and "out of memory" in str(e):
        return f"refused: SQLite's memory limit of {limits.heap_mb} MB was reached (NL2SQL_SQLITE_HEAP_MB)"
    return f"{type(e).__name__}: {e}"


def load_schema(conn: sqlite3.Connection, schema: str, context: str | None = None) -> None:
    """Create the schema's tables (and rows) statement by statement; SchemaError names the bad one."""
    for stmt in split_statements(schema) + (split_statements(context) if context else []):
        try:
            conn.execute(stmt)
        except sqlite3.Error as e:
            raise SchemaError(f"schema statement failed ({e}): {stmt[:80]}") from e
    conn.commit()


def run(sql: str, schema: str | None = None, context: str | None = None, db_path: str | Path | None = None,
        timeout_s: float | None = None, max_rows: int | None = None, copy: bool = False,
        with_snapshot: bool = False, limits: Limits | None = None) -> RunResult:
    """Run one statement on a fresh in-memory DB built from `schema` (+ `context`), or on `db_path`:
    read-only, or with copy=True on a private in-memory copy (so DML can run and be compared).
    with_snapshot=True also returns every table's rows afterwards. `limits` (default: from the
    environment) bound it; timeout_s and max_rows override those two."""
    limits = limits or default_limits()
    limits = replace(limits, timeout_s=timeout_s or limits.timeout_s, max_rows=max_rows or limits.max_rows)
    timeout_s = limits.timeout_s
    private = db_path is None or copy
    start = time.perf_counter()
    try:
        conn, guard = _connect(db_path, copy, limits)
    except (FileNotFoundError, sqlite3.Error) as e:
        return RunResult(error=str(e), private=private)
    deadline = [0.0]
    timed_out = [False]

    def on_progress() -> int:
        if time.perf_counter() > deadline[0]:
            timed_out[0] = True
            return 1  # non-zero interrupts the running statement
        return 0

    conn.set_progress_handler(on_progress, 1000)
    try:
        deadline[0] = time.perf_counter() + timeout_s
        if schema:
            load_schema(conn, schema, context)
        deadline[0] = time.perf_counter() + timeout_s
        cur = conn.execute(sql)
        rows, cut = fetch(cur, limits)
        columns = [d[0] for d in cur.description or []]
        state = snapshot(conn) if with_snapshot else None
        return RunResult(columns, rows, truncated=cut is not None, rowcount=cur.rowcount,
                         seconds=time.perf_counter() - start, snapshot=state, cut=cut, private=private,
                         changes=not cur.description)
    except SchemaError as e:
        return RunResult(error=str(e), timed_out=timed_out[0], seconds=time.perf_counter() - start, private=private)
    except (sqlite3.Error, ValueError, OverflowError, MemoryError) as e:  # ValueError: several statements, NUL
        msg = _message(e, guard, timed_out[0], limits) if isinstance(e, sqlite3.Error) else str(e) or type(e).__name__
        return RunResult(error=msg, timed_out=timed_out[0], seconds=time.perf_counter() - start, private=private)
    finally:
        conn.close()


def shown(value, max_chars: int = MAX_CELL_CHARS) -> str:
    """One value as a table shows it: NULL, bytes by size, long text cut with a visible marker."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"<{len(value):,} bytes>"
    text = str(value)
    return text if len(text) <= max_chars else f"{text[:max_chars]}… [{len(text):,} chars, cut]"


def describe(result: RunResult) -> str:
    """One line on what a run did: rows returned or changed, where, how long, and any cap that cut it."""
    if not result.ok:
        return f"error: {result.error}"
    ms = f"{result.seconds * 1000:.0f} ms"
    if result.changes:
        changed = f"{result.rowcount} row{'s' if result.rowcount != 1 else ''} changed" if result.rowcount >= 0 \
            else "done"
        where = "on a private copy: nothing was saved" if result.private else "on the database"
        return f"{changed} {where} ({ms})"
    n = len(result.rows)
    text = f"{n}{'+' if result.truncated else ''} row{'s' if n != 1 else ''} in {ms}"
    return text + (f" (showing {result.cut})" if result.cut else "")


def format_table(result: RunResult, max_rows: int = 20) -> str:
    """A plain-text table of a RunResult for terminals and logs."""
    if result.error or not result.columns:
        return describe(result)
    cells = [[shown(v) for v in row] for row in result.rows[:max_rows]]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(result.columns)]
    line = lambda values: " | ".join(c.ljust(w) for c, w in zip(values, widths))  # noqa: E731
    out = [line(result.columns), "-+-".join("-" * w for w in widths)] + [line(r) for r in cells]
    more = len(result.rows) - len(cells)
    if more > 0 or result.truncated:
        out.append(f"... {more}{'+' if result.truncated else ''} more rows")
    return "\n".join(out)


def read_schema(db_path: str | Path) -> str:
    """The CREATE TABLE statements of an existing SQLite file (opened read-only)."""
    conn, _ = _connect(db_path)
    try:
        rows = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL "
                            "AND name NOT LIKE 'sqlite_%'").fetchall()
    except sqlite3.DatabaseError as e:
        raise SchemaError(f"{db_path} is not a readable SQLite database: {e}") from e
    finally:
        conn.close()
    return "".join(r[0].strip() + ";\n" for r in rows)
