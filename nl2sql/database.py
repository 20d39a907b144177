"""Your own database: a SQLAlchemy URL (`postgresql://...`, `duckdb:///file.duckdb`, `mysql://...`).

`open_database(url)` connects once (cached) and gives a `Database`: its schema read by SQLAlchemy's
inspector (tables, columns, types, primary and foreign keys, comments) as DDL text for the prompt, and
`run(sql)`, which runs one query in the database's own dialect, read-only **by the database**:

- PostgreSQL: a `READ ONLY` transaction with `statement_timeout` set in it, always rolled back; rows
  come through a server-side cursor, one at a time, against the row and byte caps (`nl2sql.limits`).
- MySQL/MariaDB: `START TRANSACTION READ ONLY` and `max_execution_time`.
- DuckDB: the file opened `read_only`, no access to other files (`enable_external_access=false`), a
  memory limit, and the query interrupted at the time limit.

Only queries are sent (a statement that is not one is refused with a message before it reaches the
server: `COPY ... TO PROGRAM` is allowed in a read-only transaction, so the database alone would not
stop it); the database's read-only mode stops what parsing cannot see (`SELECT nextval(...)`,
`SELECT ... FOR UPDATE`, functions that write). Give the kit a role that may only read, all the same.

A SQLite file (a path or `sqlite:///path`) is not opened here: nl2sql.sandbox runs it. Passwords never
leave this module and nl2sql.url: `masked(url)` is what messages, logs and pages show. URLs (nl2sql.url) and
the catalog read by the inspector (nl2sql.catalog) have modules of their own; their names callers use are
re-exported here.
"""

from __future__ import annotations

import atexit
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from nl2sql.catalog import read_tables, render_ddl  # noqa: F401 - render_ddl is re-exported
from nl2sql.limits import Limits, default_limits, fetch
from nl2sql.sandbox import RunResult
from nl2sql.url import (DRIVERS, DatabaseError, backend_of, dialect_of, engine_url, is_url,  # noqa: F401 - re-exported
                        masked, scrub, sqlite_path)

CONNECT_TIMEOUT_S = 5  # a server that is down or does not answer: a message after this long, never a hang


def _short(e: Exception, url: str) -> str:
    """A driver error's first meaningful line, scrubbed."""
    orig = getattr(e, "orig", None) or e
    args = getattr(orig, "args", ())
    text = str(args[1]) if len(args) >= 2 and isinstance(args[0], int) else str(orig)  # PyMySQL: (code, message)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith(("[SQL", "(Back"))]
    return scrub(lines[0] if lines else type(orig).__name__, url)


@dataclass
class Database:
    """One database behind a SQLAlchemy URL; `label` is what may be shown (no password)."""

    url: str = field(repr=False)
    dialect: str
    engine: object = field(repr=False)
    label: str = ""

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @cached_property
    def _tables(self) -> dict[str, dict]:
        try:
            return read_tables(self.engine)
        except Exception as e:  # noqa: BLE001 - any driver error becomes one line
            raise DatabaseError(f"cannot read the tables of {self.label}: {_short(e, self.url)}") from e

    def tables(self) -> list[str]:
        return list(self._tables)

    @cached_property
    def _ddl(self) -> str:
        if not self._tables:
            raise DatabaseError(f"{self.label} has no tables the kit can see")
        return render_ddl(self._tables)

    def schema(self) -> str:
        """The database's tables as DDL text: the prompt's schema, read once. DatabaseError when it has none."""
        return self._ddl

    def run(self, sql: str, limits: Limits | None = None, only_queries: bool = True) -> RunResult:
        """Run one statement (in this database's dialect) read-only, bounded in time, rows and bytes."""
        from nl2sql.sql import is_query

        limits = limits or default_limits()
        start = time.perf_counter()
        query = is_query(sql, self.dialect)
        if only_queries and not query:
            return RunResult(error="refused: only queries run on your database (it is opened read-only); "
                                   "this statement would change data or run a command", private=False, changes=True)
        timer = None
        try:
            raw = self.engine.raw_connection()
        except Exception as e:  # noqa: BLE001
            return RunResult(error=f"cannot connect to {self.label}: {_short(e, self.url)}", private=False)
        try:
            cur = self._begin(raw, limits, query)
            if self.backend == "duckdb":  # no server-side timeout: interrupt from a timer
                timer = threading.Timer(limits.timeout_s, raw.driver_connection.interrupt)
                timer.start()
            cur.execute(sql)
            rows, cut = fetch(cur, limits) if cur.description else ([], None)
            columns = [d[0] for d in cur.description or []]
            return RunResult(columns, [tuple(r) for r in rows], truncated=cut is not None, rowcount=cur.rowcount,
                             seconds=time.perf_counter() - start, cut=cut, private=False, changes=not cur.description)
        except Exception as e:  # noqa: BLE001 - the database's error is the answer's error
            elapsed = time.perf_counter() - start
            timed_out = elapsed >= limits.timeout_s * 0.95 and _looks_timed_out(e)
            msg = (f"query stopped: it ran longer than the {limits.timeout_s:g} s limit (NL2SQL_SQL_TIMEOUT_S)"
                   if timed_out else _short(e, self.url))
            return RunResult(error=msg, timed_out=timed_out, seconds=elapsed, private=False)
        finally:
            if timer:
                timer.cancel()
            try:
                raw.rollback()  # read-only anyway; nothing a query did is kept
            except Exception:  # noqa: BLE001
                raw.invalidate()
            raw.close()

    def _begin(self, raw, limits: Limits, query: bool):
        """A cursor inside a read-only transaction with the time limit set in the server session."""
        ms = max(1, int(limits.timeout_s * 1000))
        if self.backend == "postgresql":
            setup = raw.cursor()
            setup.execute("SET TRANSACTION READ ONLY")
            setup.execute(f"SET LOCAL statement_timeout = {ms}")
            setup.execute(f"SET LOCAL idle_in_transaction_session_timeout = {ms * 5}")
            setup.close()
            # A query gets a server-side cursor: rows cross the wire only as they are fetched.
            return raw.driver_connection.cursor(name="nl2sql_query") if query else raw.cursor()
        if self.backend in ("mysql", "mariadb"):
            setup = raw.cursor()
            if getattr(self.engine.dialect, "is_mariadb", False):  # MariaDB's name and unit for the same limit
                setup.execute(f"SET SESSION max_statement_time = {limits.timeout_s:g}")
            else:
                setup.execute(f"SET SESSION max_execution_time = {ms}")
            setup.execute("START TRANSACTION READ ONLY")
            setup.close()
            return raw.cursor()
        return raw.cursor()


