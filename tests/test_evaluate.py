import json
import sqlite3

import pytest

from eval import evaluate
from eval.evaluate import gold_results, main, request, score
from nl2sql.pipeline import answer
from tests.conftest import scripted
from tests.fake_openai import FakeOpenAI, completion

DDL = "CREATE TABLE singer (id INT PRIMARY KEY, name TEXT, age INT, country TEXT);"
QUESTIONS = [("How many singers are there?", "SELECT count(*) FROM singer"),
             ("List the names of singers from France.", "SELECT name FROM singer WHERE country = 'France'"),
             ("What is the average age?", ["SELECT avg(age) FROM singer", "SELECT AVG(age) FROM singer AS s"]),
             ("Name the oldest singer.", "SELECT name FROM singer ORDER BY age DESC LIMIT 1")]


@pytest.fixture
def dataset(tmp_path):
    (tmp_path / "dbs").mkdir()
    conn = sqlite3.connect(tmp_path / "dbs" / "music.sqlite")
    conn.executescript(DDL + "INSERT INTO singer VALUES (1, 'Ana', 30, 'France'), (2, 'Bo', 41, 'Spain');")
    conn.commit()
    conn.close()
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps({"id": f"r{i}", "question": q, "sql": s, "schema": DDL, "db": "dbs/music.sqlite"}) + "\n"
                            for i, (q, s) in enumerate(QUESTIONS)))
    return path


def _row(dataset, i=1):
    from nl2sql.data import load_file

    return load_file(dataset)[i]


def _scored(dataset, model_text):
    """The row's Answer as the pipeline makes it (grounded and run on the row's database), then scored."""
    row = _row(dataset)
    ans = answer(scripted([model_text]), request(row))
    return score(ans, row, "m", gold_results(row), 0.1)


def test_score_correct_prediction(dataset):
    r = _scored(dataset, "SELECT name FROM singer WHERE country = 'France';")
    assert r.parses and r.grounded and r.executes and r.execution_match and r.exact_match


def test_score_wrong_and_ungrounded(dataset):
    r = _scored(dataset, "SELECT nam FROM singer;")
    assert r.parses and r.grounded is False and r.executes is False and r.execution_match is False
    assert "no such column" in r.error


def test_score_unparsable(dataset):
    r = _scored(dataset, "I cannot answer that.")
    assert not r.parses and r.execution_match is False and r.error


def test_scoring_does_not_run_the_prediction_again(dataset, monkeypatch):
    from nl2sql import execution  # where the pipeline runs SQL (nl2sql.execution.execute)

    row = _row(dataset)
    ans = answer(scripted(["SELECT name FROM singer WHERE country = 'France';"]), request(row))
    runs = []
    monkeypatch.setattr(execution, "run_sandbox", lambda *a, **k: runs.append(a) or None)
    assert score(ans, row, "m", [ans.result], 0.1).execution_match and runs == []


def test_end_to_end_and_resume(tiny_model_dir, dataset, tmp_path, monkeypatch):
    out = tmp_path / "out"
    argv = ["--model", str(tiny_model_dir), "--data", str(dataset), "--out", str(out), "--batch_size", "2",
            "--max_new_tokens", "4", "--backend", "transformers"]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 4 and summary["data"] == str(dataset)
    [m] = summary["models"]
    assert set(m) == {"name", "spec", "match", "errors", "overall", "by_category"} and m["overall"]["n"] == 4
    assert m["match"] == {"defog": 4} and m["errors"] == 0  # a user's own rows: judged by their answers
    assert set(m["overall"]) == {"n", "parses", "grounded", "executes", "execution_accuracy", "exact_match",
                                 "judge_correct", "latency_p50_s", "examples_per_s"}
    assert (out / "report.md").read_text().startswith("# Evaluation") and (out / "accuracy_by_category.png").stat().st_size
    lines = (out / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 4
    (out / "predictions.jsonl").write_text("\n".join(lines[:2]) + "\n")  # as if interrupted after 2 rows
    seen = []
    real = evaluate.answer_batch
    monkeypatch.setattr(evaluate, "answer_batch", lambda lm, reqs, *a: seen.extend(reqs) or real(lm, reqs, *a))
    assert main(argv) == 0
    assert [r.question for r in seen] == [q for q, _ in QUESTIONS[2:]]
    assert sorted(json.loads(x)["id"] for x in (out / "predictions.jsonl").read_text().splitlines()) == ["r0", "r1", "r2", "r3"]


@pytest.mark.parametrize("row,chosen,rules", [
    ({"id": "spider-dev-3"}, None, "spider"), ({"id": "spider-syn-dev-3"}, None, "spider"),
    ({"id": "17"}, None, "spider"),  # the synthetic set
    ({"id": "r1"}, None, "defog"),  # any other data: a user's own rows
    ({"id": "r1"}, "spider", "spider"), ({"id": "spider-dev-3"}, "defog", "defog"),
    ({"id": "r1", "match": "spider"}, "defog", "spider"),  # a row's own rules win
])
def test_match_rules(row, chosen, rules):
    assert evaluate.match_rules(row, chosen) == rules


def test_a_row_that_raises_is_an_error_row_and_the_run_goes_on(tiny_model_dir, dataset, tmp_path, monkeypatch):
    real_answer, real_gold = evaluate.answer_batch, evaluate.gold_results

    def answer_batch(lm, reqs, *a):
        if any(r.question == QUESTIONS[1][0] for r in reqs):
            raise RuntimeError("backend fell over")
        return real_answer(lm, reqs, *a)

    def gold(row):
        if row["id"] == "r3":
            raise KeyError("gold blew up")
        return real_gold(row)

    monkeypatch.setattr(evaluate, "answer_batch", answer_batch)
    monkeypatch.setattr(evaluate, "gold_results", gold)
    out = tmp_path / "errors"
    assert main(["--model", str(tiny_model_dir), "--data", str(dataset), "--out", str(out), "--batch_size", "2",
                 "--max_new_tokens", "4", "--backend", "transformers", "--match", "spider"]) == 0
    rows = {json.loads(x)["id"]: json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()}
    assert sorted(rows) == ["r0", "r1", "r2", "r3"]
    assert rows["r1"]["error"] == "evaluation error: RuntimeError: backend fell over"
    assert "KeyError" in rows["r3"]["error"] and rows["r3"]["execution_match"] is False
    assert not (rows["r0"]["error"] or "").startswith("evaluation error")  # its batch-mate answered alone
    [m] = json.loads((out / "summary.json").read_text())["models"]
    assert m["errors"] == 2 and m["match"] == {"spider": 4}
    assert "2 rows raised during evaluation" in (out / "report.md").read_text()


def test_judge_agreement_in_report(tiny_model_dir, dataset, tmp_path, monkeypatch):
    server = FakeOpenAI()
    try:
        server.replies += [(200, completion(json.dumps({"verdict": v, "explanation": "x"})), 0)
                           for v in ("correct", "logic_error", "logic_error", "incomplete")]
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        for k in ("AZURE_OPENAI_ENDPOINT", "OPENAI_API_KEY"):
            monkeypatch.delenv(k, raising=False)
        out = tmp_path / "judged"
        assert main(["--model", str(tiny_model_dir), "--data", str(dataset), "--out", str(out), "--judge",
                     "--max_new_tokens", "4", "--backend", "transformers"]) == 0
    finally:
        server.close()
    assert len(server.requests) == 4
    report = (out / "report.md").read_text()
    assert "Cohen's kappa" in report and "| judge correct |" in report
    assert json.loads((out / "summary.json").read_text())["models"][0]["overall"]["judge_correct"] == 0.25


@pytest.mark.parametrize("argv,rc", [(["--model", "packaged", "--data", "nope.jsonl", "--out", "o"], 2),
                                     (["--model", "not-a-model", "--data", "synthetic:test", "--limit", "2"], 3)])
def test_bad_input_exit_codes(argv, rc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "o")]
    assert main(argv) == rc


