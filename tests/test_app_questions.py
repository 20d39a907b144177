"""The app's example questions (examples/app_questions.jsonl): their gold SQL and the yardstick that scores them."""

import json

import pytest
from conftest import scripted

import app
from eval.evaluate import gold_results, request, score
from nl2sql.data import DataError, golds, load_rows
from nl2sql.pipeline import answer

ROWS = load_rows(str(app.APP_QUESTIONS))
EXPECTED = {  # what each question's answer is on its example schema's rows, read off the INSERTs by hand
    "company-top-department": [("Engineering",)],
    "library-books-per-author": [("Ursula K. Le Guin", 2), ("Chinua Achebe", 1), ("Haruki Murakami", 2),
                                 ("Isabel Allende", 1)],
    "shop-quantity-per-category": [("Electronics", 3), ("Furniture", 1), ("Grocery", 9)],
    "company-hired-after-2020": [("Linus",), ("Ken",)],
}
WRONG = {  # the shipped step-100 model's answers, as issue 17 reported them
    "company-top-department": "SELECT name FROM departments ORDER BY AVG(id) DESC LIMIT 1",
    "library-books-per-author": "SELECT author_id, COUNT(*) FROM authors GROUP BY author_id",
    "shop-quantity-per-category": "SELECT SUM(quantity) FROM orders WHERE product_id IN "
                                  "(SELECT product_id FROM orders WHERE product_id = 1)",
    "company-hired-after-2020": "SELECT name FROM employees WHERE hire_date BETWEEN '2020' AND '2021'",
}


def test_the_app_offers_exactly_these_questions_on_their_schemas():
    assert [q for q, _ in app.EXAMPLE_QUESTIONS] == [r["question"] for r in ROWS]
    assert all(schema.startswith(r["schema"][:40]) for (_, schema), r in zip(app.EXAMPLE_QUESTIONS, ROWS))
    assert all(r["context"] and "INSERT INTO" in r["context"] for r in ROWS)  # rows to run on


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["id"])
def test_each_gold_query_gives_the_answer_read_off_the_rows(row):
    first, *alternatives = gold_results(row)
    assert first.ok and sorted(first.rows) == sorted(EXPECTED[row["id"]])
    assert all(alt.ok and len(alt.rows) == len(first.rows) for alt in alternatives)  # the same answer, more columns


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["id"])
def test_the_gold_scores_right_and_the_old_model_answer_wrong(row):
    ran = gold_results(row)
    right = answer(scripted([golds(row)[0]]), request(row))
    wrong = answer(scripted([WRONG[row["id"]]]), request(row))
    assert score(right, row, "m", ran, 0.0).execution_match is True
    assert score(wrong, row, "m", ran, 0.0).execution_match is False


def test_a_missing_schema_file_is_a_clear_error(tmp_path):
    (tmp_path / "q.jsonl").write_text(json.dumps({"question": "q?", "sql": "SELECT 1", "schema_file": "no.sql"}))
    with pytest.raises(DataError, match="row 0: schema_file no.sql"):
        load_rows(str(tmp_path / "q.jsonl"))
