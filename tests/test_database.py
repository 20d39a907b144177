"""Your own database (nl2sql.database): DuckDB files and a real PostgreSQL server, read-only by the database.

The PostgreSQL tests start a real server from Debian's `postgresql` package (benchmarks.servers), which
.ci/run installs; where it is not installed they are skipped, except under CI, where that is a failure.
"""

from __future__ import annotations

import os
import socket
import threading

import pytest

from benchmarks.servers import TempPostgres, postgres_bin
from nl2sql import database
from nl2sql.database import DatabaseError, dialect_of, is_url, masked, open_database, scrub, sqlite_path
from nl2sql.pipeline import Request, answer, run_sql
from nl2sql.schema import parse_schema
from nl2sql.sql import transpile
from tests.conftest import scripted

ROWS = [(1, "Ana", "France", 30), (2, "Bo", "Spain", 41), (3, "Cy", "France", 25)]
SECRET = "s3cret-pa55"


def _fill(conn, blob: str) -> None:
    """Mixed-case names, as a database made by hand may have them: the model writes them in any case."""
    conn.execute('CREATE TABLE "Singer" ("Singer_ID" INTEGER PRIMARY KEY, "Name" TEXT, country TEXT, age INTEGER)')
    conn.execute('CREATE TABLE concert (id INTEGER PRIMARY KEY, "Singer_ID" INTEGER REFERENCES "Singer" ("Singer_ID"), '
                 'year INTEGER)')
    for row in ROWS:
        conn.execute(f'INSERT INTO "Singer" VALUES ({row[0]}, \'{row[1]}\', \'{row[2]}\', {row[3]})')
    conn.execute("INSERT INTO concert VALUES (10, 1, 2020), (11, 1, 2021), (12, 3, 2021)")
    conn.execute(blob)


@pytest.fixture(scope="module")
def duck(tmp_path_factory) -> str:
    import duckdb

    path = tmp_path_factory.mktemp("duck") / "music.duckdb"
    conn = duckdb.connect(str(path))
    _fill(conn, "CREATE SEQUENCE tickets")
    conn.close()
    return f"duckdb:///{path}"


