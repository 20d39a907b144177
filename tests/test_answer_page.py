"""The answer on the page: rows at once, a chart when the result's shape fits, this visit's history, and
corrections kept as training rows (the app's handlers over a scripted model; no real model)."""

import datetime as dt
from dataclasses import replace

import gradio as gr
import pandas as pd
import pytest

import app
from nl2sql import chart
from nl2sql.feedback import FeedbackStore
from nl2sql.service import ServiceConfig
from tests.conftest import EXAMPLES, scripted

SCHEMA = (EXAMPLES / "company.sql").read_text()
GROUPED = ("SELECT d.name, COUNT(*) FROM departments AS d JOIN employees AS e ON e.department_id = d.id "
           "GROUP BY d.name;")


@pytest.mark.parametrize("columns,rows,expected", [
    (["name", "n"], [("a", 1), ("b", 2)], chart.Chart("bar", "name", "n")),
    (["n", "name"], [(1, "a"), (2, "b")], chart.Chart("bar", "name", "n")),  # the category goes on x
    (["dept", "avg"], [("a", 1.5), ("b", None), (None, 2.0)], chart.Chart("bar", "dept", "avg")),  # NULLs ignored
    (["day", "total"], [("2024-01-01", 3), ("2024-01-02", 4)], chart.Chart("line", "day", "total")),
    (["month", "total"], [("2024-01", 3), ("2024-02", 4)], chart.Chart("line", "month", "total")),
    (["at", "v"], [(dt.datetime(2024, 1, 1, 9), 1), (dt.datetime(2024, 1, 1, 10), 2)], chart.Chart("line", "at", "v")),
    (["hired", "n"], [("2019-03-01 12:00:00", 1), ("2021-07-15 08:30", 2)], chart.Chart("line", "hired", "n")),
    (["order_year", "n"], [(2019, 3), (2020, 5)], chart.Chart("line", "order_year", "n")),
    (["id", "n"], [(2019, 3), (2020, 5)], None),  # two numbers: no chart (not a year column)
    (["year", "n"], [(19, 3), (20, 5)], None),  # not years
    (["name"], [("a",), ("b",)], None),  # one column
    (["a", "b", "c"], [("x", 1, 2), ("y", 3, 4)], None),  # three columns
    (["name", "n"], [("a", 1)], None),  # one row
    (["name", "city"], [("a", "x"), ("b", "y")], None),  # two texts
    (["name", "flag"], [("a", True), ("b", False)], None),  # booleans are not numbers
    (["name", "n"], [("a", 1), ("b", "2")], None),  # mixed kinds
    (["name", "n"], [(f"c{i}", i) for i in range(chart.MAX_BARS + 1)], None),  # too many bars
    (["day", "n"], [(f"2024-01-{i % 28 + 1:02d}", i) for i in range(200)], chart.Chart("line", "day", "n")),
    (["n", "n"], [("a", 1), ("b", 2)], None),  # one name twice: no axis to label
    (["name", "n"], [], None),
])
def test_chart_choice_follows_the_result_shape(columns, rows, expected):
    assert chart.choose(columns, rows) == expected


def test_plots_show_one_chart_with_axis_labels_from_the_columns():
    bar, line = app.plots(["department", "employees"], [("Sales", 2), ("Engineering", 2), ("Support", 1)])
    assert bar["visible"] is True and line["visible"] is False
    assert (bar["x"], bar["y"], bar["x_title"], bar["y_title"]) == ("department", "employees", "department", "employees")
    assert list(bar["value"]["department"]) == ["Sales", "Engineering", "Support"]
    bar, line = app.plots(["day", "n"], [("2024-01-02", 2), ("2024-01-01", 1)])
    assert bar["visible"] is False and line["visible"] is True
    assert list(line["value"]["n"]) == [1, 2]  # points in time order
    assert all(p["visible"] is False for p in app.plots(["n"], [(1,), (2,)]))


def test_the_run_table_gets_the_same_chart():
    frame = pd.DataFrame({"name": ["a", "b"], "n": [1.0, float("nan")]})
    bar, line = app.frame_plots(frame)
    assert bar["visible"] is True and bar["x"] == "name"
    assert all(p["visible"] is False for p in app.frame_plots(app.EMPTY))


@pytest.fixture
def make_ui(tmp_path):
    def make(*answers, **config):
        cfg = ServiceConfig(base_model="scripted", ft_model="scripted", max_new_tokens=400, data_dir=str(tmp_path),
                            backend="transformers", **config)
        return app.App(cfg, loader=lambda spec: scripted(list(answers)))
    return make


def _asked(ui, question, schema=SCHEMA, example="company", history=None):
    *_, (sql, verdict, kept) = ui.ask(question, schema, "sqlite")
    return sql, verdict, kept, ui.show_answer(kept, history or [], example)


def test_rows_and_a_bar_chart_come_with_the_answer(make_ui):
    sql, verdict, kept, shown = _asked(make_ui(GROUPED), "How many employees does each department have?")
    frame, status, bar, line, one_line, history, recent = shown
    assert "\n" in sql and "GROUP BY" in sql  # pretty-printed for the page
    assert one_line == kept["sql"] and "\n" not in one_line
    assert sorted(frame.itertuples(index=False, name=None)) == [("Engineering", 2), ("Sales", 2), ("Support", 1)]
    assert status == "" and "3 rows in " in verdict  # the verdict gives the count and time once
    assert bar["visible"] is True and bar["x"] == "name" and line["visible"] is False
    assert history[0]["question"] == "How many employees does each department have?"
    assert recent["choices"][0][1] == 0


