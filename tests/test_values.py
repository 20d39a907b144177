"""Value linking (nl2sql.values): the stored values a question names, found in bounded time."""

from __future__ import annotations

import sqlite3
import time

from nl2sql.pipeline import Decoding, Request, answer
from nl2sql.values import MAX_DISTINCT, ValueIndex, build_index, phrases
from tests.conftest import scripted

ROWS = """CREATE TABLE singer (id INT PRIMARY KEY, name TEXT, country TEXT, age INT);
CREATE TABLE concert (id INT PRIMARY KEY, singer_id INT REFERENCES singer(id), venue TEXT, year INT);
INSERT INTO singer VALUES (1, 'Ana Lima', 'France', 30), (2, 'Bo', 'Spain', 41), (3, 'Cy', 'United Kingdom', 25);
INSERT INTO concert VALUES (10, 1, 'Royal Albert Hall', 2020), (11, 3, 'Olympia', 2021);"""


def test_phrases_are_quoted_strings_and_word_runs():
    got = phrases('How many concerts did "Ana Lima" give at the Royal Albert Hall in 2020?')
    assert got[0] == "Ana Lima" and "Royal Albert Hall" in got and "Royal Albert" in got
    assert "2020" not in got and "the" not in got and "in" not in got and "How many" not in got


def test_values_are_shown_beside_their_columns():
    lm = scripted(["SELECT name FROM singer WHERE country = 'United Kingdom';"])
    ans = answer(lm, Request("Which singers come from the united kingdom?", ROWS), Decoding(values=True))
    assert "country ('United Kingdom')" in lm.calls[0].prompt and "venue" in lm.calls[0].prompt
    assert "values named: singer.country = 'United Kingdom'" in ans.linking.describe()
    assert ans.result.rows == [("Cy",)]
    lm = scripted(["SELECT 1;"])
    answer(lm, Request("Which singers come from the united kingdom?", ROWS), Decoding(values=False))
    assert "('United Kingdom')" not in lm.calls[0].prompt  # off: the prompt the model was trained on
    lm = scripted(["SELECT 1;"])
    answer(lm, Request("Which singers come from the united kingdom?", ROWS.split("INSERT")[0]), Decoding(values=True))
    assert "('" not in lm.calls[0].prompt  # no rows, no values


def test_a_value_keeps_its_table_in_a_large_schema():
    """The question names a venue only: linking alone would not keep the concert table; its value does."""
    filler = "".join(f"CREATE TABLE t{i} (id INT PRIMARY KEY, label TEXT, amount INT);" for i in range(8))
    schema = ROWS.replace("INSERT", filler + "\nINSERT", 1)
    lm = scripted(["SELECT 1;", "SELECT 1;"])
    plain = answer(lm, Request("Which label has the largest amount at the Olympia?", schema), Decoding(values=False))
    hinted = answer(lm, Request("Which label has the largest amount at the Olympia?", schema), Decoding(values=True))
    assert "concert" not in plain.linking.tables and plain.linking.pruned
    assert "concert" in hinted.linking.tables and "venue ('Olympia')" in lm.calls[1].prompt


def test_the_index_is_bounded_on_a_large_database_and_built_once(tmp_path, monkeypatch):
    """300,000 rows: a column of many distinct names and one of few; the index reads at most MAX_DISTINCT
    values per column, once per database."""
    from nl2sql import execution  # where the pipeline runs SQL: every read of the index goes through it

    path = tmp_path / "big.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, city TEXT, note TEXT)")
    cities = ["Paris", "Lyon", "Nice"]
    conn.executemany("INSERT INTO people VALUES (?, ?, ?, ?)",
                     ((i, f"Person {i}", cities[i % 3], "x" * 200) for i in range(300_000)))
    conn.commit()
    conn.close()
    ran, real = [], execution.run_sandbox
    monkeypatch.setattr(execution, "run_sandbox", lambda sql, **kw: ran.append(sql) or real(sql, **kw))
    lm = scripted(["SELECT COUNT(*) FROM people WHERE city = 'Nice';"] * 2)
    ans = answer(lm, Request("How many people live in Nice?", db=str(path)), Decoding(values=True))
    assert "city ('Nice')" in lm.calls[0].prompt and ans.result.rows == [(100_000,)]
    reads = [sql for sql in ran if sql.startswith("SELECT DISTINCT")]
    assert len(reads) == 3 and all(sql.endswith(f"LIMIT {MAX_DISTINCT}") for sql in reads)  # one bounded read a column
    ran.clear()
    answer(lm, Request("How many people live in Nice?", db=str(path)), Decoding(values=True))
    assert ran == ["SELECT COUNT(*) FROM people WHERE city = 'Nice'"]  # only the answer ran: the index was built once


def test_build_index_skips_long_values_and_says_when_a_bound_cut_it():
    from nl2sql.schema import parse_schema
    from nl2sql.sandbox import RunResult

    schema = parse_schema("CREATE TABLE t (a TEXT, b VARCHAR(10), c INT)")
    asked = []

    def run(sql):
        asked.append(sql)
        values = [(f"v{i}",) for i in range(MAX_DISTINCT)] if '"a"' in sql else [("x" * 100,), ("short",)]
        return RunResult(["v"], values)

    index = build_index(run, schema)
    assert len(asked) == 2 and not index.complete  # c is a number column; a filled its bound
    assert "short" in index.entries and "x" * 100 not in index.entries and index.columns == 2
    assert ValueIndex().find("anything") == []


def test_training_prompts_show_the_hints_serving_shows():
    import random

    from nl2sql.data import load_rows
    from nl2sql.pipeline import prepare
    from training.sft import DataArguments, sft_example

    args = DataArguments(link_tables=True, value_hints=True)
    hinted = 0
    for row in load_rows("synthetic:train", limit=60, seed=0):
        example = sft_example(row, None, args, random.Random(0))
        served = prepare(scripted([]), Request(row["question"], row["schema"], context=row["context"]),
                         Decoding(values=True)).prompt
        assert example["prompt"] == served  # small schemas: every table shown; the same values beside them
        hinted += "('" in served.split("Question:")[0]
    assert hinted >= 5


def test_a_value_many_columns_hold_does_not_keep_their_tables():
    from nl2sql.values import ValueHit, linked_tables

    hits = [ValueHit("orders", "status", "open"), ValueHit("tickets", "state", "Open"), ValueHit("jobs", "status", "open"),
            ValueHit("loans", "status", "open"), ValueHit("city", "name", "Paris")]
    assert linked_tables(hits) == {"city"}
    assert linked_tables(hits[1:]) == {"tickets", "jobs", "loans", "city"}