def _looks_timed_out(e: Exception) -> bool:
    text = str(getattr(e, "orig", None) or e).lower()
    return any(w in text for w in ("statement timeout", "canceling statement", "interrupt", "max_execution_time",
                                   "maximum statement execution time"))


def _create_engine(url: str, limits: Limits):
    import sqlalchemy as sa

    backend = backend_of(url)
    args: dict = {}
    if backend in ("postgresql", "postgres"):
        args = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "nl2sql"}
    elif backend in ("mysql", "mariadb"):
        args = {"connect_timeout": CONNECT_TIMEOUT_S, "read_timeout": int(limits.timeout_s) + CONNECT_TIMEOUT_S}
    elif backend == "duckdb":
        path = url.split("://", 1)[1][1:]
        if not path or path == ":memory:":
            raise DatabaseError("a DuckDB URL names a file: duckdb:///path/to/file.duckdb")
        if not Path(path).is_file():
            raise DatabaseError(f"no such DuckDB file: {path}")
        # No other files (read_csv('/etc/passwd')); enable_external_access cannot be turned back on, and
        # SET is not a query, so the gate in Database.run refuses it anyway.
        args = {"read_only": True, "config": {"enable_external_access": False, "memory_limit": "1GB"}}
    engine = sa.create_engine(engine_url(url), connect_args=args, pool_pre_ping=True, pool_size=2, max_overflow=4)
    if backend == "duckdb":
        sa.event.listen(engine, "connect", lambda conn, _: conn.execute("SET enable_progress_bar = false"))
    return engine


_ENGINES: list = []  # every engine made, for close_all


def close_all() -> None:
    """Close every connection of the databases opened so far (at exit: DuckDB's bindings complain of
    objects still alive when the interpreter ends)."""
    while _ENGINES:
        _ENGINES.pop().dispose()
    open_database.cache_clear()


atexit.register(close_all)


@lru_cache(maxsize=8)
def open_database(url: str) -> Database:
    """Connect to the database at `url` (checked with one round trip); DatabaseError with a one-line
    message for a wrong URL, a missing driver, a refused login or a server that is down or silent."""
    url = url.strip()
    dialect = dialect_of(url)
    label = masked(url)
    if dialect == "sqlite":
        raise DatabaseError("a SQLite database is a file: pass its path (it is run by the sandbox)")
    try:
        engine = _create_engine(url, default_limits())
    except DatabaseError:
        raise
    except ModuleNotFoundError as e:
        need = DRIVERS.get(backend_of(url), e.name)
        raise DatabaseError(f"the driver for {backend_of(url)} is not installed: pip install {need}") from e
    except Exception as e:  # noqa: BLE001 - sqlalchemy.exc.ArgumentError and friends
        raise DatabaseError(f"not a database URL the kit can use: {label} ({_short(e, url)})") from e
    try:
        with engine.connect():
            pass
    except Exception as e:  # noqa: BLE001
        engine.dispose()
        raise DatabaseError(f"cannot connect to {label}: {_short(e, url)}") from e
    _ENGINES.append(engine)
    return Database(url, dialect, engine, label)


def database_schema(db) -> str:
    """The schema text of a database given as a URL or a SQLite file path."""
    path = sqlite_path(db)
    if path is not None:
        from nl2sql.sandbox import read_schema

        return read_schema(path)
    return open_database(db).schema()


__all__ = ["Database", "DatabaseError", "database_schema", "dialect_of", "is_url", "masked", "open_database",
           "scrub", "sqlite_path"]
