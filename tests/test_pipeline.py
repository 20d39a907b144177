import pytest

from nl2sql.generate import Generation
from nl2sql.pipeline import Answer, Request, answer, answer_batch, answer_stream, check_request, finish
from nl2sql.schema import SchemaError


def _gen(sql: str) -> Generation:
    return Generation(sql=sql, text=sql + ";", prompt_tokens=10, new_tokens=5, latency_s=0.1)


def test_finish_validates_grounds_and_runs(tiny, company_schema):
    req = Request("Who earns most?", company_schema, run=True)
    a = finish(tiny, req, _gen("SELECT name FROM employees ORDER BY salary DESC LIMIT 1"))
    assert a.ok and a.validation.ok and a.unknown == [] and a.result.rows == [("Ada",)]
    assert a.model_name == tiny.name


def test_finish_transpiles_to_the_requested_dialect(tiny, company_schema):
    req = Request("top 2", company_schema, dialect="tsql", run=True)
    a = finish(tiny, req, _gen("SELECT name FROM employees ORDER BY salary DESC LIMIT 2"))
    assert a.sql == "SELECT TOP 2 name FROM employees ORDER BY salary DESC"
    assert a.model_sql.endswith("LIMIT 2") and a.result.rows == [("Ada",), ("Linus",)]


def test_finish_reports_unknown_columns_and_invalid_sql(tiny, company_schema):
    a = finish(tiny, Request("q", company_schema), _gen("SELECT salry FROM employees"))
    assert not a.ok and [u.suggestion for u in a.unknown] == ["employees.salary"]
    b = finish(tiny, Request("q", company_schema, run=True), _gen("I don't know"))
    assert not b.validation.ok and b.result is None


def test_finish_runs_on_a_db_file(tiny, tmp_path):
    import sqlite3

    db = tmp_path / "x.sqlite"
    sqlite3.connect(db).executescript("CREATE TABLE t (a INT); INSERT INTO t VALUES (1), (2);")
    a = finish(tiny, Request("q", "CREATE TABLE t (a INT);", run=True, db=db), _gen("SELECT SUM(a) FROM t"))
    assert a.result.rows == [(3,)]


@pytest.mark.parametrize("req,err", [
    (Request("   "), ValueError),
    (Request("q", "CREATE TABLE (oops"), SchemaError),
    (Request("q", "INSERT INTO t VALUES (1);"), SchemaError),
])
def test_bad_requests_raise_clear_errors(req, err):
    with pytest.raises(err):
        check_request(req)


def test_answer_end_to_end_on_tiny_model(tiny, company_schema):
    a = answer(tiny, "How many employees?", company_schema, run=True, max_new_tokens=6)
    assert isinstance(a, Answer) and a.generation.new_tokens <= 6 and a.generation.prompt_tokens > 20


def test_batch_and_stream_agree_with_single(tiny, company_schema):
    reqs = [Request("How many employees?", company_schema), Request("List departments", None)]
    batch = answer_batch(tiny, reqs, max_new_tokens=6, batch_size=2)
    single = [answer(tiny, r.question, r.schema, max_new_tokens=6) for r in reqs]
    assert [b.generation.text for b in batch] == [s.generation.text for s in single]
    events = list(answer_stream(tiny, reqs[0], max_new_tokens=6))
    assert isinstance(events[-1], Answer) and events[-1].generation.text == single[0].generation.text
    assert all(isinstance(e, Generation) for e in events[:-1])
