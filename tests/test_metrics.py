import pytest

from eval.metrics import (ExampleResult, exact_match, order_matters, orders_output, results_match, sql_category,
                          summarize)
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


# (prediction, gold, ordered, spider's verdict, defog's verdict): one table, both rule sets
@pytest.mark.parametrize("pred,gold,ordered,spider,defog", [
    ("SELECT name, team FROM t", "SELECT name FROM t", False, False, True),  # extra column
    ("SELECT name, id * 10 FROM t", "SELECT id, name FROM t", False, False, False),  # a gold column missing
    ("SELECT team, name FROM t", "SELECT name, team FROM t", False, True, True),  # permuted columns
    ("SELECT name FROM t ORDER BY id DESC", "SELECT name FROM t ORDER BY id", True, False, False),  # order asked
    ("SELECT name FROM t ORDER BY id DESC", "SELECT name FROM t ORDER BY id", False, True, True),  # not asked
    ("SELECT DISTINCT name FROM t", "SELECT name FROM t", False, False, True),  # duplicates
    ("SELECT name, name FROM t", "SELECT name FROM t", False, False, True),  # a column twice
    ("SELECT name FROM t WHERE id < 3", "SELECT name FROM t", False, False, False),  # rows missing
    ("SELECT SUM(score) / 3, 1 FROM t", "SELECT 15.5 / 3", False, False, True),  # floats
    ("SELECT 5.17", "SELECT 15.5 / 3", False, False, False),
    ("SELECT score, id FROM t WHERE id = 2", "SELECT NULL", False, False, True),  # NULLs
    ("SELECT score FROM t WHERE id = 2", "SELECT 0", False, False, False),
    ("SELECT id FROM t WHERE 0", "SELECT id FROM t", False, False, False),  # empty answer, gold with rows
    ("SELECT id, name FROM t WHERE 0", "SELECT id FROM t", False, False, False),
    ("SELECT id FROM t", "SELECT id FROM t WHERE 0", False, False, False),  # rows where the gold has none
    ("SELECT id, name FROM t WHERE 0", "SELECT id FROM t WHERE id > 9", False, False, True),  # both empty
    ("SELECT nope FROM t", "SELECT id FROM t", False, False, False),  # the prediction errors
    ("DELETE FROM t WHERE team = 'x'", "DELETE FROM t WHERE id < 3", False, True, True),  # DML: final state
])
def test_rule_sets(pred, gold, ordered, spider, defog):
    assert results_match(_run(pred), _run(gold), ordered, "spider") is spider
    assert results_match(_run(pred), _run(gold), ordered, "defog") is defog


def test_unknown_rules_are_refused():
    with pytest.raises(ValueError, match="unknown match rules 'bird'"):
        results_match(_run("SELECT 1"), _run("SELECT 1"), rules="bird")


SHOP = ("CREATE TABLE customers (id INT PRIMARY KEY, name TEXT); CREATE TABLE orders (id INT, customer_id INT);"
        "CREATE TABLE products (name TEXT, price REAL, category TEXT);",
        "INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bob'), (3, 'Cy');"
        "INSERT INTO orders VALUES (1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 3);"
        "INSERT INTO products VALUES ('pen', 2, 'office'), ('desk', 90, 'furniture'), ('lamp', 15, 'furniture');")


@pytest.mark.parametrize("question,answer,gold,category", [
    ("How many orders has each customer placed?",
     "SELECT c.name, COUNT(*) FROM customers AS c JOIN orders AS o ON o.customer_id = c.id GROUP BY c.id",
     "SELECT c.name, COUNT(*) FROM customers AS c JOIN orders AS o ON o.customer_id = c.id GROUP BY c.id "
     "ORDER BY COUNT(*) DESC", None),
    ("List the products from the most to the least expensive, with their prices.",
     "SELECT name, price, category FROM products ORDER BY price DESC",
     "SELECT name, price FROM products ORDER BY price DESC", None),
])
def test_answers_a_person_accepts(question, answer, gold, category):
    """Right by defog's rules (the question asks for no order; an extra column), wrong by Spider's."""
    pred, want = run(answer, *SHOP), run(gold, *SHOP)
    assert results_match(pred, want, order_matters("defog", [gold], question, category), "defog")
    assert not results_match(pred, want, order_matters("spider", [gold], question, category), "spider")


@pytest.mark.parametrize("rules,question,category,gold,ordered", [
    ("defog", "Sort the products by price.", None, "SELECT name FROM products ORDER BY price", True),
    ("defog", "List products in order of price", None, "SELECT name FROM products ORDER BY price", True),
    ("defog", "Show names ordered by age from the oldest", None, "SELECT name FROM t ORDER BY age DESC", True),
    ("defog", "How many orders per customer?", None, "SELECT 1 ORDER BY 1", False),
    ("defog", "Which products?", "order_by", "SELECT name FROM products ORDER BY price", True),
    ("defog", "Which customers ordered a lamp?", None, "SELECT name FROM customers", False),  # nothing to compare
    ("defog", "Sort the products by price.", None, "SELECT name FROM products", False),
    ("spider", "Sort the products by price.", None, "SELECT name FROM products", False),
    ("spider", "Which products?", None, "SELECT name FROM products ORDER BY price", True),
])
def test_order_matters(rules, question, category, gold, ordered):
    assert order_matters(rules, [gold], question, category) is ordered


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
