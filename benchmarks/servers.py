"""Throwaway database servers for tests and measurements, and a SQLite -> PostgreSQL/DuckDB copier.

`TempPostgres()` / `TempMariaDB()`: a real PostgreSQL / MariaDB server from Debian's packages
(`apt-get install postgresql mariadb-server`; .ci/run installs both) in a temporary folder, listening
only on a Unix socket there. Run as root (CI), each runs its server as the unprivileged user `nobody`,
since both refuse to run as root. `copy_sqlite(path, url)` copies a SQLite database's tables and rows
into another database (the Spider dev databases into PostgreSQL and DuckDB for `benchmarks.dialects`):
column types from SQLite's affinity, widened to text where the rows disagree with the declared type;
primary and foreign keys where the rows allow them.

    python -m benchmarks.servers   # start a PostgreSQL server, print its URL, stop on Enter
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

PG_USER = "nl2sql"  # the server's superuser, made by initdb
UNPRIVILEGED = "nobody"


def stop_server(proc: subprocess.Popen | None, workdir: str | Path) -> None:
    """Stop a server process we started (terminate, then kill after 20 s) and remove its temporary dir."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    shutil.rmtree(workdir, ignore_errors=True)


def postgres_bin() -> Path | None:
    """The folder of initdb/pg_ctl from Debian's package (newest version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class TempPostgres:
    """A PostgreSQL server in a temp dir on a Unix socket; `url(db)` gives its SQLAlchemy URL."""

    def __init__(self, port: int = 5432):
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="nl2sql-pg-"))
        self.data, self.socket = self.dir / "data", self.dir / "socket"
        self._user = None
        if os.geteuid() == 0:
            import pwd

            entry = pwd.getpwnam(UNPRIVILEGED)
            self._user = (entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        kw = dict(user=self._user[0], group=self._user[1], extra_groups=[]) if self._user else {}
        return subprocess.run([str(a) for a in args], check=check, capture_output=True, text=True,
                              timeout=timeout, cwd=self.dir, **kw)

    def start(self) -> "TempPostgres":
        self.socket.mkdir(parents=True)
        if self._user:
            for p in (self.dir, self.socket):
                os.chown(p, *self._user)
        self._run(self.bin / "initdb", "-D", self.data, "-U", PG_USER, "--auth=trust", "--no-sync", "-E", "UTF8",
                  "--locale=C")
        # The superuser logs in without a password; every other role needs its password (tests of refused logins).
        (self.data / "pg_hba.conf").write_text(f"local all {PG_USER} trust\nlocal all all scram-sha-256\n")
        opts = f"-c listen_addresses='' -c unix_socket_directories={self.socket} -p {self.port} -c fsync=off"
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.dir / "server.log", "-o", opts, "-w", "start")
        return self

    def url(self, database: str = "postgres", user: str = PG_USER, password: str | None = None) -> str:
        login = f"{user}:{password}" if password else user
        return f"postgresql://{login}@/{database}?host={self.socket}&port={self.port}"

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement as the superuser, outside a transaction (CREATE DATABASE, roles)."""
        import psycopg

        with psycopg.connect(host=str(self.socket), port=self.port, user=PG_USER, dbname=database,
                             autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, name: str) -> str:
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "TempPostgres":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class TempMariaDB:
    """A MariaDB server (Debian's `mariadb-server`) in a temp dir on a Unix socket, no TCP; as `nobody`
    when run as root. `url(db)` gives its SQLAlchemy URL (root, no password: the socket is private)."""

    def __init__(self):
        self.bin = shutil.which("mariadbd") or (shutil.which("mysqld") if shutil.which("mariadb-install-db") else None)
        if self.bin is None or shutil.which("mariadb-install-db") is None:
            raise RuntimeError("MariaDB is not installed: apt-get install mariadb-server")
        self.dir = Path(tempfile.mkdtemp(prefix="nl2sql-mariadb-"))
        self.data, self.socket = self.dir / "data", self.dir / "mysql.sock"
        self.proc = None
        self._kw = {}
        if os.geteuid() == 0:
            import pwd

            entry = pwd.getpwnam(UNPRIVILEGED)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            self._kw = dict(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[])

    def start(self, timeout: float = 30) -> "TempMariaDB":
        import time

        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", "--skip-test-db",
                        "--auth-root-authentication-method=normal"], check=True, capture_output=True, timeout=120,
                       cwd=self.dir, **self._kw)
        self.proc = subprocess.Popen([self.bin, "--no-defaults", f"--datadir={self.data}", f"--socket={self.socket}",
                                      "--skip-networking", f"--pid-file={self.dir / 'server.pid'}",
                                      f"--log-error={self.dir / 'server.log'}"], cwd=self.dir,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **self._kw)
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"MariaDB did not start: {(self.dir / 'server.log').read_text()[-500:]}")
            time.sleep(0.1)
        return self

    def url(self, database: str, user: str = "root", password: str | None = None) -> str:
        login = f"{user}:{password}" if password else user
        return f"mysql://{login}@localhost/{database}?unix_socket={self.socket}"

    def sql(self, statement: str, database: str | None = None) -> None:
        import pymysql

        conn = pymysql.connect(unix_socket=str(self.socket), user="root", database=database, autocommit=True)
        try:
            conn.cursor().execute(statement)
        finally:
            conn.close()

    def create_database(self, name: str) -> str:
        self.sql(f"CREATE DATABASE `{name}`")
        return self.url(name)

    def stop(self) -> None:
        stop_server(self.proc, self.dir)

    def __enter__(self) -> "TempMariaDB":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _affinity_type(declared: str, values: list) -> str:
    """A portable column type for `values`: the declared type's affinity, or TEXT when a value disagrees."""
    from nl2sql.schema import affinity

    kind = affinity(declared or "")
    present = [v for v in values if v is not None]
    if kind == "INTEGER" and all(isinstance(v, int) and abs(v) < 2**63 for v in present):
        return "BIGINT"
    if kind in ("INTEGER", "REAL", "NUMERIC") and all(isinstance(v, (int, float)) for v in present):
        return "DOUBLE PRECISION" if any(isinstance(v, float) for v in present) or kind == "REAL" else "BIGINT"
    if kind == "BLOB" and all(isinstance(v, bytes) for v in present):
        return "BYTEA"
    return "TEXT"


