import pytest

from eval.metrics import ExampleResult, exact_match, orders_output, results_match, sql_category, summarize
from nl2sql.sandbox import RunResult, run

DDL = "CREATE TABLE t (id INT, name TEXT, score REAL, team TEXT);"
ROWS = "INSERT INTO t VALUES (1, 'a', 1.5, 'x'), (2, 'b', NULL, 'x'), (3, 'c', 7, 'y'), (4, 'c', 7, 'y');"


def _run(sql):
    dml = not sql.upper().startswith("SELECT")
    return run(sql, DDL, ROWS, with_snapshot=dml)


@pytest.mark.parametrize("pred,gold,ordered,match", [
    ("SELECT name FROM t ORDER BY id", "SELECT name FROM t ORDER BY id", True, True),
    ("SELECT name FROM t ORDER BY id DESC", "SELECT name FROM t ORDER BY id", True, False),  # order matters
    ("SELECT name FROM t ORDER BY id DESC", "SELECT name FROM t", False, True),  # gold does not order
    ("SELECT DISTINCT name FROM t", "SELECT name FROM t", False, False),  # duplicates count
    ("SELECT name, id FROM t", "SELECT id, name FROM t", False, True),  # column order
    ("SELECT id FROM t", "SELECT id, name FROM t", False, False),
    ("SELECT SUM(score) / 3 FROM t", "SELECT 15.5 / 3", False, True),  # float tolerance
    ("SELECT 5.17", "SELECT 15.5 / 3", False, False),  # beyond the tolerance
    ("SELECT score FROM t WHERE id = 2", "SELECT NULL", False, True),  # NULLs
    ("SELECT score FROM t WHERE id = 2", "SELECT 0", False, False),
    ("SELECT nope FROM t", "SELECT id FROM t", False, False),  # the prediction errors
    ("SELECT id FROM t WHERE 0", "SELECT id FROM t WHERE id > 9", False, True),  # both empty
    ("DELETE FROM t WHERE team = 'x'", "DELETE FROM t WHERE id < 3", False, True),  # DML: same final state
    ("DELETE FROM t WHERE team = 'y'", "DELETE FROM t WHERE id < 3", False, False),
    ("UPDATE t SET score = 0 WHERE score IS NULL", "UPDATE t SET score = 0 WHERE id = 2", False, True),
])
def test_results_match(pred, gold, ordered, match):
    assert results_match(_run(pred), _run(gold), ordered) is match


def test_several_golds_any_matches():
    golds = [_run("SELECT name FROM t WHERE id = 1"), _run("SELECT 'a' || ''")]
    assert any(results_match(_run("SELECT 'a'"), g) for g in golds)


def test_errored_gold_never_matches():
    assert not results_match(_run("SELECT 1"), RunResult(error="boom"))


@pytest.mark.parametrize("sql,orders", [("SELECT a FROM t ORDER BY a", True), ("SELECT a FROM t", False),
                                        ("SELECT a FROM (SELECT a FROM t ORDER BY a)", False), ("garbage (", False)])
def test_orders_output(sql, orders):
    assert orders_output(sql) is orders


@pytest.mark.parametrize("pred,gold,match", [
    ("select count(*) from Singer;", "SELECT COUNT(*) FROM singer", True),
    ("SELECT  name FROM t  WHERE id=1", "SELECT name FROM t WHERE id = 1", True),
    ("SELECT name FROM t WHERE id = 2", "SELECT name FROM t WHERE id = 1", False),
    ("not sql at all (", "SELECT 1", False),
])
def test_exact_match(pred, gold, match):
    assert exact_match(pred, [gold]) is match


@pytest.mark.parametrize("sql,category", [
    ("SELECT a FROM t", "basic SQL"), ("SELECT team, COUNT(*) FROM t GROUP BY team", "aggregation"),
    ("SELECT a FROM t JOIN u ON t.id = u.id", "single join"),
    ("SELECT a FROM t JOIN u ON t.id = u.id JOIN v ON v.id = u.id", "multiple_joins"),
    ("SELECT a FROM t WHERE id IN (SELECT id FROM u)", "subqueries"), ("SELECT a FROM t EXCEPT SELECT a FROM u", "set operations"),
    ("WITH c AS (SELECT 1 AS n) SELECT n FROM c", "CTEs"), ("SELECT ROW_NUMBER() OVER (ORDER BY a) FROM t", "window functions"),
])
def test_sql_category(sql, category):
    assert sql_category(sql) == category


def test_summarize_rates_skip_unknowns():
    rs = [ExampleResult("1", "m", "q", "g", "p", parses=True, executes=True, execution_match=True, latency_s=1.0),
          ExampleResult("2", "m", "q", "g", "p", parses=False, executes=None, execution_match=None, latency_s=3.0)]
    m = summarize(rs, seconds=4.0)
    assert m["parses"] == 0.5 and m["execution_accuracy"] == 1.0 and m["grounded"] is None
    assert m["judge_correct"] is None and m["latency_p50_s"] == 2.0 and m["examples_per_s"] == 0.5
    assert set(m) == {"n", "parses", "grounded", "executes", "execution_accuracy", "exact_match", "judge_correct",
                      "latency_p50_s", "examples_per_s"}