def test_judge_without_credentials_is_a_clear_error(dataset, tmp_path, monkeypatch, capsys):
    for k in ("AZURE_OPENAI_ENDPOINT", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(k, raising=False)
    assert main(["--model", "packaged", "--data", str(dataset), "--out", str(tmp_path / "o"), "--judge"]) == 2
    assert "no judge configured" in capsys.readouterr().err


def test_a_resumed_run_refuses_to_mix_backends(tiny_model_dir, dataset, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NL2SQL_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "mixed"
    argv = ["--model", str(tiny_model_dir), "--data", str(dataset), "--out", str(out), "--max_new_tokens", "4"]
    assert main([*argv, "--backend", "transformers"]) == 0
    assert json.loads((out / "predictions.jsonl").read_text().splitlines()[0])["extra"]["backend"] == "transformers"
    lines = (out / "predictions.jsonl").read_text().splitlines()
    (out / "predictions.jsonl").write_text("\n".join(lines[:2]) + "\n")
    assert main([*argv, "--backend", "llama.cpp"]) == 3
    assert "made with backend transformers, not llama.cpp: pass --backend transformers" in capsys.readouterr().err
    assert main([*argv, "--backend", "transformers", "--no-constrain"]) == 3
    assert "made with constrain True, not False: pass --constrain or a new --out" in capsys.readouterr().err
    assert all(json.loads(line)["extra"]["constrain"] for line in lines[:2])
    assert all(isinstance(json.loads(line)["extra"]["constrained"], bool) for line in lines[:2])


def test_workers_answer_a_remote_server_at_once_and_keep_the_order(tiny_model_dir, dataset, tmp_path, monkeypatch):
    """--workers 4 against a server that answers requests concurrently writes what --workers 1 writes."""
    from nl2sql.backends.hf import TransformersBackend
    from nl2sql.models import load
    from tests.completions_server import CompletionsServer

    server = CompletionsServer(TransformersBackend(load(str(tiny_model_dir), dtype="float32", device="cpu")).lm)
    monkeypatch.setenv("NL2SQL_REMOTE_URL", server.url)
    try:
        outputs = {}
        for workers in (1, 4):
            out = tmp_path / f"w{workers}"
            assert main(["--model", str(tiny_model_dir), "--data", str(dataset), "--out", str(out), "--batch_size", "1",
                         "--max_new_tokens", "6", "--backend", "remote", "--workers", str(workers)]) == 0
            outputs[workers] = [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines()]
    finally:
        server.server.shutdown()
    assert [r["id"] for r in outputs[4]] == [r["id"] for r in outputs[1]] == ["r0", "r1", "r2", "r3"]
    assert [r["raw"] for r in outputs[4]] == [r["raw"] for r in outputs[1]]
    assert len(server.requests) == 8


def test_workers_are_refused_for_a_local_backend(tiny_model_dir, dataset, tmp_path, capsys):
    assert main(["--model", str(tiny_model_dir), "--data", str(dataset), "--out", str(tmp_path / "o"),
                 "--backend", "transformers", "--workers", "2"]) == 3
    assert "--workers 2 is for a remote server" in capsys.readouterr().err