@pytest.fixture(scope="module")
def pg():
    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: .ci/run installs it (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = TempPostgres(port=54329).start()
    try:
        url = server.create_database("music")
        server.sql("CREATE SEQUENCE tickets", "music")
        import psycopg

        with psycopg.connect(host=str(server.socket), port=server.port, user="nl2sql", dbname="music",
                             autocommit=True) as conn:
            _fill(conn, f"CREATE ROLE reader LOGIN PASSWORD '{SECRET}'")
            conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
        server.music = url
        yield server
    finally:
        server.stop()


def _count(url: str) -> int:
    return open_database(url).run('SELECT COUNT(*) FROM "Singer"').rows[0][0]


# --- URLs, dialects, masking: no database needed -------------------------------------------------------------

def test_urls_and_paths_are_told_apart():
    assert is_url("postgresql://u@h/db") and is_url("duckdb:///x.duckdb") and not is_url("dbs/x.sqlite")
    assert dialect_of("postgresql+psycopg://u@h/db") == "postgres" and dialect_of("duckdb:///x") == "duckdb"
    assert dialect_of("mysql://u@h/db") == "mysql" and dialect_of("x.sqlite") == "sqlite"
    assert str(sqlite_path("sqlite:///tmp/x.sqlite")) == "tmp/x.sqlite"
    assert str(sqlite_path("sqlite:////tmp/x.sqlite")) == "/tmp/x.sqlite"
    assert sqlite_path("postgresql://h/db") is None
    with pytest.raises(DatabaseError, match="unsupported database 'oracle'"):
        dialect_of("oracle://u@h/db")


def test_passwords_never_show():
    url = f"postgresql://ana:{SECRET}@db.example/sales"
    assert SECRET not in masked(url) and "***" in masked(url) and "db.example/sales" in masked(url)
    assert SECRET not in scrub(f"could not connect with {url} (password {SECRET})", url)
    assert SECRET not in repr(database.Database(url, "postgres", None, masked(url)))


@pytest.mark.parametrize("url,message", [
    ("oracle://u:pw@h/db", "unsupported database"),
    ("duckdb:///no/such/file.duckdb", "no such DuckDB file"),
    ("duckdb:///:memory:", "a DuckDB URL names a file"),
    ("postgresql://u:pw@/db?host=/no/such/dir&port=1", "cannot connect to postgresql://u:***@/db"),
    ("sqlite:///x.sqlite", "a SQLite database is a file"),
])
def test_bad_urls_are_one_line_errors(url, message):
    with pytest.raises(DatabaseError, match=message.replace("*", r"\*").replace("?", r"\?")) as err:
        open_database(url)
    assert "\n" not in str(err.value) and "pw@" not in str(err.value)


def test_a_server_that_never_answers_is_an_error_within_the_timeout(monkeypatch):
    monkeypatch.setattr(database, "CONNECT_TIMEOUT_S", 1)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    # The driver's connect timeout (CONNECT_TIMEOUT_S) is what ends the wait: without it this would hang.
    with pytest.raises(DatabaseError, match="cannot connect .*timeout expired"):
        open_database(f"postgresql://u:{SECRET}@127.0.0.1:{listener.getsockname()[1]}/db")
    listener.close()


def test_sqlite_habits_are_fitted_to_other_dialects():
    schema = parse_schema('CREATE TABLE "Singer" ("Singer_ID" INT, "Name" TEXT, country TEXT);'
                          'CREATE TABLE concert (id INT, "Singer_ID" INT)')
    sql = ('SELECT T1.name, COUNT(*) AS n FROM singer AS T1 JOIN concert ON T1.singer_id = concert.singer_id '
           'WHERE T1.country = "France" GROUP BY T1.name ORDER BY n DESC')
    out, errors = transpile(sql, "sqlite", "postgres", schema=schema, respell=True)
    assert not errors
    assert 'FROM "Singer" AS T1' in out and 'T1."Name"' in out and "T1.country = 'France'" in out
    assert 'concert."Singer_ID"' in out and "ORDER BY n DESC" in out
    # From a pasted schema the spelling is not known to be the stored one: only the strings are fixed.
    out, _ = transpile(sql, "sqlite", "postgres", schema=schema)
    assert "FROM singer AS T1" in out and "'France'" in out


# --- DuckDB ---------------------------------------------------------------------------------------------------

def test_duckdb_schema_is_read_by_the_inspector(duck):
    db = open_database(duck)
    assert db.dialect == "duckdb" and db.tables() == ["Singer", "concert"]
    ddl = db.schema()
    assert 'CREATE TABLE "Singer" ("Singer_ID" INTEGER, "Name" VARCHAR' in ddl
    assert 'FOREIGN KEY ("Singer_ID") REFERENCES "Singer" ("Singer_ID")' in ddl


def test_duckdb_answers_in_its_own_dialect(duck):
    lm = scripted(['SELECT name FROM singer WHERE country = "France" ORDER BY age LIMIT 5;'])
    ans = answer(lm, Request("Which singers are from France, youngest first?", db=duck))
    assert ans.dialect == "duckdb" and ans.ok
    assert ans.result.rows == [("Cy",), ("Ana",)] and not ans.result.private
    assert "'France'" in ans.sql and "Singer(" in lm.calls[0].prompt.replace(" (", "(")


@pytest.mark.parametrize("sql,message", [
    ("DELETE FROM singer", "only queries run on your database"),
    ("DROP TABLE concert", "only queries run on your database"),
    ("SELECT * FROM read_csv('/etc/passwd')", "disabled by configuration"),
    ("SELECT nextval('tickets')", "read-only"),
])
def test_duckdb_is_read_only(duck, sql, message):
    result = run_sql(sql, Request("-", db=duck))
    assert not result.ok and message in result.error
    assert _count(duck) == 3


def test_duckdb_refuses_writes_itself_and_stops_long_queries(duck, monkeypatch):
    db = open_database(duck)
    assert "read-only" in db.run('DELETE FROM "Singer"', only_queries=False).error  # the database's own refusal
    assert _count(duck) == 3
    monkeypatch.setenv("NL2SQL_SQL_TIMEOUT_S", "0.5")
    database.default_limits.cache_clear()
    try:
        slow = db.run("SELECT COUNT(*) FROM range(100000000000)")
        assert slow.timed_out and "0.5 s limit" in slow.error and slow.rows == []
    finally:
        monkeypatch.delenv("NL2SQL_SQL_TIMEOUT_S")
        database.default_limits.cache_clear()
    many = db.run("SELECT * FROM range(5000)")
    assert len(many.rows) == 1000 and many.truncated and "NL2SQL_MAX_ROWS" in many.cut


# --- PostgreSQL -----------------------------------------------------------------------------------------------

def test_postgres_schema_and_answer(pg):
    db = open_database(pg.music)
    assert db.dialect == "postgres" and db.tables() == ["Singer", "concert"]
    assert 'PRIMARY KEY ("Singer_ID")' in db.schema()
    lm = scripted(["SELECT T1.name, COUNT(*) FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = T2.singer_id "
                   "GROUP BY T1.name ORDER BY COUNT(*) DESC;"])
    ans = answer(lm, Request("How many concerts has each singer given?", db=pg.music))
    assert ans.dialect == "postgres" and ans.ok, ans.result
    assert 'FROM "Singer" AS T1' in ans.sql and 'T1."Name"' in ans.sql
    assert ans.result.rows == [("Ana", 2), ("Cy", 1)]


@pytest.mark.parametrize("sql,dialect,message", [
    ("DELETE FROM singer", "sqlite", "only queries run on your database"),
    ('DROP TABLE "Singer"', "postgres", "only queries run on your database"),
    ("COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'", "postgres", None),
    ("SELECT * FROM singer FOR UPDATE", "sqlite", "read-only transaction"),
    ("SELECT nextval('tickets')", "postgres", "read-only transaction"),
    ("SELECT pg_sleep(60)", "postgres", "2 s limit"),
])
def test_postgres_is_read_only_and_time_bounded(pg, sql, dialect, message):
    try:
        result = run_sql(sql, Request("-", db=pg.music, dialect=dialect))
        error, timed_out = result.error, result.timed_out
    except ValueError as e:  # refused before it was sent (COPY ... TO PROGRAM does not parse as a query)
        error, timed_out = str(e), False
    assert error and (message is None or message in error)
    assert timed_out == (message == "2 s limit")  # the sleep is stopped by the time limit; the rest refused at once
    assert _count(pg.music) == 3 and not os.path.exists("/tmp/pwned")


def test_postgres_refuses_writes_itself(pg):
    db = open_database(pg.music)
    assert "read-only transaction" in db.run('DELETE FROM "Singer"', only_queries=False).error
    assert _count(pg.music) == 3


def test_postgres_refused_password_is_masked(pg):
    with pytest.raises(DatabaseError, match="password authentication failed") as err:
        open_database(pg.url("music", "reader", "wrong-" + SECRET))
    assert SECRET not in str(err.value)
    reader = pg.url("music", "reader", SECRET)
    ans = answer(scripted(["SELECT COUNT(*) FROM singer"]), Request("How many singers?", db=reader))
    assert ans.result.rows == [(3,)]
    assert SECRET not in repr(open_database(reader))


def test_evaluation_accepts_a_database_url(pg):
    from eval.evaluate import gold_results, request, score

    row = {"id": "1", "question": "How many singers are from France?", "dialect": "sqlite", "schema": None,
           "sql": 'SELECT count(*) FROM singer WHERE country = "France"', "db": pg.music}
    ans = answer(scripted(["SELECT COUNT(*) FROM singer WHERE country = 'France'"]), request(row))
    scored = score(ans, row, "m", gold_results(row), 0.1)
    assert scored.executes and scored.execution_match


def test_table_comments_reach_the_schema_and_an_empty_database_is_a_clear_error(tmp_path):
    import duckdb

    from nl2sql.database import render_ddl
    from nl2sql.schema import prepare_schema

    ddl = render_ddl({"orders": {"columns": [{"name": "id", "type_name": "INTEGER"}], "pk": ["id"], "fks": [],
                                 "comment": "One row per order.\nRefunds live elsewhere."}})
    assert ddl.startswith("-- One row per order. Refunds live elsewhere.\nCREATE TABLE")
    assert prepare_schema(ddl).table_names == ["orders"]
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(DatabaseError, match="has no tables"):
        open_database(f"duckdb:///{empty}").schema()


# --- MySQL / MariaDB ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def maria():
    from benchmarks.servers import TempMariaDB

    try:
        server = TempMariaDB()
    except RuntimeError:
        if os.environ.get("CI"):
            pytest.fail("MariaDB is not installed: .ci/run installs it (apt-get install mariadb-server)")
        pytest.skip("MariaDB is not installed (apt-get install mariadb-server)")
    server.start()
    try:
        server.sql("CREATE DATABASE music")
        server.sql("CREATE TABLE Singer (Singer_ID INT PRIMARY KEY, Name TEXT, country TEXT, age INT)", "music")
        server.sql("INSERT INTO Singer VALUES " + ", ".join(f"({r[0]}, '{r[1]}', '{r[2]}', {r[3]})" for r in ROWS),
                   "music")
        server.sql(f"CREATE USER reader@localhost IDENTIFIED BY '{SECRET}'")
        server.sql("GRANT SELECT ON music.* TO reader@localhost")
        server.music = server.url("music")
        yield server
    finally:
        server.stop()


def test_mariadb_answers_read_only_and_time_bounded(maria):
    db = open_database(maria.music)
    assert db.dialect == "mysql" and db.tables() == ["Singer"]
    ans = answer(scripted(['SELECT name FROM singer WHERE country = "France" ORDER BY age;']),
                 Request("Which singers are from France?", db=maria.music))
    assert ans.dialect == "mysql" and ans.ok and ans.result.rows == [("Cy",), ("Ana",)]
    assert "only queries run on your database" in run_sql("DELETE FROM singer", Request("-", db=maria.music)).error
    assert "READ ONLY transaction" in db.run("DELETE FROM Singer", only_queries=False).error  # the server's own refusal
    slow = db.run("SELECT SLEEP(30)")
    assert slow.timed_out
    assert db.run("SELECT COUNT(*) FROM Singer").rows == [(3,)]
    with pytest.raises(DatabaseError, match="Access denied") as err:
        open_database(maria.url("music", "reader", "wrong-" + SECRET))
    assert SECRET not in str(err.value)


def test_a_postgres_database_of_500_tables_is_read_and_linked_to_a_few(pg):
    import psycopg

    url = pg.create_database("wide")
    with psycopg.connect(host=str(pg.socket), port=pg.port, user="nl2sql", dbname="wide", autocommit=True) as conn:
        for i in range(500):
            conn.execute(f"CREATE TABLE t{i} (id INT PRIMARY KEY, name_{i} TEXT, "
                         f"ref INT REFERENCES t{max(i - 1, 0)}(id))")
    lm = scripted(["SELECT name_7 FROM t7;"])
    ans = answer(lm, Request("What is name_7 of t7?", db=url))
    assert ans.ok and ans.result.rows == []
    assert "t7" in ans.linking.tables and len(ans.linking.tables) < 50 and ans.linking.total == 500


@pytest.mark.parametrize("sql,expected", [
    ("SELECT name FROM t WHERE year = 2014", "WHERE year = '2014'"),  # a number against a text column: text
    ("SELECT name FROM t WHERE age > '30'", "WHERE age > 30"),  # a numeric string against a number column
    ("SELECT name FROM t WHERE age = 'old'", "WHERE age = 'old'"),  # not numeric: left as it is
    ("SELECT name FROM t WHERE year IN (2014, 2015)", "IN ('2014', '2015')"),
    ("SELECT name FROM t WHERE name LIKE '%ana%'", "name ILIKE '%ana%'"),
    ("SELECT year, name, COUNT(*) FROM t GROUP BY year", 'SELECT year, MIN(name) AS "name", COUNT(*)'),
    ("SELECT year, COUNT(*) FROM t GROUP BY 1", "SELECT year, COUNT(*) FROM t GROUP BY 1"),
])
def test_fitting_follows_sqlite_semantics(sql, expected):
    schema = parse_schema("CREATE TABLE t (name TEXT, year TEXT, age INT)")
    out, errors = transpile(sql, "sqlite", "postgres", schema=schema)
    assert not errors and expected in out, out