def test_no_rows_no_result_and_no_chart(make_ui):
    ddl = SCHEMA.split("INSERT")[0]
    _, verdict, kept, shown = _asked(make_ui("SELECT COUNT(*) FROM employees;"), "How many employees?", ddl)
    frame, status, bar, line, *_ = shown
    assert "not run" in verdict and frame.equals(app.EMPTY) and status == ""
    assert bar["visible"] is False and line["visible"] is False


def test_while_writing_nothing_below_the_sql_changes(make_ui):
    events = list(make_ui("SELECT 1;").ask("q", SCHEMA, "sqlite"))
    assert all(kept is None for _, _, kept in events[:-1]) and events[-1][2] is not None
    assert all(v is gr.skip() or v == gr.skip() for v in make_ui().show_answer(None, [], "company"))


def test_history_keeps_this_visit_newest_first_without_repeats():
    entry = lambda q: dict(question=q, schema="s", db=None, dialect="sqlite", sql="SELECT 1", example="company")  # noqa: E731
    history = []
    for q in ["a", "b", "a", *map(str, range(12))]:
        history = app.remember(history, entry(q))
    assert [h["question"] for h in history] == [str(i) for i in range(11, 1, -1)]
    history = app.remember([entry("a"), entry("b")], entry("b"))
    assert [h["question"] for h in history] == ["b", "a"]


def test_a_question_of_this_visit_comes_back(make_ui):
    ui = make_ui(GROUPED, "SELECT name FROM employees;")
    *_, first = _asked(ui, "Employees per department?")
    history = first[5]
    *_, second = _asked(ui, "Names of employees?", history=history)
    history = second[5]
    assert [h["question"] for h in history] == ["Names of employees?", "Employees per department?"]
    question, schema, example, dialect, db, sql = ui.recall(1, history)
    assert (question, schema, example, dialect, db) == ("Employees per department?", SCHEMA, "company", "sqlite", None)
    assert "GROUP BY" in sql


def test_right_and_corrected_answers_are_kept(make_ui, tmp_path):
    ui = make_ui("SELECT name FROM employees WHERE salary > 100000;")
    _, _, kept, _ = _asked(ui, "Who earns more than 90000?")
    assert "Saved" in ui.mark(kept, "", right=True)
    with pytest.raises(gr.Error, match="Edit the SQL"):  # "wrong" with the SQL as the model wrote it
        ui.mark(kept, app.pretty(kept["sql"]), right=False)
    corrected = "SELECT name\nFROM employees\nWHERE salary > 90000"
    assert "your SQL" in ui.mark(kept, corrected, right=False)
    store = FeedbackStore(tmp_path / "feedback.sqlite")
    rows = store.rows()
    assert [r.verdict for r in rows] == ["right", "wrong"]
    assert rows[1].sql == corrected and rows[1].model_sql == kept["sql"] and rows[1].question == kept["question"]
    assert "CREATE TABLE employees" in rows[1].schema and "INSERT" in rows[1].context


def test_a_correction_that_fails_to_run_is_refused_and_nothing_is_written(make_ui, tmp_path):
    ui = make_ui("SELECT name FROM employees;")
    _, _, kept, _ = _asked(ui, "Names?")
    with pytest.raises(gr.Error, match="Not saved"):
        ui.mark(kept, "SELECT nope FROM employees", right=False)
    with pytest.raises(gr.Error, match="Not saved"):
        ui.save_correction("Names?", SCHEMA, "sqlite", None, kept["sql"], "SELEC name FRM employees")
    assert not (tmp_path / "feedback.sqlite").exists() or FeedbackStore(tmp_path / "feedback.sqlite").count() == 0


def test_saving_can_be_turned_off(make_ui, tmp_path):
    ui = make_ui(feedback=False)
    with pytest.raises(gr.Error, match="turned off"):
        ui.save_correction("Names?", SCHEMA, "sqlite", None, "SELECT name FROM employees", "SELECT name FROM employees")
    assert not (tmp_path / "feedback.sqlite").exists()
    assert ServiceConfig.from_env({"NL2SQL_FEEDBACK": "0"}).feedback is False
    assert ServiceConfig.from_env({"NL2SQL_DATA_DIR": str(tmp_path)}).data_dir == str(tmp_path)


def test_an_upload_is_kept_as_its_schema_not_its_path(make_ui, tmp_path):
    import sqlite3

    src = tmp_path / "shop.sqlite"
    con = sqlite3.connect(src)
    con.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, price REAL)")
    con.execute("INSERT INTO items VALUES (1, 9.5)")
    con.commit()
    con.close()
    ui = make_ui()
    box, db, _ = ui.use_upload([str(src)])
    message = ui.save_correction("Prices?", box, "sqlite", db, "SELECT id FROM items", "SELECT price FROM items")
    assert "Saved" in message
    row = FeedbackStore(tmp_path / "feedback.sqlite").rows()[0]
    assert "CREATE TABLE items" in row.schema and db not in repr(row)
