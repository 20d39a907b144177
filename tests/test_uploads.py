"""Hostile uploads through the app's own handlers (tiny model): each file gets a clear one-line answer
that names it (refused and why, or loaded and how), never the generic failure, no value changes without a
word, and the app answers a normal question afterwards. A 2,000-table upload is answered from its own
schema while the schema box shows a summary."""

import random
import shutil
import sqlite3
from dataclasses import replace

import gradio as gr
import pytest

import app
from nl2sql import upload
from nl2sql.service import ServiceConfig, is_summary
from tests.conftest import EXAMPLES

SCHEMA = (EXAMPLES / "company.sql").read_text()
GENERIC = "Something went wrong"


@pytest.fixture(scope="module")
def ui(tiny_model_dir):
    return app.App(ServiceConfig(base_model=str(tiny_model_dir), ft_model=str(tiny_model_dir), max_new_tokens=6,
                                 backend="transformers"))


def _still_answers(ui):
    *_, (sql, verdict) = ui.generate_sql("How many employees?", SCHEMA, "sqlite")
    assert "tokens/s" in verdict


def _write(d, name, data):
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())
    return [d / name]


def _parquet(d, name, table):
    import pyarrow.parquet as pq

    pq.write_table(table, d / name)
    return [d / name]


def _wal_only(d):
    """A WAL-mode database copied while its only table is still in the -wal file."""
    live = sqlite3.connect(d / "live.db")
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("PRAGMA wal_autocheckpoint=0")
    live.execute("CREATE TABLE pets (name TEXT)")
    live.commit()
    shutil.copy(d / "live.db", d / "shop.db")
    live.close()
    return [d / "shop.db"]


def _pa():
    import pyarrow as pa

    return pa


