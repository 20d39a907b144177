import pytest

from nl2sql.sql import extract, ground, pretty, requalify, statement_complete, statement_end, transpile, validate

EXTRACT_CASES = [
    ("SELECT * FROM t", "SELECT * FROM t"),
    ("SELECT * FROM t;", "SELECT * FROM t"),
    ("  select a from t ;  ", "select a from t"),
    ("```sql\nSELECT a FROM t;\n```", "SELECT a FROM t"),
    ("```\nSELECT a FROM t\n```", "SELECT a FROM t"),
    ("```SQL\nSELECT a FROM t\n```\nThis returns a.", "SELECT a FROM t"),
    ("Here is the query:\n```sql\nSELECT a FROM t\n```", "SELECT a FROM t"),
    ("```sql\nSELECT a FROM t", "SELECT a FROM t"),  # unclosed fence
    ("Sure! The SQL is: SELECT a FROM t; Hope it helps.", "SELECT a FROM t"),
    ("SQL: SELECT a FROM t", "SELECT a FROM t"),
    ("SELECT a FROM t; SELECT b FROM u;", "SELECT a FROM t"),
    ("SELECT a FROM t WHERE s = 'x;y';", "SELECT a FROM t WHERE s = 'x;y'"),
    ("SELECT a FROM t WHERE s = 'it''s';", "SELECT a FROM t WHERE s = 'it''s'"),
    ('SELECT "a;b" FROM t;', 'SELECT "a;b" FROM t'),
    ("SELECT a FROM t -- note; here\nWHERE b = 1;", "SELECT a FROM t -- note; here\nWHERE b = 1"),
    ("SELECT a FROM t\n\nThis query selects column a from t.", "SELECT a FROM t"),
    ("SELECT a\nFROM t\nThis query selects a.", "SELECT a\nFROM t"),
    ("SELECT a\nFROM t\nWHERE b > 2", "SELECT a\nFROM t\nWHERE b > 2"),
    ("WITH x AS (SELECT 1 AS n) SELECT n FROM x;", "WITH x AS (SELECT 1 AS n) SELECT n FROM x"),
    ("INSERT INTO t (a) VALUES (1);", "INSERT INTO t (a) VALUES (1)"),
    ("UPDATE t SET a = 2 WHERE id = 1;<|im_end|>", "UPDATE t SET a = 2 WHERE id = 1"),
    ("DELETE FROM t WHERE a IS NULL;;;", "DELETE FROM t WHERE a IS NULL"),
    ("I'm sorry, I cannot answer that.", ""),
    ("", ""),
    ("`SELECT a FROM t`", "SELECT a FROM t"),
    ("To count rows, use:\n\nSELECT COUNT(*) FROM employees;\n\nExplanation: counts.", "SELECT COUNT(*) FROM employees"),
]


@pytest.mark.parametrize("text,expected", EXTRACT_CASES)
def test_extract(text, expected):
    assert extract(text) == expected


@pytest.mark.parametrize("text,end", [("SELECT 1;", 9), ("SELECT ';'", None), ("SELECT [a;b] FROM t;x", 20),
                                      ("-- a;\nSELECT 1", None)])
def test_statement_end(text, end):
    assert statement_end(text) == end


@pytest.mark.parametrize("text,complete", [
    ("SELECT a FROM t;", True),
    ("SELECT a FROM t", False),
    ("SELECT a FROM t\n\nThis query", True),
    ("SELECT a\nFROM t\n", False),
    ("The answer is:\n\nThere are 3; done", False),  # prose only: keep going
    ("Sure; here it is:\n\nSELECT 1", False),
    ("Sure; here it is:\n\nSELECT 1;", True),
])
def test_statement_complete(text, complete):
    assert statement_complete(text) is complete


def test_validate_ok():
    assert validate("SELECT a FROM t WHERE b = 1").ok


@pytest.mark.parametrize("sql,line,col", [
    ("SELECT a FROM t WHERE", 1, 21),
    ("SELECT a\nFROM t\nWHERE (b = 1", 3, 12),
    ("SELECT * FORM t", 1, 15),
])
def test_validate_errors_have_line_and_col(sql, line, col):
    v = validate(sql)
    assert not v.ok
    assert (v.errors[0].line, v.errors[0].col) == (line, col)
    assert v.errors[0].message and "TokenType" not in v.errors[0].message


@pytest.mark.parametrize("text", ["", "   ", "Here is the query", "hello world"])
def test_validate_rejects_non_statements(text):
    assert not validate(text).ok


def test_validate_unknown_dialect_is_an_error_not_a_crash():
    v = validate("SELECT 1", dialect="nosuchdb")
    assert not v.ok and "nosuchdb" in v.errors[0].message


@pytest.mark.parametrize("sql,dialect", [
    ("SELECT a, COUNT(*) AS n FROM t GROUP BY a ORDER BY n DESC LIMIT 5", "postgres"),
    ("SELECT a FROM t WHERE b LIKE '%x%' LIMIT 10", "mysql"),
    ("SELECT a FROM t ORDER BY a LIMIT 3", "tsql"),
    ("SELECT SUBSTR(name, 1, 3) FROM t", "duckdb"),
])
def test_transpile_round_trip(sql, dialect):
    out, errors = transpile(sql, "sqlite", dialect)
    assert not errors and validate(out, dialect).ok
    back, errors = transpile(out, dialect, "sqlite")
    assert not errors
    assert transpile(back, "sqlite", "sqlite", pretty=True)[0] == transpile(sql, "sqlite", "sqlite", pretty=True)[0]