def _text(v, kind: str):
    if v is None or kind != "TEXT":
        return v
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def copy_sqlite(sqlite_path: str | Path, url: str) -> dict[str, int]:
    """Copy every table of a SQLite file into the (empty) database at `url`; {table: rows copied}."""
    import sqlalchemy as sa

    from nl2sql.database import engine_url
    from nl2sql.schema import quote_ident

    src = sqlite3.connect(f"{Path(sqlite_path).resolve().as_uri()}?mode=ro", uri=True)
    src.text_factory = lambda b: b.decode("utf-8", "replace")
    engine = sa.create_engine(engine_url(url))
    duck = engine.dialect.name == "duckdb"
    q = quote_ident
    copied, keys, refs = {}, [], []
    try:
        names = [r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                           "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        with engine.begin() as conn:
            for name in names:
                info = src.execute(f"PRAGMA table_info({q(name)})").fetchall()
                rows = src.execute(f"SELECT * FROM {q(name)}").fetchall()
                kinds = [_affinity_type(c[2], [r[i] for r in rows]) for i, c in enumerate(info)]
                if duck:
                    kinds = [k.replace("BYTEA", "BLOB") for k in kinds]
                cols = ", ".join(f"{q(c[1])} {k}" for c, k in zip(info, kinds))
                conn.exec_driver_sql(f"CREATE TABLE {q(name)} ({cols})")
                if rows:
                    marks = ", ".join(["?" if duck else "%s"] * len(info))
                    data = [tuple(_text(v, k) for v, k in zip(r, kinds)) for r in rows]
                    conn.exec_driver_sql(f"INSERT INTO {q(name)} VALUES ({marks})", data)
                copied[name] = len(rows)
                pk = [c[1] for c in sorted(info, key=lambda c: c[5]) if c[5]]
                if pk:
                    keys.append(f"ALTER TABLE {q(name)} ADD PRIMARY KEY ({', '.join(map(q, pk))})")
                for fk in src.execute(f"PRAGMA foreign_key_list({q(name)})").fetchall():
                    if fk[4] and not duck:  # DuckDB cannot add a foreign key to an existing table
                        refs.append(f"ALTER TABLE {q(name)} ADD FOREIGN KEY ({q(fk[3])}) "
                                    f"REFERENCES {q(fk[2])} ({q(fk[4])}) NOT VALID")
        # Primary keys first; each statement alone: one the rows do not allow (duplicates, no unique target) is skipped.
        for statement in keys + refs:
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql(statement)
            except sa.exc.SQLAlchemyError:
                pass
    finally:
        src.close()
        engine.dispose()
    return copied


if __name__ == "__main__":
    with TempPostgres() as pg:
        print(pg.url(), flush=True)
        input("PostgreSQL is running; press Enter to stop it. ")
