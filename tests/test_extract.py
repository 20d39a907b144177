"""A full fine-tune shipped as a low-rank LoRA adapter (training.extract): the round trip on the tiny model."""

import json

import pytest
import torch

from training.extract import TARGETS, extract, low_rank, rank_for_budget


def test_the_budget_decides_the_rank():
    # SmolLM2-135M: 30 layers of q, k, v, o, gate, up, down (hidden 576, kv 192, mlp 1536)
    layer = [(576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536)]
    assert rank_for_budget(layer * 30, 20.0) == 32  # 0.61 MB per rank in fp16
    assert rank_for_budget(layer * 30, 10.0) == 16  # the shipped adapter's rank and size
    with pytest.raises(ValueError, match="not even rank 1"):
        rank_for_budget(layer * 30, 0.1)


def test_low_rank_is_exact_at_the_delta_s_rank_and_says_what_it_loses_below():
    g = torch.Generator().manual_seed(0)
    delta = torch.randn(40, 2, generator=g) @ torch.randn(2, 30, generator=g)
    a, b, kept = low_rank(delta, 2)
    assert a.shape == (2, 30) and b.shape == (40, 2) and kept == pytest.approx(1.0)
    assert torch.allclose(b @ a, delta, atol=1e-4)
    _, _, kept = low_rank(delta, 1)
    assert 0.3 < kept < 1.0


def test_round_trip_a_full_fine_tune_through_an_adapter(tiny_model_dir, tmp_path):
    from nl2sql.models import load

    tuned = load(str(tiny_model_dir), dtype=torch.float32, device="cpu").model
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, module in tuned.named_modules():
            if name.rsplit(".", 1)[-1] in TARGETS:
                out, inp = module.weight.shape
                module.weight += 0.05 * torch.randn(out, 2, generator=g) @ torch.randn(2, inp, generator=g)
        tuned.model.norm.weight += 0.1  # what an adapter cannot carry
    tuned.save_pretrained(tmp_path / "full")
    for f in tiny_model_dir.glob("tokenizer*"):
        (tmp_path / "full" / f.name).write_bytes(f.read_bytes())

    result = extract(str(tmp_path / "full"), str(tmp_path / "lora"), base=str(tiny_model_dir), rank=2)
    assert result.rank == 2 and result.kept == pytest.approx(1.0) and result.layers > 0
    assert list(result.dropped) == ["model.norm.weight"]
    assert json.loads((tmp_path / "lora" / "extraction.json").read_text())["rank"] == 2
    merged = load(str(tmp_path / "lora"), dtype=torch.float32, device="cpu").model  # served like any adapter
    tuned_weights = dict(tuned.named_parameters())
    for name, w in merged.named_parameters():
        if name.rsplit(".", 2)[-2] in TARGETS:
            assert torch.allclose(w, tuned_weights[name], atol=2e-3), name  # fp16 factors
    ids = torch.tensor([[1, 5, 9, 13]])
    with torch.no_grad():
        assert not torch.allclose(merged(ids).logits, tuned(ids).logits, atol=1e-2)  # the norm's change is missing
        merged.model.norm.weight += 0.1  # the one change the extraction reports as dropped
        assert torch.allclose(merged(ids).logits, tuned(ids).logits, atol=1e-2)
    small = extract(str(tmp_path / "full"), str(tmp_path / "lora1"), base=str(tiny_model_dir), rank=1)
    assert small.kept < 1.0