# case -> (files written into a fresh folder, the message the refusal must hold)
REFUSED = {
    "thousands of columns": (lambda d: _write(d, "wide.csv", ",".join(f"c{i}" for i in range(3000)) + "\n"
                                              + ",".join("1" * 3000) + "\n"),
                             "wide.csv has 3,000 columns; the limit is 2,000 (SQLite's most per table)"),
    "a cell of megabytes": (lambda d: _write(d, "notes.csv", "id,note\n1," + "x" * 3_000_000 + "\n"),
                            "notes.csv: line 2 holds a value over the limit for one value, 1,000,000 bytes"),
    "a cell of megabytes, multibyte": (lambda d: _write(d, "notes.csv", "id,note\n1," + "é" * 600_000 + "\n"),
                                       "notes.csv: line 2, column 2 holds 1,200,000 bytes, over the limit"),
    "a short row": (lambda d: _write(d, "pets.csv", "id,name,age\n1,Rex,3\n2,Tom\n"),
                    "pets.csv: line 3 has 2 fields but the header has 3"),
    "a long row": (lambda d: _write(d, "pets.csv", "id,name\n1,Rex,3\n"),
                   "pets.csv: line 2 has 3 fields but the header has 2"),
    "a header only": (lambda d: _write(d, "pets.csv", "id,name,age\n"), "pets.csv has a header row but no data rows"),
    "an empty file": (lambda d: _write(d, "pets.csv", ""), "pets.csv is empty"),
    "an empty header": (lambda d: _write(d, "pets.csv", ",,\n1,2,3\n"), "pets.csv has no header row"),
    "binary data": (lambda d: _write(d, "pets.csv", bytes(range(256)) * 8), "pets.csv holds binary data (a NUL byte"),
    "control characters": (lambda d: _write(d, "pets.csv", "id,name\n1,\x01\x02\x03\n"),
                           "pets.csv holds binary data (control character 0x01 on line 2)"),
    "a workbook named .csv": (lambda d: _write(d, "sales.csv", b"PK\x03\x04" + bytes(60)),
                              "sales.csv is not CSV: it is a zip archive (an Excel .xlsx workbook is one too)"),
    "an encoding that cannot be told": (lambda d: _write(d, "names.csv", "имя,город\nИван,Москва\n".encode(
        "koi8_r")), "names.csv: its text encoding cannot be told for sure (it reads as "),
    "a zip of CSVs": (lambda d: _write(d, "data.zip", b"PK\x03\x04" + bytes(60)),
                      "data.zip is an archive; the app does not open archives: extract it and upload"),
    "a gzip of a CSV": (lambda d: _write(d, "data.csv.gz", __import__("gzip").compress(b"a\n1\n")),
                        "data.csv.gz is an archive; the app does not open archives"),
    "a workbook": (lambda d: _write(d, "book.xlsx", b"PK\x03\x04"),
                   "book.xlsx is a spreadsheet workbook: save each sheet"),
    "a list column": (lambda d: _parquet(d, "tags.parquet", _pa().table({"id": [1], "tags": [["a", "b"]]})),
                      "tags.parquet: column 'tags' holds list<element: string> values, which a table cell cannot hold"),
    "a map column": (lambda d: _parquet(d, "m.parquet", _pa().table({"m": _pa().array([[("k", 1)]], _pa().map_(
        _pa().string(), _pa().int64()))})), "m.parquet: column 'm' holds map<string, int64"),
    "a 64-bit unsigned overflow": (lambda d: _parquet(d, "big.parquet", _pa().table({"n": _pa().array(
        [2**64 - 1], _pa().uint64())})), "big.parquet holds an integer beyond SQLite's 64-bit range"),
    "a Parquet cell of megabytes": (lambda d: _parquet(d, "s.parquet", _pa().table({"s": ["x" * 2_000_000]})),
                                    "s.parquet: column 's' holds 2,000,000 bytes, over the limit for one value"),
    "not Parquet": (lambda d: _write(d, "bad.parquet", b"PAR1 not really"),
                    "bad.parquet is not a readable Parquet file"),
    "an encrypted database": (lambda d: _write(d, "vault.db", random.Random(0).randbytes(4096)),
                              "vault.db is not a SQLite database, or it is an encrypted one (SQLCipher, SEE)"),
    "a WAL-only database": (_wal_only, "The upload holds no tables. shop.db is in WAL mode: what is still in its -wal"),
    "a write-ahead log": (lambda d: _write(d, "shop.db-wal", b"\x37\x7f\x06\x82" + bytes(60)),
                          "shop.db-wal is a SQLite write-ahead log, not a database: checkpoint it"),
    "an empty database": (lambda d: _write(d, "shop.db", b""), "shop.db is empty"),
    "a database beside a CSV": (lambda d: _write(d, "a.db", b"") + _write(d, "b.csv", "x\n1\n"),
                                "Upload either one SQLite file (.sqlite, .db) or CSV/TSV/Parquet files, not both"),
    "another kind": (lambda d: _write(d, "notes.txt", "hello"), "not other kinds (notes.txt)"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_hostile_upload_is_refused_clearly(ui, tmp_path, case):
    build, message = REFUSED[case]
    with pytest.raises(gr.Error) as e:
        ui.use_upload([str(p) for p in build(tmp_path)])
    text = str(e.value)
    assert message in text and GENERIC not in text and "Traceback" not in text and "\n" not in text
    _still_answers(ui)


def test_too_many_tables_is_refused(ui, tmp_path, monkeypatch):
    monkeypatch.setattr(upload, "MAX_TABLES", 2)
    sqlite3.connect(tmp_path / "three.db").executescript("CREATE TABLE a (x); CREATE TABLE b (x); CREATE TABLE c (x)")
    with pytest.raises(gr.Error, match="The upload has 3 tables; the limit is 2"):
        ui.use_upload([str(tmp_path / "three.db")])


def test_a_parquet_file_of_billions_of_values_is_refused(ui, tmp_path):
    pa = _pa()
    _parquet(tmp_path, "ones.parquet", pa.table({"n": pa.array([1] * 3_000_000, pa.int8())}))  # a few kB on disk
    small = app.App(replace(ui.config, max_upload_mb=1))
    with pytest.raises(gr.Error, match=r"ones.parquet holds 3,000,000 values \(3,000,000 rows x 1 columns\); the "
                                       r"limit is 500,000"):
        small.use_upload([str(tmp_path / "ones.parquet")])


def _rows(ui, db, table):
    df, status = ui.run_sql(f'SELECT * FROM "{table}"', "sqlite", "", db)
    assert "❌" not in status
    return df.values.tolist(), list(df.columns)


SPREADSHEET_ROWS = [["José", "São Paulo", "crème brûlée"], ["Zoë", "Zürich", "naïve façade"],
                    ["Ångström", "Øresund", "déjà vu"], ["François", "Besançon", "piñata"]]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_latin1_csv_comes_back_exactly_as_written(ui, tmp_path, encoding):
    text = "name,city,note\n" + "".join(",".join(r) + "\n" for r in SPREADSHEET_ROWS)
    if encoding == "cp1252":
        text += "Renée,Montréal,“quoted” – €5\n"
    (tmp_path / "people.csv").write_bytes(text.encode(encoding))
    box, db, message = ui.use_upload([str(tmp_path / "people.csv")])
    rows, _ = _rows(ui, db, "people")
    assert rows == [line.split(",") for line in text.splitlines()[1:]]
    assert "people.csv read as Windows-1252 (detected" in message and "save it as CSV UTF-8" in message
    assert "\ufffd" not in box + str(rows)
    _still_answers(ui)


@pytest.mark.parametrize("name,data,rows,columns,said", [
    ("bom.csv", b"\xef\xbb\xbfname,n\nx,1\n", [["x", 1]], ["name", "n"],
     "bom.csv read as UTF-8 (byte-order mark dropped)"),
    ("utf16.csv", "name\tcity\nJosé\tSão Paulo\n".encode("utf-16"), [["José", "São Paulo"]], ["name", "city"],
     "utf16.csv read as UTF-16, tab-separated"),
    ("sales.tsv", b"region, country\tamount\nNorth, EU\t3,5\n", [["North, EU", "3,5"]], ["region_country", "amount"],
     "sales.tsv read as UTF-8, tab-separated"),
    ("semi.csv", "a;b\n1;2,5\n".encode(), [[1, "2,5"]], ["a", "b"], "semi.csv read as UTF-8, separated by ';'"),
    ("dup.csv", b"a,a,\n1,2,3\n", [[1, 2, 3]], ["a", "a_2", "column_3"],
     "dup.csv: empty or repeated column names renamed: a_2, column_3"),
    ("ids.csv", b"zip,card,pi,n\n02134,12345678901234567890,3.14159265358979323846,1\n",
     [["02134", "12345678901234567890", "3.14159265358979323846", 1]], ["zip", "card", "pi", "n"],
     "ids.csv read as UTF-8"),
])
def test_files_that_load_say_how(ui, tmp_path, name, data, rows, columns, said):
    (tmp_path / name).write_bytes(data)
    box, db, message = ui.use_upload([str(tmp_path / name)])
    assert said in message and (rows, columns) == _rows(ui, db, name.split(".")[0])
    _still_answers(ui)


def test_parquet_structs_are_flattened_and_bytes_kept(ui, tmp_path):
    pa = _pa()
    _parquet(tmp_path, "orders.parquet", pa.table({
        "id": [1], "ship": [{"city": "Oslo", "geo": {"lat": 59.9}}], "raw": [b"\x00\xff"],
        "kind": pa.array(["web"]).dictionary_encode()}))
    box, db, message = ui.use_upload([str(tmp_path / "orders.parquet")])
    assert 'CREATE TABLE "orders" ("id" INTEGER, "ship_city" TEXT, "ship_geo_lat" REAL, "raw" BLOB, "kind" TEXT)' in box
    assert "orders.parquet: nested columns flattened into ship_city, ship_geo_lat" in message
    assert sqlite3.connect(db).execute("SELECT * FROM orders").fetchall() == [(1, "Oslo", 59.9, b"\x00\xff", "web")]


def test_a_wal_mode_database_says_what_may_be_missing(ui, tmp_path):
    live = sqlite3.connect(tmp_path / "live.db")
    live.execute("PRAGMA journal_mode=WAL")
    live.executescript("CREATE TABLE pets (name TEXT); INSERT INTO pets VALUES ('Rex');")
    live.close()
    box, db, message = ui.use_upload([str(tmp_path / "live.db")])
    assert "live.db is in WAL mode: what is still in its -wal file (not uploaded) is not in this copy" in message
    assert _rows(ui, db, "pets")[0] == [["Rex"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.db"]  # read without side files beside it


def _many_tables(path, n):
    conn = sqlite3.connect(path)
    for i in range(1, n + 1):
        conn.execute(f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, label TEXT)")
        conn.execute(f"INSERT INTO t{i} VALUES (1, 'row of t{i}')")
    conn.commit()
    conn.close()


def test_a_2000_table_upload_is_answered_from_its_own_schema(ui, tmp_path):
    _many_tables(tmp_path / "big.db", 2000)
    box, db, message = ui.use_upload([str(tmp_path / "big.db")])
    limit = ui.config.max_schema_chars
    assert is_summary(box) and len(box) <= limit and "-- t1 (2)" in box and "more" in box
    assert "Loaded 2000 table(s): t1, t2" in message and "the box shows a summary" in message
    *_, (sql, verdict) = ui.generate_sql("How many rows does t42 have?", box, "sqlite", db)
    assert "tokens/s" in verdict and "of 2000 tables" in verdict, verdict
    df, status = ui.run_sql("SELECT label FROM t1999", "sqlite", box, db)
    assert df.values.tolist() == [["row of t1999"]] and status.startswith("1 row")
    with pytest.raises(gr.Error, match="the limit is 20,000"):  # pasted text keeps its limit
        list(ui.generate_sql("How many?", "CREATE TABLE t (a INT);" * 1000, "sqlite", None))
    _still_answers(ui)


def test_your_database_larger_than_the_box_shows_a_summary(ui, tmp_path):
    import duckdb

    conn = duckdb.connect(str(tmp_path / "shop.duckdb"))
    for i in range(30):
        conn.execute(f"CREATE TABLE shelf_{i} (id INTEGER, item VARCHAR, price DOUBLE)")
    conn.execute("INSERT INTO shelf_7 VALUES (1, 'pen', 2.5)")
    conn.close()
    small = app.App(replace(ui.config, database_url=f"duckdb:///{tmp_path / 'shop.duckdb'}", max_schema_chars=300),
                    loader=lambda spec: ui.pool.get("ft"))
    box, db, message, dialect = small.choose_schema(app.YOUR_DATABASE)
    assert is_summary(box) and "30 tables" in box and (db, dialect) == (app.YOUR_DATABASE, "duckdb")
    *_, (sql, verdict) = small.generate_sql("What is the price of pens on shelf 7?", box, dialect, db)
    assert "tokens/s" in verdict, verdict
    df, _ = small.run_sql("SELECT item FROM shelf_7", "duckdb", box, db)
    assert df.values.tolist() == [["pen"]]


def test_a_file_named_like_sqlites_own_tables_still_loads(ui, tmp_path):
    (tmp_path / "sqlite_stats.csv").write_text("n\n1\n")
    box, db, message = ui.use_upload([str(tmp_path / "sqlite_stats.csv")])
    assert 'CREATE TABLE "t_sqlite_stats"' in box and "t_sqlite_stats" in message
