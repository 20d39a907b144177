"""Generation backends: the shared decode loop, the choice and fallback, the GGUF export, llama.cpp and
remote against transformers on the same prompts (tiny random-weight model, offline)."""

import importlib.util
import itertools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from nl2sql import backends
from nl2sql.backends import BackendUnavailable, TransformersBackend, drive, open_backend
from nl2sql.backends import llamacpp  # noqa
from nl2sql.backends.remote import RemoteBackend
from nl2sql.export import ExportError, export, main as export_main, write_gguf
from nl2sql.models import load
from nl2sql.pipeline import Decoding, Request, answer
from tests.completions_server import CompletionsServer
from tests.conftest import EXAMPLES

PROMPTS = ["How many employees are there?", "SELECT name FROM employees WHERE", "Question: SQL:",
           "List every department and its average salary."]
SCHEMA = (EXAMPLES / "company.sql").read_text()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NL2SQL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def reference(tiny_model_dir):
    return TransformersBackend(load(str(tiny_model_dir), dtype="float32", device="cpu"))


def _pieces(texts, closed):
    try:
        yield from texts
    finally:
        closed.append(True)


def test_drive_stops_at_the_end_of_the_statement():
    closed = []
    events = list(drive(_pieces(["SELECT", "SELECT 1", "SELECT 1;", "SELECT 1; DROP"], closed), 7, 50, "x"))
    assert [e.done for e in events] == [False, False, True]
    assert events[-1].text == "SELECT 1;" and events[-1].sql == "SELECT 1" and events[-1].new_tokens == 3
    assert events[-1].prompt_tokens == 7 and events[-1].backend == "x" and closed == [True]


def test_drive_caps_new_tokens_and_survives_an_empty_stream():
    events = list(drive(iter(["a", "ab", "abc", "abcd"]), 1, 2, "x"))
    assert events[-1].text == "ab" and events[-1].new_tokens == 2 and events[-1].stop == "limit"
    [only] = list(drive(iter([]), 1, 5, "x"))
    assert only.done and only.text == "" and only.new_tokens == 0 and only.first_token_s is None
    assert only.stop == "eos"


def test_drive_stops_runaway_repetition_early():
    nest = "SELECT id FROM t WHERE id IN (" * 30
    words = nest.split(" ")
    pieces = [" ".join(words[: i + 1]) for i in range(len(words))]
    final = list(drive(iter(pieces), 1, 1000, "x"))[-1]
    assert final.stop == "repetition" and final.new_tokens < 40  # not the 1,000-token cap


@pytest.mark.parametrize("text,repeats", [
    ("SELECT id FROM t WHERE id IN (" * 4, True),
    ("SELECT id FROM t WHERE id IN (" * 3, False),
    ("SELECT a FROM t WHERE x = 1 UNION SELECT a FROM t WHERE x = 2 UNION SELECT a FROM t WHERE x = 3", False),
    ("SELECT CASE WHEN a = 1 THEN 'x' WHEN a = 2 THEN 'y' WHEN a = 3 THEN 'z' WHEN a = 4 THEN 'w' END FROM t", False),
])
def test_the_repetition_rule(text, repeats):
    from nl2sql.backends.base import repeating

    assert repeating(text) is repeats


def test_unknown_backend_name():
    with pytest.raises(ValueError, match="unknown backend 'vllm'; use one of auto, transformers"):
        open_backend("packaged", "vllm")


def test_auto_without_llama_cpp_falls_back_with_a_log_line(tiny_model_dir, monkeypatch, caplog):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name, *a))
    with caplog.at_level(logging.WARNING, logger="nl2sql"):
        lm = open_backend(str(tiny_model_dir), "auto", dtype="float32", device="cpu")
    assert lm.kind == "transformers" and "llama-cpp-python is not installed" in caplog.text


def test_auto_falls_back_when_the_fast_backend_cannot_serve(tiny_model_dir, monkeypatch, caplog):
    def refuse(spec, **opts):
        raise BackendUnavailable("no GGUF for this architecture")

    monkeypatch.setattr(backends, "auto_choice", lambda device=None: "llama.cpp")
    monkeypatch.setitem(backends.OPENERS, "llama.cpp", refuse)
    with caplog.at_level(logging.WARNING, logger="nl2sql"):
        lm = open_backend(str(tiny_model_dir), "auto", dtype="float32", device="cpu")
    assert lm.kind == "transformers" and "no GGUF for this architecture" in caplog.text


def test_auto_prefers_transformers_on_a_gpu(monkeypatch):
    assert backends.auto_choice("cuda") == "transformers"


