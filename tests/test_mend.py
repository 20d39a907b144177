import pytest

from nl2sql.mend import Holders, mend_literals
from nl2sql.schema import parse_schema
from nl2sql.values import build_index
from nl2sql.sandbox import run

PETS = """CREATE TABLE student (stuid INT PRIMARY KEY, lname TEXT, sex TEXT, age INT, city_code TEXT);
CREATE TABLE has_pet (stuid INT REFERENCES student(stuid), petid INT REFERENCES pets(petid));
CREATE TABLE pets (petid INT PRIMARY KEY, pettype TEXT, pet_age INT, weight REAL);"""
ROWS = """INSERT INTO student VALUES (1, 'Smith', 'F', 20, 'BAL'), (2, 'Kim', 'M', 22, 'PIT'), (3, 'Lee', 'F', 19, 'BAL');
INSERT INTO has_pet VALUES (1, 10), (2, 11), (3, 12);
INSERT INTO pets VALUES (10, 'cat', 3, 12.0), (11, 'dog', 2, 13.4), (12, 'dog', 1, 9.3);"""


def _holders(ddl=PETS, rows=ROWS):
    schema = parse_schema(ddl)
    return schema, Holders.of(build_index(lambda sql: run(sql, ddl, rows), schema))


@pytest.mark.parametrize("sql,mended", [
    # the column named is in the query: the comparison moves to the column that holds the value
    ("SELECT COUNT(*) FROM student AS T1 JOIN has_pet AS T2 ON T1.stuid = T2.stuid WHERE T2.stuid = 'F'",
     "SELECT COUNT(*) FROM student AS T1 JOIN has_pet AS T2 ON T1.stuid = T2.stuid WHERE T1.sex = 'F'"),
    # its table is not: the join it needs is added along the keys (through the bridge table)
    ("SELECT COUNT(*) FROM student AS T1 WHERE T1.lname IN ('cat', 'dog')",
     "SELECT COUNT(*) FROM student AS T1 JOIN has_pet AS T2 ON T2.stuid = T1.stuid "
     "JOIN pets AS T3 ON T3.petid = T2.petid WHERE T3.pettype IN ('cat', 'dog')"),
    ("SELECT lname FROM student WHERE sex = 'bal'", "SELECT lname FROM student WHERE student.city_code = 'BAL'"),
])
def test_mends(sql, mended):
    schema, holders = _holders()
    out, changes = mend_literals(sql, schema, holders)
    assert out == mended and len(changes) == 1
    assert run(out, PETS, ROWS).ok


@pytest.mark.parametrize("sql", [
    "SELECT COUNT(*) FROM student WHERE sex = 'F'",  # the column holds it
    "SELECT COUNT(*) FROM student WHERE lname = 'Nobody'",  # nobody holds it
    "SELECT COUNT(*) FROM student WHERE age = '20'",  # numbers are never touched
    "SELECT COUNT(*) FROM student WHERE lname = '2020-01-01'",  # nor dates
    "SELECT COUNT(*) FROM student WHERE lname LIKE '%F%'",  # a pattern is no value
    "SELECT COUNT(*) FROM student WHERE lname IN ('cat', 'F')",  # two holders for one list
    "not sql at all (",
])
def test_leaves_alone(sql):
    schema, holders = _holders()
    assert mend_literals(sql, schema, holders) == (sql, [])


def test_a_value_held_by_two_columns_is_left_alone():
    ddl = PETS.replace("city_code TEXT", "city_code TEXT, nickname TEXT")
    rows = ROWS.replace("'BAL')", "'BAL', 'dog')").replace("'PIT')", "'PIT', 'x')")
    schema, holders = _holders(ddl, rows)
    sql = "SELECT COUNT(*) FROM student WHERE lname = 'dog'"
    assert mend_literals(sql, schema, holders) == (sql, [])


def test_an_incomplete_index_vouches_for_nothing():
    schema, _ = _holders()
    index = build_index(lambda sql: run(sql, PETS, ROWS), schema)
    index.complete = False
    assert Holders.of(index) is None
    sql = "SELECT COUNT(*) FROM student AS T1 WHERE T1.lname = 'cat'"
    assert mend_literals(sql, schema, Holders.of(index)) == (sql, [])


def test_the_pipeline_mends_literals_when_asked_and_the_answer_says_so():
    from nl2sql.pipeline import Decoding, Request, answer
    from tests.conftest import scripted

    req = Request("How many dog pets are raised by female students?", PETS + "\n" + ROWS)
    wrong = "SELECT COUNT(*) FROM student AS T1 JOIN has_pet AS T2 ON T1.stuid = T2.stuid WHERE T2.stuid = 'F';"
    plain = answer(scripted([wrong]), req, Decoding(constrain=False, mend_literals=False))
    assert plain.literals == [] and plain.result.rows == [(0,)]
    mended = answer(scripted([wrong]), req, Decoding(constrain=False))  # on by default
    assert mended.model_sql.endswith("WHERE T1.sex = 'F'") and mended.result.rows == [(2,)]
    assert mended.literals == ["T2.stuid ... 'F' -> T1.sex ... 'F'"]


def test_the_app_says_which_values_it_moved():
    import app
    from nl2sql.pipeline import Decoding, Request, answer
    from tests.conftest import scripted

    req = Request("How many students are female?", PETS + "\n" + ROWS)
    ans = answer(scripted(["SELECT COUNT(*) FROM student WHERE lname = 'F';"]), req, Decoding(constrain=False))
    assert "values moved to the column that holds them: lname ... 'F' -> student.sex ... 'F'" in app.badge(ans, 160)