def test_transpile_changes_limit_for_tsql():
    out, _ = transpile("SELECT a FROM t LIMIT 5", "sqlite", "tsql")
    assert "TOP 5" in out


def test_transpile_reports_parse_errors():
    out, errors = transpile("SELECT FROM WHERE", "sqlite", "postgres")
    assert errors and out == "SELECT FROM WHERE"


def test_pretty():
    assert pretty("select a,b from t where c=1") == "SELECT\n  a,\n  b\nFROM t\nWHERE\n  c = 1"


DDL = """CREATE TABLE departments (id INT PRIMARY KEY, name TEXT);
CREATE TABLE employees (id INT PRIMARY KEY, name TEXT, salary REAL, department_id INT REFERENCES departments(id));"""


def test_ground_clean_query():
    sql = "SELECT d.name, AVG(e.salary) AS avg_salary FROM employees e JOIN departments d ON d.id = e.department_id GROUP BY d.name ORDER BY avg_salary"
    assert ground(sql, DDL) == []


def test_ground_unknown_column_with_suggestion():
    [u] = ground("SELECT e.salry FROM employees AS e", DDL)
    assert (u.kind, u.name, u.suggestion) == ("column", "employees.salry", "employees.salary")
    assert str(u) == "unknown column employees.salry (did you mean employees.salary?)"


def test_ground_unqualified_column_suggests_table_not_in_query():
    [u] = ground("SELECT salary FROM departments", DDL)
    assert u.suggestion == "employees.salary"


def test_ground_qualifier_that_no_table_of_the_query_has():
    # The shipped model's answer (free decoding) to "What is the average salary per department name?": `a` is no alias.
    sql = "SELECT a.name, AVG(e.salary) FROM departments AS d JOIN employees AS e ON e.department_id = a.id GROUP BY a.name"
    name, key = ground(sql, DDL)
    assert (name.kind, name.name) == ("column", "a.name") and name.suggestion in {"d.name", "e.name"}
    assert key.name == "a.id" and key.suggestion in {"d.id", "e.id"}  # what the query's own aliases hold
    assert ground("SELECT employees.name FROM employees", DDL) == []  # a table's own name qualifies it


def test_ground_a_literal_after_a_qualifier_is_reported_not_a_crash():
    # sqlglot reads `e.'salary'` and `e.1` as columns whose name is a literal (step 2740 wrote one on synthetic test)
    for sql in ("SELECT e.'salry' FROM employees AS e", "SELECT name FROM employees AS e WHERE e.1 > 2"):
        [u] = ground(sql, DDL)
        assert u.kind == "column"


def test_ground_unknown_table():
    [u] = ground("SELECT name FROM employee", DDL)
    assert (u.kind, u.name, u.suggestion) == ("table", "employee", "employees")


def test_ground_ignores_ctes_and_subquery_aliases():
    sql = "WITH top AS (SELECT id, salary FROM employees) SELECT t.salary FROM top t JOIN (SELECT id FROM departments) AS s ON s.id = t.id"
    assert ground(sql, DDL) == []


def test_pathologically_nested_output_is_an_error_not_a_crash():
    text = "SELECT " + "(" * 3000 + "1" + ")" * 3000
    assert extract(text).startswith("SELECT (")
    v = validate(text)
    assert not v.ok and "nested too deeply" in v.errors[0].message
    assert ground(text, DDL) == [] and pretty(text) == text
    assert transpile(text, "sqlite", "postgres")[1]


def test_schema_comments_and_sqlite_double_quoted_strings():
    from nl2sql.schema import prepare_schema
    from nl2sql.sql import ground

    schema = prepare_schema("/* exported */\n-- people\nCREATE TABLE singer (name TEXT, country TEXT);\n"
                            "INSERT INTO singer VALUES ('Ana', 'France');")
    assert schema.table_names == ["singer"] and schema.has_rows
    # SQLite reads "France" as a string when no column has that name: not an unknown column.
    assert ground('SELECT name FROM singer WHERE country = "France"', schema.parsed) == []
    assert [u.name for u in ground('SELECT "nme" FROM singer', schema.parsed)] == []  # a string too, in SQLite
    assert [u.name for u in ground("SELECT nme FROM singer", schema.parsed)] == ["nme"]


def test_requalify_moves_a_qualifier_no_table_has_to_the_one_table_with_the_column():
    from nl2sql.schema import parse_schema

    schema = parse_schema(DDL)
    # aliases numbered one too far, as the fine-tuned model writes them in joins
    sql = "SELECT T3.name, AVG(T2.salary) FROM departments AS T1 JOIN employees AS T2 ON T1.id = T3.department_id GROUP BY T1.name"
    fixed, changes = requalify(sql, schema)
    assert changes == ["T3.department_id -> T2.department_id"]  # T3.name stays: both tables have a name
    assert "T2.department_id" in fixed and "T3.name" in fixed
    assert requalify("SELECT x.salary FROM employees", schema)[0] == "SELECT employees.salary FROM employees"
    for unchanged in ("SELECT e.salary FROM employees AS e", "SELECT T3.nope FROM employees AS T1",
                      "WITH t AS (SELECT salary FROM employees) SELECT t.salary FROM t", "SELECT FROM WHERE"):
        assert requalify(unchanged, schema) == (unchanged, [])
