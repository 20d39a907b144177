import csv
import json

import pytest

from nl2sql import data
from nl2sql.data import DataError, load_file, load_rows

GRETEL_ROW = {"id": 5097, "domain": "forestry", "domain_description": "...", "sql_complexity": "single join",
              "sql_complexity_description": "...", "sql_task_type": "analytics and reporting",
              "sql_task_type_description": "...", "sql_prompt": "What is the total volume of timber sold by each salesperson?",
              "sql_context": "CREATE TABLE salesperson (salesperson_id INT, name TEXT); "
                             "INSERT INTO salesperson VALUES (1, 'John Doe'); "
                             "CREATE TABLE timber_sales (sales_id INT, salesperson_id INT, volume REAL);",
              "sql": "SELECT s.name, SUM(t.volume) FROM salesperson s JOIN timber_sales t ON s.salesperson_id = t.salesperson_id GROUP BY s.name;",
              "sql_explanation": "..."}


def _expected_gretel(row):
    assert row["question"] == GRETEL_ROW["sql_prompt"] and row["sql"] == GRETEL_ROW["sql"]
    assert row["schema"].count("CREATE TABLE") == 2 and "INSERT" not in row["schema"]
    assert row["context"].strip() == "INSERT INTO salesperson VALUES (1, 'John Doe');"
    assert row["category"] == "single join" and row["dialect"] == "sqlite" and row["db"] is None


def test_gretel_fixture_jsonl_and_parquet(tmp_path):
    (tmp_path / "g.jsonl").write_text(json.dumps(GRETEL_ROW) + "\n")
    _expected_gretel(load_file(tmp_path / "g.jsonl")[0])
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([GRETEL_ROW]), tmp_path / "g.parquet")
    _expected_gretel(load_file(tmp_path / "g.parquet")[0])


def test_hub_path_maps_gretel_rows_the_same_way(monkeypatch):
    import datasets

    calls = []

    def fake_load_dataset(name, split):
        calls.append((name, split))
        return datasets.Dataset.from_list([GRETEL_ROW])

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    rows = load_rows(data.GRETEL, split="test")
    assert calls == [(data.GRETEL, "test")]
    _expected_gretel(rows[0])


def test_hub_failure_is_a_clear_error(monkeypatch):
    import datasets

    def boom(name, split):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", boom)
    with pytest.raises(DataError, match="cannot load 'a/b' .*offline"):
        load_rows("a/b")


def test_canonical_csv_with_relative_db(tmp_path):
    with (tmp_path / "c.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, ["id", "question", "sql", "db"])
        w.writeheader()
        w.writerow({"id": "q1", "question": "How many?", "sql": "SELECT 1", "db": "dbs/x.sqlite"})
    [row] = load_file(tmp_path / "c.csv")
    assert row["db"] == str((tmp_path / "dbs" / "x.sqlite").resolve()) and row["schema"] is None


def test_missing_columns_are_named(tmp_path):
    (tmp_path / "bad.jsonl").write_text(json.dumps({"prompt": "x", "sql": "SELECT 1"}) + "\n")
    with pytest.raises(DataError) as e:
        load_file(tmp_path / "bad.jsonl")
    assert "sql_prompt" in str(e.value) and "question" in str(e.value) and "prompt" in str(e.value)


@pytest.mark.parametrize("spec,message", [("nope.jsonl", "no such data file"), ("whatever", "unknown data source")])
def test_bad_sources(spec, message):
    with pytest.raises(DataError, match=message):
        load_rows(spec)


def test_synthetic_source_is_canonical():
    rows = load_rows("synthetic:test", limit=20)
    assert len(rows) == 20 and all(r["schema"].startswith("CREATE TABLE") and r["context"] for r in rows)


def test_spider_dev_loads_with_absolute_db_paths():
    from pathlib import Path

    rows = load_rows(str(data.shared_data(data.SPIDER_DEV)), limit=5)
    assert all(Path(r["db"]).is_file() and isinstance(r["sql"], list) for r in rows)
