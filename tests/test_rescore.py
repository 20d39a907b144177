"""eval.rescore: stored generations finished again by today's pipeline and scored as eval.evaluate scores them."""

import json

from eval.metrics import ExampleResult
from eval.rescore import main

DDL = ("CREATE TABLE d (id INT, name TEXT); CREATE TABLE e (id INT, d_id INT, pay INT);"
       "INSERT INTO d VALUES (1, 'ops'), (2, 'dev'); INSERT INTO e VALUES (1, 1, 5), (2, 1, 7), (3, 2, 1);")
ROWS = [("Total pay per department?", "SELECT d.name, SUM(e.pay) FROM d JOIN e ON e.d_id = d.id GROUP BY d.id",
         "SELECT T1.name, SUM(T3.pay) FROM d AS T1 JOIN e AS T2 ON T1.id = T2.d_id GROUP BY T1.id;"),  # T3: no such table
        ("How many departments?", "SELECT COUNT(*) FROM d", "SELECT COUNT(*) FROM d;")]


def _files(tmp_path, **extra):
    data, preds = tmp_path / "rows.jsonl", tmp_path / "predictions.jsonl"
    data.write_text("".join(json.dumps({"id": f"r{i}", "question": q, "sql": s, "schema": DDL}) + "\n"
                            for i, (q, s, _) in enumerate(ROWS)))
    stored = [ExampleResult(id=f"r{i}", model="m", question=q, gold=s, predicted=raw.rstrip(";"), category="join",
                            raw=raw, parses=True, executes=i == 1, execution_match=i == 1,
                            extra={"backend": "scripted", "model_name": "m", "candidates": 1, "votes": 1, **extra})
              for i, (q, s, raw) in enumerate(ROWS)]
    preds.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in stored))
    return data, preds


def test_a_mended_qualifier_is_scored_again_and_written_out(tmp_path, capsys):
    data, preds = _files(tmp_path)
    out = tmp_path / "out"
    assert main(["--predictions", str(preds), "--data", str(data), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "execution accuracy 50.0% -> 100.0%; 1 changed, 1 gained, 0 lost" in printed and "+ r0" in printed
    rescored = {json.loads(x)["id"]: json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()}
    assert rescored["r0"]["execution_match"] and "T2.pay" in rescored["r0"]["predicted"]
    assert rescored["r0"]["extra"]["requalified"] == ["T3.pay -> T2.pay"]
    assert json.loads((out / "summary.json").read_text())["models"][0]["overall"]["execution_accuracy"] == 1.0


def test_sampled_runs_and_bad_files_are_refused(tmp_path, capsys):
    data, preds = _files(tmp_path, votes=4)
    assert main(["--predictions", str(preds), "--data", str(data)]) == 2
    assert "only greedy runs can be rescored" in capsys.readouterr().err
    assert main(["--predictions", str(tmp_path / "none.jsonl"), "--data", str(data)]) == 2
    data, preds = _files(tmp_path)
    data.write_text(data.read_text().replace('"id": "r', '"id": "other-'))
    assert main(["--predictions", str(preds), "--data", str(data)]) == 2
    assert "no prediction in" in capsys.readouterr().err
