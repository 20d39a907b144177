import json
import sqlite3
from collections import Counter

import pytest

from nl2sql.synth import GRETEL_COLUMNS, TEST_DOMAINS, generate
from nl2sql.synth.__main__ import main as synth_main
from nl2sql.synth.domains import DOMAINS
from nl2sql.synth.generator import COMPLEXITY_WEIGHTS
from nl2sql.synth.templates import COMPLEXITY, REGISTRY, TASKS
from nl2sql.sql import validate


@pytest.fixture(scope="module")
def rows():
    return list(generate(4000, seed=3, split="all"))


def _execute(row):
    conn = sqlite3.connect(":memory:")
    conn.executescript(row["sql_context"])
    before = conn.total_changes
    out = conn.execute(row["sql"].rstrip(";")).fetchall()
    return out, conn.total_changes - before


def test_breadth_of_domains_and_templates():
    assert len(DOMAINS) >= 40 and all(2 <= len(d.tables) <= 5 for d in DOMAINS)
    assert len(REGISTRY) >= 60 and all(len(t.phrasings) >= 3 for t in REGISTRY)
    assert {t.complexity for t in REGISTRY} == set(COMPLEXITY) and {t.task for t in REGISTRY} == set(TASKS)


def test_rows_have_gretel_columns(rows):
    assert all(tuple(r) == GRETEL_COLUMNS for r in rows)


def test_every_gold_parses_and_executes_on_its_context(rows):
    empty = selects = 0
    for r in rows:
        assert validate(r["sql"]).ok, r["sql"]
        out, changed = _execute(r)
        if r["sql"].startswith(("SELECT", "WITH")):
            selects += 1
            empty += not out or all(v is None for row in out for v in row)
        elif r["sql"].startswith(("INSERT", "UPDATE", "DELETE")):
            assert changed >= 1, r["sql"]
    assert empty / selects < 0.05


def test_proportions_of_complexity_and_task(rows):
    share = {k: v / len(rows) for k, v in Counter(r["sql_complexity"] for r in rows).items()}
    for cls, weight in COMPLEXITY_WEIGHTS.items():
        # Classes whose templates a database cannot always host come out somewhat below their weight.
        assert weight * 0.4 <= share[cls] <= weight * 1.6, (cls, share[cls])
    tasks = Counter(r["sql_task_type"] for r in rows)
    assert set(tasks) == set(TASKS)
    assert tasks["data manipulation"] / len(rows) > 0.03 and tasks["data definition"] / len(rows) > 0.03


def test_schema_variety(rows):
    contexts = " ".join(r["sql_context"] for r in rows[:1500])
    assert "INTEGER PRIMARY KEY" in contexts and "NULL" in contexts and "DATE" in contexts and "BOOLEAN" in contexts
    assert any(c in contexts for c in ("customerId", "CustomerId", "custId"))  # camel/Pascal/abbreviated
    assert "_id INTEGER PRIMARY KEY" in contexts and "  id INTEGER PRIMARY KEY" in contexts


def test_spoken_column_names(rows):
    questions = " ".join(r["sql_prompt"] for r in rows)
    assert "date of birth" in questions and "date_of_birth" not in questions and "dateOfBirth" not in questions


def test_deterministic_and_split_by_domain():
    a = list(generate(300, seed=11, split="train"))
    assert a == list(generate(300, seed=11, split="train"))
    assert a != list(generate(300, seed=12, split="train"))
    test = list(generate(300, seed=11, split="test"))
    assert {r["domain"] for r in test} <= TEST_DOMAINS
    assert not {r["domain"] for r in a} & TEST_DOMAINS


def test_no_duplicates_in_100k():
    seen = {(r["sql_prompt"], r["sql"]) for r in generate(100_000, seed=0, split="all")}
    assert len(seen) == 100_000


def test_cli_writes_jsonl_and_parquet(tmp_path):
    assert synth_main(["--n", "50", "--out", str(tmp_path / "s.jsonl"), "--split", "test"]) == 0
    lines = (tmp_path / "s.jsonl").read_text().splitlines()
    assert len(lines) == 50 and json.loads(lines[0])["domain"] in TEST_DOMAINS
    assert synth_main(["--n", "20", "--out", str(tmp_path / "s.parquet")]) == 0
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "s.parquet").num_rows == 20
    assert synth_main(["--n", "5", "--out", str(tmp_path / "s.txt")]) == 2


def test_the_test_split_never_changes_as_templates_are_added():
    """The synthetic test split is a fixed yardstick: rows made before the train-only templates, hashed."""
    import hashlib

    test = list(generate(300, seed=0, split="test"))
    digest = hashlib.sha256(json.dumps(test, sort_keys=True).encode()).hexdigest()
    assert digest == "4b8f611d557d7c31acf91ac60cf804673bbce964f9e77f8f5bfc1898a3b0d7ab"
    late = {t.name for t in REGISTRY if t.train_only}
    assert len(late) >= 8


def test_join_boost_makes_join_questions_common_and_they_run():
    from nl2sql.synth.templates import REGISTRY

    plain = Counter(r["sql_complexity"] for r in generate(1500, seed=5, split="train"))
    boosted = list(generate(1500, seed=5, split="train", join_boost=2.0))
    counts = Counter(r["sql_complexity"] for r in boosted)
    joins = lambda c: c["single join"] + c["multiple_joins"]  # noqa: E731
    odds = lambda c: joins(c) / (sum(c.values()) - joins(c))  # noqa: E731  join vs other questions
    assert odds(counts) > 1.6 * odds(plain)  # about 2: each join template drawn twice as often
    for r in boosted:
        if "JOIN" in r["sql"]:
            _execute(r)  # every gold runs on its own context
    having = [r for r in boosted if "HAVING COUNT(*) >" in r["sql"] and "JOIN" in r["sql"]]
    assert having and all(_execute(r)[0] for r in having)  # the threshold keeps some parents
    with pytest.raises(ValueError, match="join_boost must be above 0"):
        next(generate(1, split="train", join_boost=0))
    assert {t.name for t in REGISTRY if t.train_only} <= {t.name for t in REGISTRY}
