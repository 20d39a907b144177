import hashlib
import sqlite3

import pytest

from nl2sql.sandbox import format_table, read_schema, run

DDL = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL);"
ROWS = "INSERT INTO t VALUES (1, 'a', 1.5), (2, 'b', NULL), (3, 'c', 7);"


def test_runs_a_query_on_schema_and_rows():
    r = run("SELECT name, score FROM t WHERE id > 1 ORDER BY id", DDL, ROWS)
    assert r.ok and r.columns == ["name", "score"] and r.rows == [("b", None), ("c", 7.0)]


def test_schema_with_inserts_in_one_text():
    assert run("SELECT COUNT(*) FROM t", DDL + "\n" + ROWS).rows == [(3,)]


@pytest.mark.parametrize("sql,reason", [
    ("ATTACH DATABASE '/tmp/x.db' AS x", "ATTACH"),
    ("SELECT load_extension('/tmp/evil.so')", "load_extension"),
    ("PRAGMA writable_schema = 1", "PRAGMA"),
    ("PRAGMA journal_mode = OFF", "PRAGMA"),
    ("PRAGMA database_list", "PRAGMA"),
])
def test_refused_operations(sql, reason):
    r = run(sql, DDL)
    assert not r.ok and r.error.startswith("refused") and reason in r.error


def test_attach_in_the_schema_is_refused_too(tmp_path):
    r = run("SELECT 1", f"ATTACH DATABASE '{tmp_path / 'x.db'}' AS x; " + DDL)
    assert not r.ok and not (tmp_path / "x.db").exists()


def test_read_only_pragma_allowed():
    r = run("PRAGMA table_info(t)", DDL)
    assert r.ok and [row[1] for row in r.rows] == ["id", "name", "score"]


@pytest.mark.parametrize("sql", [
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT MAX(x) FROM c",
    "SELECT COUNT(*) FROM t a, t b, t c, t d, t e, t f, t g, t h, t i, t j, t k, t l, t m, t n, t o, t p, t q",
])
def test_runaway_query_stops_at_time_limit(sql):
    r = run(sql, DDL, ROWS, timeout_s=0.5)  # neither query ends by itself: returning at all means it was stopped
    assert r.timed_out and "0.5 s limit" in r.error and r.rows == []


def test_row_cap():
    r = run("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c", DDL, max_rows=50)
    assert r.ok and len(r.rows) == 50 and r.truncated


@pytest.mark.parametrize("schema", ["CREATE TABLE (id INT);", "CREATE TABLE t (id INT", "CREATE TABEL t (id INT);"])
def test_malformed_ddl(schema):
    r = run("SELECT 1", schema)
    assert not r.ok and "schema" in r.error


def test_query_error_is_a_result():
    r = run("SELECT nope FROM t", DDL)
    assert not r.ok and "no such column: nope" in r.error


def test_several_statements_are_refused():
    r = run("SELECT 1; SELECT 2", DDL)
    assert not r.ok and "one statement" in r.error


def test_dml_reports_rowcount():
    r = run("UPDATE t SET score = 0 WHERE score IS NULL", DDL, ROWS)
    assert r.ok and r.rowcount == 1 and r.columns == []


@pytest.fixture
def db_file(tmp_path):
    path = tmp_path / "real.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(DDL + ROWS)
    conn.commit()
    conn.close()
    return path


def test_read_only_file_unchanged_after_delete(db_file):
    before = hashlib.sha256(db_file.read_bytes()).hexdigest()
    r = run("DELETE FROM t", db_path=db_file)
    assert not r.ok and "read-only" in r.error
    assert hashlib.sha256(db_file.read_bytes()).hexdigest() == before
    assert run("SELECT COUNT(*) FROM t", db_path=db_file).rows == [(3,)]


def test_missing_db_file(tmp_path):
    r = run("SELECT 1", db_path=tmp_path / "nope.sqlite")
    assert not r.ok and "no such database file" in r.error


def test_read_schema(db_file):
    assert read_schema(db_file).startswith("CREATE TABLE t")


