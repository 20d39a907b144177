import sqlite3

import pytest

from nl2sql.backends import Generation
from nl2sql.pipeline import Decoding, Request, answer, answer_batch, answer_stream, check_request, finish, prepare
from nl2sql.schema import SchemaError
from tests.conftest import scripted


def _finish(lm, req: Request, sql: str):
    gen = Generation(sql=sql, text=sql + ";", prompt_tokens=10, new_tokens=5, latency_s=0.1)
    return finish(lm, prepare(lm, req, Decoding()), gen)


def test_finish_validates_grounds_and_runs(tiny_backend, company_schema):
    req = Request("Who earns most?", company_schema, run=True)
    a = _finish(tiny_backend, req, "SELECT name FROM employees ORDER BY salary DESC LIMIT 1")
    assert a.ok and a.validation.ok and a.unknown == [] and a.result.rows == [("Ada",)]
    assert a.model_name == tiny_backend.name and not a.changes_data


def test_finish_transpiles_to_the_requested_dialect(tiny_backend, company_schema):
    req = Request("top 2", company_schema, dialect="tsql", run=True)
    a = _finish(tiny_backend, req, "SELECT name FROM employees ORDER BY salary DESC LIMIT 2")
    assert a.sql == "SELECT TOP 2 name FROM employees ORDER BY salary DESC"
    assert a.model_sql.endswith("LIMIT 2") and a.result.rows == [("Ada",), ("Linus",)]


def test_finish_reports_unknown_columns_and_invalid_sql(tiny_backend, company_schema):
    a = _finish(tiny_backend, Request("q", company_schema), "SELECT salry FROM employees")
    assert not a.ok and [u.suggestion for u in a.unknown] == ["employees.salary"]
    b = _finish(tiny_backend, Request("q", company_schema, run=True), "I don't know")
    assert not b.validation.ok and b.result is None


def test_finish_runs_on_a_db_file(tiny_backend, tmp_path):
    db = tmp_path / "x.sqlite"
    sqlite3.connect(db).executescript("CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2);")
    a = _finish(tiny_backend, Request("q", "CREATE TABLE t (a INT);", run=True, db=db), "SELECT SUM(a) FROM t")
    assert a.result.rows == [(3,)]


@pytest.mark.parametrize("schema,run,runs", [
    ("CREATE TABLE t (a INT);", None, False),  # no rows: nothing worth running
    ("CREATE TABLE t (a INT); INSERT INTO t VALUES (1);", None, True),  # rows: run at once
    ("CREATE TABLE t (a INT); INSERT INTO t VALUES (1);", False, False),
    ("CREATE TABLE t (a INT);", True, True),
])
def test_a_request_with_data_runs_unless_told_not_to(schema, run, runs):
    a = answer(scripted(["SELECT a FROM t;"]), Request("q", schema, run=run))
    assert (a.result is not None) == runs


def test_dml_runs_on_a_private_copy_and_says_so():
    a = answer(scripted(["DELETE FROM t;"]), Request("q", "CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2);"))
    assert a.changes_data and a.result.rowcount == 2 and a.result.private and a.result.changes


@pytest.mark.parametrize("req,err", [
    (Request("   "), ValueError),
    (Request("q", "CREATE TABLE (oops"), SchemaError),
    (Request("q", "INSERT INTO t VALUES (1);"), SchemaError),
])
def test_bad_requests_raise_clear_errors(req, err):
    with pytest.raises(err):
        check_request(req)


def test_answer_end_to_end_on_tiny_model(tiny_backend, company_schema):
    a = answer(tiny_backend, Request("How many employees?", company_schema, run=True), Decoding(max_new_tokens=6))
    assert a.generation.new_tokens <= 6 and a.generation.prompt_tokens > 20
    assert a.generation.stop in ("statement", "eos", "limit", "repetition") and a.question == "How many employees?"


def test_batch_and_stream_agree_with_single(tiny_backend, company_schema):
    reqs = [Request("How many employees?", company_schema), Request("List departments", None)]
    decoding = Decoding(max_new_tokens=6, batch_size=2)
    batch = answer_batch(tiny_backend, reqs, decoding)
    single = [answer(tiny_backend, r, decoding) for r in reqs]
    assert [b.generation.text for b in batch] == [s.generation.text for s in single]
    *partials, last = list(answer_stream(tiny_backend, reqs[0], decoding))
    assert last.generation.text == single[0].generation.text and last.sql == single[0].sql
    assert all(not e.done for e in partials)


def test_the_pipeline_takes_a_backend_only(tiny):
    with pytest.raises(TypeError, match="takes a Backend"):
        answer(tiny, Request("q"))


def test_the_schema_is_read_once_per_request(monkeypatch, company_schema):
    from nl2sql import schema

    calls = []
    real = schema._parse_ddl  # every DDL parse goes through it (prepare_schema and parse_schema)
    monkeypatch.setattr(schema, "_parse_ddl", lambda *a: calls.append(a[1]) or real(*a))
    schema.prepare_schema.cache_clear()
    a = answer(scripted(["SELECT name FROM employees;"]), Request("q", company_schema + "\n-- fresh"))
    assert a.constrained and a.unknown == [] and a.result is not None  # prompt, names, grounding, run
    assert calls == ["sqlite"]
    answer(scripted(["SELECT name FROM employees;"]), Request("q", company_schema + "\n-- fresh"))
    assert calls == ["sqlite"] and schema.prepare_schema.cache_info().hits >= 1  # the same schema again


def test_a_qualifier_no_table_has_is_mended_before_the_query_runs():
    schema = ("CREATE TABLE d (id INT, name TEXT); CREATE TABLE e (id INT, d_id INT, pay INT);"
              "INSERT INTO d VALUES (1, 'ops'); INSERT INTO e VALUES (1, 1, 5), (2, 1, 7);")
    a = answer(scripted(["SELECT T1.name, SUM(T3.pay) FROM d AS T1 JOIN e AS T2 ON T1.id = T2.d_id GROUP BY T1.name;"]),
               Request("q", schema))
    assert a.requalified == ["T3.pay -> T2.pay"] and a.ok and a.result.rows == [("ops", 12)]
    assert "T2.pay" in a.model_sql and "T3.pay" in a.generation.text  # the raw text stays as written
