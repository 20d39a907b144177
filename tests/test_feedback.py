"""Users' corrections (nl2sql.feedback): checked before anything is written, durable once confirmed, safe
from many threads, exported as rows that nl2sql.data, training.train and eval read. Fast and offline,
except the one `slow` test that trains on an export."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nl2sql import feedback
from nl2sql.data import load_rows
from nl2sql.feedback import Correction, FeedbackError, FeedbackStore, record
from nl2sql.sandbox import RunResult

ROOT = Path(__file__).resolve().parents[1]
DDL = "CREATE TABLE staff (id INT PRIMARY KEY, name TEXT, salary REAL);\n"
ROWS = "INSERT INTO staff VALUES (1, 'Ana', 100.0), (2, 'Bo', 80.0);\n"
SCHEMA = DDL + ROWS
GOOD = "SELECT name FROM staff WHERE salary > 90"


@pytest.fixture
def store(tmp_path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "store" / "feedback.sqlite")


def wrong(store, sql=GOOD, question="Who earns more than 90?", schema=SCHEMA, **kw) -> Correction:
    args = dict(dialect="sqlite", model_sql="SELECT name FROM staff", model="tiny v1")
    return record(store, question=question, schema=schema, sql=sql, verdict="wrong", **{**args, **kw})


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def raw_bytes(folder: Path) -> bytes:
    return b"".join(files(folder).values())


@pytest.mark.parametrize("kw,message", [
    ({"sql": "SELECT nmae FROM staff"}, "fails when run: OperationalError: no such column: nmae"),
    ({"sql": "SELECT name FROM stafff"}, "no such table"),
    ({"sql": "SELEC name FROM staff"}, "does not parse as sqlite"),
    ({"sql": "SELECT name FROM staff; SELECT 1"}, "one SQL statement, not 2"),
    ({"sql": "  "}, "The SQL is empty"),
    ({"question": " "}, "The question is empty"),
    ({"schema": "CREATE TABLE (id"}, "cannot be checked"),
    ({"sql": "SELECT name FROM staff", "model_sql": "SELECT  name FROM staff;"}, "is the model's own"),
    ({"dialect": "nosuch"}, "does not parse as nosuch"),
])
def test_a_bad_correction_is_refused_and_nothing_is_written(store, kw, message):
    before = files(store.path.parent)
    with pytest.raises(FeedbackError, match=message):
        wrong(store, **kw)
    assert files(store.path.parent) == before and store.count() == 0


def test_a_good_correction_is_saved_exported_and_read_by_the_data_loader(store, tmp_path):
    saved = wrong(store)
    right = record(store, question="How many staff?", schema=DDL, dialect="postgres", model_sql="SELECT COUNT(*) FROM staff",
                   sql=None, verdict="right", model="tiny v1")
    assert saved.id == 1 and right.id == 2 and store.count() == 2 and store.count("right") == 1
    assert (saved.schema, saved.context, saved.sql) == (DDL, ROWS, GOOD)
    assert [c.question for c in store.rows()] == [saved.question, right.question] and store.rows()[0] == saved
    out = tmp_path / "rows.jsonl"
    assert store.export(out) == 2
    rows = load_rows(str(out))
    assert [r["question"] for r in rows] == [saved.question, right.question]
    assert [r["sql"] for r in rows] == [GOOD, "SELECT COUNT(*) FROM staff"]
    assert rows[0]["schema"].strip() == DDL.strip() and rows[0]["context"].strip() == ROWS.strip()
    assert rows[1]["context"] is None and all(r["dialect"] == "sqlite" for r in rows)
    assert rows[0]["id"] == "feedback-1"  # not all digits: eval judges it by results (defog's rules)
    assert json.loads(out.read_text().splitlines()[1])["written_dialect"] == "postgres"


def test_another_dialect_is_exported_as_sqlite_and_runs_there(store, tmp_path):
    from nl2sql.sandbox import run

    wrong(store, sql="SELECT name FROM staff WHERE name ILIKE 'a%'", dialect="postgres")
    store.export(tmp_path / "rows.jsonl")
    row = load_rows(str(tmp_path / "rows.jsonl"))[0]
    assert "ILIKE" not in row["sql"] and run(row["sql"], row["schema"], row["context"]).rows == [("Ana",)]


def test_export_keeps_one_row_per_correction_and_can_keep_only_the_wrong(store, tmp_path):
    wrong(store)
    wrong(store, sql=GOOD + ";")  # the same again
    record(store, question="All names?", schema=SCHEMA, dialect="sqlite", model_sql="SELECT name FROM staff",
           sql="SELECT name FROM staff", verdict="right", model="m")
    assert store.count() == 3 and store.export(tmp_path / "all.jsonl") == 2
    assert store.export(tmp_path / "wrong.jsonl", only_wrong=True) == 1
    assert load_rows(str(tmp_path / "wrong.jsonl"))[0]["question"] == "Who earns more than 90?"


@pytest.mark.parametrize("sql,model_sql,message", [
    ("SELECT 1", "SELECT 2", "keeps the model's SQL"),
    (None, "", "The SQL is empty"),
    ("SELECT name FROM staff", "SELECT name FROM staff", None),
])
def test_a_right_verdict_keeps_the_models_sql(store, sql, model_sql, message):
    call = lambda: record(store, question="q?", schema=SCHEMA, dialect="sqlite", model_sql=model_sql,  # noqa: E731
                          sql=sql, verdict="right", model="m")
    if message:
        with pytest.raises(FeedbackError, match=message):
            call()
        assert store.count() == 0
    else:
        assert call().sql == model_sql
    with pytest.raises(FeedbackError, match="verdict must be one of right, wrong"):
        record(store, question="q?", schema=SCHEMA, dialect="sqlite", model_sql="SELECT 1", sql="SELECT 1",
               verdict="maybe", model="m")


def test_statements_that_change_data_are_kept_and_never_touch_a_database_file(store, tmp_path):
    db = tmp_path / "private-folder" / "shop.sqlite"
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:
        conn.executescript(SCHEMA)
    before = db.read_bytes()
    saved = wrong(store, sql="DELETE FROM staff WHERE salary < 90", schema="", db=str(db))
    assert db.read_bytes() == before  # run on a private copy
    assert "CREATE TABLE" in saved.schema and saved.context == ""  # the file's rows are not kept
    assert b"private-folder" not in raw_bytes(store.path.parent)  # nor its path


def test_a_database_url_and_its_password_are_never_stored(store, tmp_path, monkeypatch):
    url = "postgresql://ana:s3cret-pw@db.example:5432/shop"
    seen = []

    def fake_run(sql, req):  # stands in for the server: the URL is never contacted
        seen.append(req.db)
        return RunResult(columns=["name"], rows=[("Ana",)], private=False)

    monkeypatch.setattr(feedback, "run_sql", fake_run)
    monkeypatch.setattr(feedback, "database_schema", lambda db: DDL)
    wrong(store, schema="", db=url, dialect=None)
    wrong(store, sql="UPDATE staff SET salary = 0", schema="", db=url, dialect=None)
    assert seen == [url, None]  # a statement that changes data is tried on the schema, not the server
    assert [(c.schema, c.dialect) for c in store.rows()] == [(DDL, "postgres")] * 2
    store.export(tmp_path / "store" / "rows.jsonl")
    data = raw_bytes(store.path.parent)
    assert b"s3cret-pw" not in data and b"db.example" not in data and b"postgresql://" not in data


def test_a_database_that_cannot_be_read_is_refused_without_its_password(store):
    with pytest.raises(FeedbackError, match=r"cannot connect to postgresql://ana:\*\*\*@") as refused:
        wrong(store, schema="", db="postgresql://ana:pw-9@/shop?host=/no/such/dir", dialect=None)
    assert "pw-9" not in str(refused.value) and store.count() == 0


def test_eight_threads_saving_at_once_lose_nothing(store):
    def save_many(t):
        for i in range(25):
            store.save(Correction(f"q {t}-{i}?", DDL, "", "sqlite", "SELECT 1", GOOD, "wrong", "m"))

    threads = [threading.Thread(target=save_many, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count() == 200
    assert sorted(c.id for c in store.rows()) == list(range(1, 201))
    assert len({c.question for c in store.rows()}) == 200


CHILD = """
import sys
from nl2sql.feedback import Correction, FeedbackStore
store = FeedbackStore(sys.argv[1])
for i in range(100000):
    c = store.save(Correction(f"question {i}?", "CREATE TABLE t (x INT);\\n", "", "sqlite", "", "SELECT x FROM t",
                              "wrong", "child"))
    print(c.id, flush=True)
