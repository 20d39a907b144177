"""Run one SQL query on SQLite, safely and time-bounded.

Either on an in-memory database built from a schema (DDL + optional INSERTs), or on an existing
.sqlite file opened read-only. An authorizer refuses ATTACH, load_extension, file access and
state-changing PRAGMAs; a progress handler ends runaway queries at the time limit; rows are capped.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from nl2sql.schema import SchemaError, split_statements

DEFAULT_TIMEOUT_S = 2.0
DEFAULT_MAX_ROWS = 1000
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
    truncated: bool = False  # more rows existed than the cap
    rowcount: int = -1  # rows changed by DML, when applicable
    seconds: float = 0.0
    snapshot: dict[str, list[tuple]] | None = None  # every table's rows after the query, when asked for

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


def _connect(db_path: str | Path | None, copy: bool = False) -> tuple[sqlite3.Connection, _Guard]:
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
    conn.set_authorizer(guard)
    return conn, guard


def snapshot(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every user table's rows, sorted, for comparing database states after DML."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: sorted(conn.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}


def _message(e: sqlite3.Error, guard: _Guard, timed_out: bool, timeout_s: float) -> str:
    if timed_out:
        return f"query stopped: it ran longer than the {timeout_s:g} s limit"
    if guard.refused and "not authorized" in str(e):
        return f"refused: {guard.refused}"
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
        timeout_s: float = DEFAULT_TIMEOUT_S, max_rows: int = DEFAULT_MAX_ROWS, copy: bool = False,
        with_snapshot: bool = False) -> RunResult:
    """Run one statement on a fresh in-memory DB built from `schema` (+ `context`), or on `db_path`:
    read-only, or with copy=True on a private in-memory copy (so DML can run and be compared).
    with_snapshot=True also returns every table's rows afterwards."""
    start = time.perf_counter()
    try:
        conn, guard = _connect(db_path, copy)
    except (FileNotFoundError, sqlite3.Error) as e:
        return RunResult(error=str(e))
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
        rows = cur.fetchmany(max_rows + 1)
        columns = [d[0] for d in cur.description or []]
        state = snapshot(conn) if with_snapshot else None
        return RunResult(columns, rows[:max_rows], truncated=len(rows) > max_rows, rowcount=cur.rowcount,
                         seconds=time.perf_counter() - start, snapshot=state)
    except SchemaError as e:
        return RunResult(error=str(e), timed_out=timed_out[0], seconds=time.perf_counter() - start)
    except (sqlite3.Error, ValueError, OverflowError) as e:  # ValueError: several statements, NUL bytes
        msg = _message(e, guard, timed_out[0], timeout_s) if isinstance(e, sqlite3.Error) else str(e)
        return RunResult(error=msg, timed_out=timed_out[0], seconds=time.perf_counter() - start)
    finally:
        conn.close()


def format_table(result: RunResult, max_rows: int = 20) -> str:
    """A plain-text table of a RunResult for terminals and logs."""
    if result.error:
        return f"error: {result.error}"
    if not result.columns:
        return f"ok ({result.rowcount} rows changed)" if result.rowcount >= 0 else "ok"
    shown = [[("NULL" if v is None else str(v)) for v in row] for row in result.rows[:max_rows]]
    widths = [max([len(c)] + [len(r[i]) for r in shown]) for i, c in enumerate(result.columns)]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    out = [line(result.columns), "-+-".join("-" * w for w in widths)] + [line(r) for r in shown]
    more = len(result.rows) - len(shown)
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