@pytest.mark.parametrize("quant", ["f32", "q8_0"])
def test_export_writes_a_llama_gguf(tiny_model_dir, tmp_path, quant):
    import gguf
    import torch

    out = export(str(tiny_model_dir), tmp_path / "exp", quant)
    r = gguf.GGUFReader(out / "model.gguf")
    names = {t.name for t in r.tensors}
    assert r.fields["general.architecture"].contents() == "llama"
    assert r.fields["llama.block_count"].contents() == 2 and r.fields["llama.attention.head_count_kv"].contents() == 1
    assert {"token_embd.weight", "blk.1.attn_q.weight", "blk.1.ffn_down.weight", "output_norm.weight"} <= names
    assert "output.weight" not in names  # tied embeddings: llama.cpp reuses token_embd
    assert len(r.fields["tokenizer.ggml.tokens"].contents()) == r.fields["llama.vocab_size"].contents()
    assert (out / "tokenizer.json").is_file() and f'"quant": "{quant}"' in (out / "nl2sql_source.json").read_text()
    if quant == "f32":  # q/k are permuted into llama.cpp's rotary layout; v is stored as is
        state = load(str(tiny_model_dir), dtype="float32", device="cpu").model.state_dict()
        q = next(t for t in r.tensors if t.name == "blk.0.attn_q.weight")
        v = next(t for t in r.tensors if t.name == "blk.0.attn_v.weight")
        assert torch.equal(torch.tensor(v.data.copy()), state["model.layers.0.self_attn.v_proj.weight"])
        hf_q = state["model.layers.0.self_attn.q_proj.weight"]
        assert not torch.equal(torch.tensor(q.data.copy()), hf_q)
        assert sorted(torch.tensor(q.data.copy()).flatten().tolist()) == sorted(hf_q.flatten().tolist())


def test_export_cli_and_unsupported_models(tiny_model_dir, tmp_path, capsys):
    assert export_main(["--model", str(tiny_model_dir), "--out", str(tmp_path / "e"), "--quant", "f16"]) == 0
    assert "model.gguf" in capsys.readouterr().out
    assert export_main(["--model", "not-a-model", "--out", str(tmp_path / "x")]) == 2

    class Lm:
        class model:
            class config:
                model_type = "gpt2"
        tokenizer, name, spec = None, "gpt2", "gpt2"

    with pytest.raises(ExportError, match="convert_hf_to_gguf"):
        write_gguf(Lm, tmp_path / "g")


def test_remote_answers_like_transformers(reference, tiny_model_dir):
    server = CompletionsServer(reference.lm)
    try:
        remote = RemoteBackend.open(str(tiny_model_dir), url=server.url)
        assert remote.model == "tiny" and remote.kind == "remote"
        for p in PROMPTS:
            want, got = reference.generate(p, 10), remote.generate(p, 10)
            assert got.text == want.text and got.sql == want.sql and got.backend == "remote"
        # greedy as the local backends decode: temperature 0 and no repetition penalty (llama.cpp's server has 1.1)
        assert server.requests[0]["temperature"] == 0 and server.requests[0]["repeat_penalty"] == 1.0
        streamed = list(remote.stream(PROMPTS[0], 10))
        assert streamed[-1].done and not any(e.done for e in streamed[:-1])
        assert [g.text for g in remote.generate_batch(PROMPTS[:2], 10)] == [reference.generate(p, 10).text
                                                                            for p in PROMPTS[:2]]
    finally:
        server.close()


def test_remote_stops_at_the_statement_end_and_closes_the_stream(reference, tiny_model_dir):
    class Endless(CompletionsServer):  # streams until the client hangs up, whatever max_tokens says
        def tokens(self, prompt, max_tokens):
            for piece in itertools.cycle(["SELECT", " 1", ";", " SELECT", " 2", ";"]):
                time.sleep(0.001)
                yield piece

    server = Endless(reference.lm)
    try:
        g = RemoteBackend.open(str(tiny_model_dir), url=server.url).generate("q", 100)
        assert g.text == "SELECT 1;" and g.new_tokens == 3
        deadline = time.monotonic() + 10
        while not server.disconnects and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.disconnects == 1  # the client closed the stream: the server stopped generating
    finally:
        server.close()


def test_remote_without_url_or_server_is_unavailable(tiny_model_dir, monkeypatch):
    monkeypatch.delenv("NL2SQL_REMOTE_URL", raising=False)
    with pytest.raises(BackendUnavailable, match="needs a server URL"):
        RemoteBackend.open(str(tiny_model_dir))
    with pytest.raises(BackendUnavailable, match="cannot list the models"):
        RemoteBackend.open(str(tiny_model_dir), url="http://127.0.0.1:9/v1", timeout=2)


