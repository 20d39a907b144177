"""Real-model tests on the packaged SmolLM2-135M-Instruct (slow: conversion ~20 s, then generation)."""

import os
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES

pytestmark = pytest.mark.slow

CONVERT = "from nl2sql.models import packaged_checkpoint; print(packaged_checkpoint())"


def test_two_processes_convert_at_once_then_reload_from_cache(tmp_path, monkeypatch):
    env = {**os.environ, "NL2SQL_CACHE": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", CONVERT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0] and outs[0] == outs[1]
    converted = tmp_path / outs[0].rsplit("/", 1)[1]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [converted.name]
    mtime = (converted / "model.safetensors").stat().st_mtime
    monkeypatch.setenv("NL2SQL_CACHE", str(tmp_path))
    from nl2sql import models

    assert str(models.packaged_checkpoint()) == outs[0]
    assert (converted / "model.safetensors").stat().st_mtime == mtime  # reused, not rebuilt


@pytest.fixture(scope="module")
def packaged():
    from nl2sql.backends import TransformersBackend
    from nl2sql.models import load

    return TransformersBackend(load("packaged"))


def test_packaged_answers_a_simple_question(packaged):
    from nl2sql.pipeline import Request, answer

    a = answer(packaged, Request("How many employees are there?", "CREATE TABLE employees(id INT, name TEXT)", run=True))
    assert "SmolLM2-135M-Instruct" in a.model_name and "GGUF" in a.model_name
    assert a.validation.ok, a.generation.text
    assert a.result is not None and a.result.ok, a.result
    assert "employees" in a.sql.lower()


def test_packaged_streams_and_batches(packaged):
    from nl2sql.pipeline import Decoding, Request, answer_batch, answer_stream

    schema = (EXAMPLES / "company.sql").read_text()
    reqs = [Request("How many departments are there?", schema), Request("List the names of all employees.", schema)]
    batch = answer_batch(packaged, reqs, Decoding(batch_size=2))
    assert all(a.validation.ok for a in batch), [a.generation.text for a in batch]
    *partials, last = list(answer_stream(packaged, reqs[0]))
    assert len(partials) > 2 and all(not p.done for p in partials) and last.validation.ok
    assert last.result is not None and last.result.ok  # the schema has rows: run at once


def test_cpu_smoke_recipe_trains_the_packaged_base(tmp_path):
    """The cpu-smoke recipe end to end on the real base: loss logged, checkpoint saved, loads, answers."""
    import json

    from nl2sql.backends import TransformersBackend
    from nl2sql.models import load
    from nl2sql.pipeline import Request, answer
    from training.train import main

    out = tmp_path / "smoke"
    assert main(["--config", "training/configs/cpu-smoke.yaml", "--output_dir", str(out), "--max_steps", "4",
                 "--eval_steps", "2", "--save_steps", "4"]) == 0
    history = json.loads((out / "log_history.json").read_text())
    assert any("eval_loss" in h for h in history) and (out / "loss.png").stat().st_size > 0
    lm = TransformersBackend(load(str(out)))
    a = answer(lm, Request("How many employees are there?", "CREATE TABLE employees(id INT, name TEXT)"))
    assert a.generation.new_tokens > 0 and "fine-tuned packaged" in lm.name


def test_shipped_adapter_is_the_default_and_writes_runnable_sql():
    from nl2sql.backends import TransformersBackend
    from nl2sql.models import default_model, load, shipped_model
    from nl2sql.pipeline import Request, answer_batch

    assert shipped_model() is not None and default_model() == shipped_model()
    lm = TransformersBackend(load(default_model()))
    assert "LoRA on SmolLM2-135M-Instruct" in lm.name
    schema = (EXAMPLES / "company.sql").read_text()
    questions = ["How many employees are there?", "What is the highest salary?", "List the names of all departments."]
    answers = answer_batch(lm, [Request(q, schema, run=True) for q in questions])
    assert all(a.validation.ok and a.result.ok and not a.unknown for a in answers), [a.sql for a in answers]
    assert answers[0].result.rows == [(5,)] and answers[1].result.rows == [(120000.0,)]


@pytest.mark.parametrize("which", ["packaged", "shipped"])
def test_llamacpp_gives_the_same_sql_as_transformers_fp32(which):
    """The default fast backend (F16 exports) against the reference on real questions;
    `make bench-backends` measures the agreement on 200 Spider dev rows."""
    import torch

    from nl2sql.backends import TransformersBackend, open_backend
    from nl2sql.models import load, shipped_model
    from nl2sql.pipeline import Decoding, Request, answer_batch

    spec = "packaged" if which == "packaged" else shipped_model()
    fast = open_backend(spec, "llama.cpp")
    ref = TransformersBackend(load(spec, dtype=torch.float32, device="cpu"))
    schema = (EXAMPLES / "company.sql").read_text()
    reqs = [Request(q, schema) for q in ("How many employees are there?", "What is the highest salary?",
                                         "List the names of all departments.", "Who earns the most?")]
    got = [a.model_sql for a in answer_batch(fast, reqs, Decoding(max_new_tokens=48))]
    want = [a.model_sql for a in answer_batch(ref, reqs, Decoding(max_new_tokens=48, batch_size=1))]
    assert sum(g == w for g, w in zip(got, want)) >= 3, (got, want)
    assert fast.kind == "llama.cpp" and "GGUF" in fast.precision


def test_the_cli_answers_on_the_fast_backend_by_default(capsys):
    from nl2sql.__main__ import main

    assert main(["How many employees are there?", "--schema", str(EXAMPLES / "company.sql"), "--run",
                 "--verbose"]) == 0
    out, err = capsys.readouterr()
    assert "(llama.cpp; schema-constrained)" in err and "5" in out


def test_constrained_decoding_keeps_the_shipped_model_to_the_schema():
    """Questions on which the shipped model, left alone, names columns the tables lack."""
    from nl2sql.backends import open_backend
    from nl2sql.models import shipped_model
    from nl2sql.pipeline import Decoding, Request, answer

    fast = open_backend(shipped_model(), "llama.cpp")
    schema = (EXAMPLES / "company.sql").read_text()
    questions = ["What is the total budget of each department?", "Show each employee's email address.",
                 "List the employees and their job titles."]  # columns the schema lacks (step 1250 invents them)
    free = [answer(fast, Request(q, schema), Decoding(constrain=False)) for q in questions]
    kept = [answer(fast, Request(q, schema)) for q in questions]
    assert sum(bool(a.unknown) for a in free) >= 2, [a.sql for a in free]
    assert all(a.constrained and a.validation.ok and not a.unknown for a in kept), [a.sql for a in kept]


def test_the_shipped_model_answers_the_apps_example_questions():
    """Issue 17's target: the app's four example questions, answered as the app serves them (the default
    backend and decoding), each scored by execution against its gold on the example schema's rows.
    Not a near-tie that another CPU's kernels could flip: along the four answers of step 2740 the chosen
    token leads the next best by at least 0.81 logits (transformers fp32, 2026-12-05), but for one: the last
    digit of `hire_date > '2020-01-01'` leads '2' by 0.03, and '2020-01-02' selects the same rows here
    (nobody in examples/company.sql was hired in 2020)."""
    import app
    from eval.evaluate import gold_results, request, score
    from nl2sql.backends import open_backend
    from nl2sql.data import load_rows
    from nl2sql.models import default_model
    from nl2sql.pipeline import answer

    lm = open_backend(default_model())
    rows = load_rows(str(app.APP_QUESTIONS))
    results = [score(answer(lm, request(r)), r, "shipped", gold_results(r), 0.0) for r in rows]
    assert len(results) == 4 and all(r.execution_match for r in results), [(r.id, r.predicted) for r in results]