def test_format_table():
    r = run("SELECT id, score FROM t ORDER BY id", DDL, ROWS)
    assert format_table(r).splitlines() == ["id | score", "---+------", "1  | 1.5  ", "2  | NULL ", "3  | 7.0  "]


def test_private_copy_takes_dml_and_leaves_the_file_alone(db_file):
    before = hashlib.sha256(db_file.read_bytes()).hexdigest()
    r = run("DELETE FROM t WHERE id = 1", db_path=db_file, copy=True, with_snapshot=True)
    assert r.ok and r.rowcount == 1 and r.snapshot == {"t": [(2, "b", None), (3, "c", 7.0)]}
    assert hashlib.sha256(db_file.read_bytes()).hexdigest() == before


def test_private_copy_still_refuses_attach(db_file, tmp_path):
    r = run(f"ATTACH DATABASE '{tmp_path / 'y.db'}' AS y", db_path=db_file, copy=True)
    assert not r.ok and "ATTACH" in r.error and not (tmp_path / "y.db").exists()


@pytest.mark.parametrize("sql,message", [
    ("SELECT length(randomblob(1000000000))", "refused: a value would be larger than 1,000 bytes"),
    ("SELECT zeroblob(2000)", "refused: a value would be larger than 1,000 bytes"),
    ("SELECT printf('%.*c', 2147483647, 'x')", "refused: printf() width or precision over 1,000"),
    ("SELECT format('%2000s', 'x')", "refused: printf() width or precision over 1,000"),
])
def test_what_a_query_may_build_is_limited(sql, message):
    from nl2sql.sandbox import Limits

    r = run(sql, DDL, limits=Limits(max_value_bytes=1000))
    # Refused by the value limit, at once: not stopped by the clock after building the value (printf with a
    # 2^31 width spends ~10 s inside one call, which the time limit cannot interrupt).
    assert not r.ok and message in r.error and not r.timed_out


def test_printf_within_the_limits_is_sqlites_own():
    assert run("SELECT printf('%5.1f|%-3s|%d', 2.25, 'a', 7), format('%.*c', 3, 'x')", DDL).rows == \
        [("  2.3|a  |7", "xxx")]  # SQLite rounds half away from zero


def test_a_result_is_cut_at_its_byte_cap_and_says_so():
    from nl2sql.sandbox import Limits, describe

    wide = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT printf('%.*c', 400, 'x') FROM c"
    r = run(wide, DDL, limits=Limits(max_result_bytes=1000))
    assert r.ok and len(r.rows) == 2 and r.truncated and "first 1,000 bytes (NL2SQL_MAX_RESULT_BYTES)" in describe(r)


def test_dml_says_how_many_rows_changed_on_a_private_copy():
    from nl2sql.sandbox import describe

    r = run("DELETE FROM t WHERE id > 1", DDL, ROWS)
    assert r.changes and r.private and describe(r).startswith("2 rows changed on a private copy: nothing was saved")


def test_long_cells_are_shown_cut_with_a_marker():
    from nl2sql.sandbox import shown

    assert shown("x" * 250) == "x" * 200 + "… [250 chars, cut]" and shown("short") == "short"
    assert shown(None) == "NULL" and shown(b"\x00" * 3000) == "<3,000 bytes>"


def test_limits_from_the_environment():
    from nl2sql.sandbox import Limits

    assert Limits.from_env({}) == Limits()
    assert Limits.from_env({"NL2SQL_MAX_VALUE_BYTES": "5000", "NL2SQL_SQL_TIMEOUT_S": "0.5"}) == \
        Limits(max_value_bytes=5000, timeout_s=0.5)
    with pytest.raises(ValueError, match="NL2SQL_MAX_ROWS must be a number, got 'many'"):
        Limits.from_env({"NL2SQL_MAX_ROWS": "many"})
    with pytest.raises(ValueError, match="NL2SQL_SQLITE_HEAP_MB must be above 0"):
        Limits.from_env({"NL2SQL_SQLITE_HEAP_MB": "0"})