def test_llamacpp_answers_like_transformers(reference, tiny_model_dir, cache):
    fast = open_backend(str(tiny_model_dir), "llama.cpp", quant="f32")
    assert fast.kind == "llama.cpp" and "GGUF F32" in fast.precision
    for p in PROMPTS:
        want, got = reference.generate(p, 12), fast.generate(p, 12)
        assert got.text == want.text and got.backend == "llama.cpp"
    assert [g.text for g in fast.generate_batch(PROMPTS, 12)] == [reference.generate(p, 12).text for p in PROMPTS]
    events = list(fast.stream(PROMPTS[0], 12))
    assert events[-1].done and events[-1].first_token_s is not None and len(events) >= 2
    assert len(list((cache / "gguf").glob("*-f32/model.gguf"))) == 1  # exported once into the cache


def test_llamacpp_threads_follow_nl2sql_threads(tiny_model_dir, cache, monkeypatch):
    monkeypatch.setenv("NL2SQL_THREADS", "1")
    assert open_backend(str(tiny_model_dir), "llama.cpp", quant="f32").precision == "GGUF F32, 1 thread"
    assert llamacpp._threads({}) >= 1 and llamacpp._threads({"NL2SQL_THREADS": " 3 "}) == 3
    for bad in ("0", "two", "-1", "1.5"):
        with pytest.raises(ValueError, match="NL2SQL_THREADS must be a whole number"):
            llamacpp._threads({"NL2SQL_THREADS": bad})


def test_llamacpp_stops_at_the_statement_end(tiny_model_dir, cache, monkeypatch):
    fast = open_backend(str(tiny_model_dir), "llama.cpp", quant="f32")
    script = fast.tokenizer("SELECT name FROM employees; SELECT 1;", add_special_tokens=False)["input_ids"]
    monkeypatch.setattr(fast.llm, "generate", lambda ids, **kw: iter(script))
    g = fast.generate("q", 100)
    assert g.text == "SELECT name FROM employees;" and g.sql == "SELECT name FROM employees"


def test_two_llamacpp_models_asked_from_many_threads_answer_as_one_at_a_time(tiny_model_dir, cache):
    models = [open_backend(str(tiny_model_dir), "llama.cpp", quant=q) for q in ("f32", "q8_0")]
    jobs = [(models[i % 2], PROMPTS[i % len(PROMPTS)]) for i in range(16)]
    want = [lm.generate(p, 12).text for lm, p in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:  # the app's two models under concurrent requests
        got = list(pool.map(lambda job: job[0].generate(job[1], 12).text, jobs))
        streamed = list(pool.map(lambda job: list(job[0].stream(job[1], 12))[-1].text, jobs))
    assert got == want and streamed == want


def test_a_model_is_not_freed_while_a_generation_holds_llamacpp():
    class Model:
        def __init__(self):
            self.closed = threading.Event()

        def close(self):
            self.closed.set()

    busy, idle = Model(), Model()
    with llamacpp._LLAMA:  # another thread's generation
        llamacpp._close(busy, wait_s=10)
        assert not busy.closed.wait(0.3)
    assert busy.closed.wait(5)  # freed once the generation let go
    llamacpp._close(idle)
    assert idle.closed.is_set()  # nothing in the way: freed at once


def test_llamacpp_through_the_pipeline_and_a_too_long_prompt(tiny_model_dir, cache):
    import llama_cpp

    default = llama_cpp.llama_cpp.llama_model_default_params
    fast = open_backend(str(tiny_model_dir), "llama.cpp", quant="q8_0")
    # loaded into plain CPU buffers (AMX ones segfaulted on Sapphire Rapids), the library's default put back
    assert fast.llm.model_params.use_extra_bufts is False
    assert llama_cpp.llama_cpp.llama_model_default_params is default and default().use_extra_bufts is True
    ans = answer(fast, Request("How many employees are there?", SCHEMA), Decoding(max_new_tokens=6))
    assert ans.generation.backend == "llama.cpp" and ans.model_name == fast.name
    with pytest.raises(ValueError, match="context leaves room"):
        fast.generate("word " * 600, 8)  # the tiny model's context is 512


def test_exports_are_cached_per_model_content(tiny_model_dir, tmp_path):
    import shutil

    from nl2sql.export import fingerprint

    model = shutil.copytree(tiny_model_dir, tmp_path / "m")
    before = fingerprint(str(model))
    (model / "README.md").write_text("a new model card")  # the card is not the model
    assert fingerprint(str(model)) == before
    (model / "generation_config.json").write_text('{"max_length": 7}')
    assert fingerprint(str(model)) != before


def test_the_remote_backend_and_the_pipeline_import_no_torch():
    import subprocess
    import sys

    code = ("import sys; import nl2sql.backends.remote, nl2sql.pipeline, nl2sql.prompt; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