"""


def test_every_confirmed_save_survives_a_kill(tmp_path):
    path = tmp_path / "feedback.sqlite"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    confirmed = [int(child.stdout.readline()) for _ in range(40)]
    os.kill(child.pid, signal.SIGKILL)
    confirmed += [int(line) for line in child.stdout.read().split()]  # printed before the kill: confirmed too
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = FeedbackStore(path)
    assert set(confirmed) <= {c.id for c in store.rows()}
    assert store.save(Correction("after?", "", "", "sqlite", "", "SELECT 1", "wrong", "m")).id > max(confirmed)


def test_where_the_data_lives(tmp_path, monkeypatch):
    mount = tmp_path / "mount"
    monkeypatch.setattr(feedback, "DATA_MOUNT", mount)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert feedback.data_dir({}) == tmp_path / "home" / ".cache" / "nl2sql"  # no /data
    mount.mkdir()
    assert feedback.data_dir({}) == mount
    assert feedback.data_dir({"NL2SQL_DATA_DIR": str(tmp_path / "mine")}) == tmp_path / "mine"
    if os.geteuid() != 0:  # root may write anywhere
        mount.chmod(0o555)
        assert feedback.data_dir({}) == tmp_path / "home" / ".cache" / "nl2sql"  # /data is not writable
        mount.chmod(0o755)
    assert feedback.store_path({"NL2SQL_DATA_DIR": str(tmp_path)}) == tmp_path / "feedback.sqlite"


@pytest.mark.parametrize("value,on", [(None, True), ("1", True), ("0", False), ("false", False), (" OFF ", False),
                                      ("no", False), ("yes", True)])
def test_recording_can_be_turned_off(tmp_path, value, on):
    env = {"NL2SQL_DATA_DIR": str(tmp_path / "d")} | ({"NL2SQL_FEEDBACK": value} if value is not None else {})
    assert feedback.enabled(env) is on
    store = feedback.open_store(env)
    assert (store is not None) is on and (tmp_path / "d" / "feedback.sqlite").exists() is on


def test_a_store_that_cannot_be_created_is_one_clear_error(tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(FeedbackError, match="Cannot open the corrections store"):
        FeedbackStore(tmp_path / "a-file" / "feedback.sqlite")


def test_the_command_line(store, tmp_path, capsys):
    main, folder = feedback.main, str(store.path.parent)
    wrong(store)
    assert main(["count", "--dir", folder]) == 0 and "1 corrections (0 right, 1 wrong)" in capsys.readouterr().out
    assert main(["export", "--dir", folder, "--out", str(tmp_path / "x.jsonl"), "--only-wrong"]) == 0
    assert "wrote 1 rows" in capsys.readouterr().out and len(load_rows(str(tmp_path / "x.jsonl"))) == 1
    assert main(["export", "--dir", folder, "--out", str(tmp_path / "x.csv")]) == 2
    assert "must name a .jsonl file" in capsys.readouterr().err
    assert main(["export", "--dir", str(tmp_path / "none"), "--out", str(tmp_path / "y.jsonl")]) == 2
    assert "no corrections store at" in capsys.readouterr().err and not (tmp_path / "y.jsonl").exists()
    assert main(["count", "--dir", str(tmp_path / "none")]) == 0 and "0 corrections" in capsys.readouterr().out
    assert not (tmp_path / "none").exists()  # counting creates nothing
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--dir", folder])  # --out missing
    assert exit_.value.code == 2


def test_the_module_runs_as_a_command(store):
    wrong(store)
    done = subprocess.run([sys.executable, "-m", "nl2sql.feedback", "count", "--dir", str(store.path.parent)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("1 corrections"), done.stderr


@pytest.mark.slow
def test_training_runs_on_exported_corrections(tiny_model_dir, tmp_path):
    """Corrections over three schemas, exported and trained on at cpu-smoke's size (8 steps of 4 x 2 rows,
    evaluated and saved every 4) through training.train, with the tiny model of tests/test_train.py."""
    from tests.test_train import _argv
    from training.train import main

    store = FeedbackStore(tmp_path / "feedback.sqlite")
    for table in ("staff", "crew", "team"):
        schema = SCHEMA.replace("staff", table)
        for sql in (f"SELECT name FROM {table} WHERE salary > 90", f"SELECT COUNT(*) FROM {table}"):
            record(store, question=f"Question about {table}: {sql}?", schema=schema, dialect="sqlite",
                   model_sql=f"SELECT * FROM {table}", sql=sql, verdict="wrong", model="m")
    rows = tmp_path / "rows.jsonl"
    assert store.export(rows) == 6
    out = tmp_path / "run"
    assert main(_argv(tiny_model_dir, out, "--data_sources", str(rows), "--data_weights", "1.0", "--max_steps", "8",
                      "--per_device_train_batch_size", "4", "--gradient_accumulation_steps", "2", "--eval_steps", "4",
                      "--save_steps", "4", "--eval_fraction", "0.2")) == 0
    history = json.loads((out / "log_history.json").read_text())
    assert any("loss" in h for h in history) and any("eval_loss" in h for h in history)
    assert json.loads((out / "run_config.json").read_text())["DataArguments"]["data_sources"] == [str(rows)]
    assert "4 in the mixture" in (out / "README.md").read_text()  # 6 rows, one schema's 2 held out
