"""python -m training.extract --model runs/full-ft [--base packaged] [--rank R | --max-mb 20] --out runs/full-ft-lora

A full fine-tune shipped as a LoRA adapter. Every target linear layer's weight delta (fine-tuned minus
base) is cut to its best rank-R approximation (truncated SVD: B = U_R sqrt(S_R), A = sqrt(S_R) V_R^T,
lora_alpha = R so PEFT's scale is 1), written as a PEFT adapter on the base in fp16: it loads and serves
like any adapter here (nl2sql.models.load merges it; the llama.cpp export merges it too). Without --rank,
the largest rank whose weights fit --max-mb (default 20 MB, the shipped limit).

What an adapter cannot carry is reported, not hidden: `kept` is the share of the deltas' energy (squared
Frobenius norm) the rank keeps, and `dropped` names the other parameters that changed (embeddings, norms)
with their relative change. A recipe that trains the linear layers only (the embeddings frozen) leaves
nothing there. Measure the extraction as served, after extraction, never the full checkpoint in its place.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
BYTES_PER_WEIGHT = 2  # fp16, as training.ship writes adapters
MAX_MB = 20.0


@dataclass
class Extraction:
    rank: int
    size_mb: float  # adapter_model.safetensors
    kept: float  # share of the linear deltas' energy the rank keeps (1.0: exact)
    layers: int  # linear layers extracted
    dropped: dict[str, float] = field(default_factory=dict)  # other changed parameters -> |delta| / |base|


@dataclass
class FullTuneArguments:
    """Full fine-tunes (use_peft false)."""

    linear_only: bool = field(default=False, metadata={
        "help": "train only the linear layers a LoRA adapter targets (training.extract.TARGETS): embeddings and "
                "norms stay as they are, so an extraction (python -m training.extract) can ship every change"})


def is_target_weight(name: str) -> bool:
    """Whether parameter `name` is the weight of a linear layer an adapter here targets (TARGETS)."""
    return name.endswith(".weight") and name.rsplit(".", 2)[-2] in TARGETS


def freeze_all_but_linear(model) -> int:
    """Leave only the weights of the target linear layers trainable; returns how many parameters still train."""
    trainable = 0
    for name, param in model.named_parameters():
        param.requires_grad = is_target_weight(name)
        trainable += param.numel() if param.requires_grad else 0
    return trainable


def rank_for_budget(shapes: list[tuple[int, int]], max_mb: float = MAX_MB) -> int:
    """The largest rank whose A and B matrices for linear layers of `shapes` (out, in) fit `max_mb` in fp16."""
    per_rank = sum(out + inp for out, inp in shapes) * BYTES_PER_WEIGHT
    rank = int(max_mb * 1e6 // per_rank)
    if rank < 1:
        raise ValueError(f"not even rank 1 fits {max_mb} MB ({per_rank / 1e6:.1f} MB per rank)")
    return rank


def low_rank(delta, rank: int):
    """(A [rank, in], B [out, rank], kept energy) with B @ A the best rank-`rank` approximation of `delta`."""
    import torch

    u, s, vh = torch.linalg.svd(delta.double(), full_matrices=False)
    rank = min(rank, s.numel())
    root = s[:rank].sqrt()
    total = float((s ** 2).sum())
    kept = float((s[:rank] ** 2).sum()) / total if total > 0 else 1.0
    return (root[:, None] * vh[:rank]).float(), (u[:, :rank] * root[None, :]).float(), kept


def _deltas(base_model, tuned_model) -> tuple[dict, dict[str, float]]:
    """({target linear layer name: delta}, {other changed parameter: relative change})."""
    tuned = dict(tuned_model.named_parameters())
    linear, dropped = {}, {}
    for name, w in base_model.named_parameters():
        if name not in tuned or tuned[name].shape != w.shape:
            raise ValueError(f"the fine-tuned model does not match the base at {name}")
        delta = tuned[name].detach().float() - w.detach().float()
        if is_target_weight(name):
            linear[name.rsplit(".", 1)[0]] = delta
        elif float(delta.abs().max()) > 0:
            dropped[name] = round(float(delta.norm() / w.detach().float().norm().clamp_min(1e-12)), 6)
    return linear, dropped


def extract(tuned_dir: str, out: str, base: str = "packaged", rank: int | None = None,
            max_mb: float = MAX_MB) -> Extraction:
    """Write the low-rank extraction of `tuned_dir` (a full fine-tune of `base`) as a LoRA adapter at `out`."""
    import torch
    from peft import LoraConfig, get_peft_model
    from safetensors.torch import load_file, save_file

    from nl2sql.models import load

    base_model = load(base, dtype=torch.float32, device="cpu").model
    linear, dropped = _deltas(base_model, load(tuned_dir, dtype=torch.float32, device="cpu").model)
    rank = rank or rank_for_budget([tuple(d.shape) for d in linear.values()], max_mb)
    config = LoraConfig(r=rank, lora_alpha=rank, lora_dropout=0.0, target_modules=list(TARGETS),
                        task_type="CAUSAL_LM")
    peft_model = get_peft_model(base_model, config)
    modules = dict(peft_model.base_model.model.named_modules())
    energy = kept_energy = 0.0
    with torch.no_grad():
        for layer, delta in linear.items():
            a, b, kept = low_rank(delta, rank)
            module = modules[layer]
            module.lora_A["default"].weight.zero_()[: a.shape[0]].copy_(a)
            module.lora_B["default"].weight.zero_()[:, : b.shape[1]].copy_(b)
            norm = float(delta.double().norm() ** 2)
            energy, kept_energy = energy + norm, kept_energy + kept * norm
    target = Path(out)
    peft_model.save_pretrained(str(target))
    weights = {k: v.to(torch.float16) for k, v in load_file(target / "adapter_model.safetensors").items()}
    save_file(weights, target / "adapter_model.safetensors", metadata={"format": "pt"})
    cfg = json.loads((target / "adapter_config.json").read_text())
    (target / "adapter_config.json").write_text(json.dumps({**cfg, "base_model_name_or_path": base}, indent=2))
    size = (target / "adapter_model.safetensors").stat().st_size / 1e6
    result = Extraction(rank, round(size, 2), round(kept_energy / energy, 6) if energy else 1.0, len(linear), dropped)
    (target / "extraction.json").write_text(json.dumps({"from": tuned_dir, **asdict(result)}, indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.extract", description=__doc__.split("\n\n")[1])
    p.add_argument("--model", required=True, help="the full fine-tune (a checkpoint dir)")
    p.add_argument("--base", default="packaged", help="the model it was fine-tuned from (default: packaged)")
    p.add_argument("--out", required=True, help="the adapter dir to write")
    p.add_argument("--rank", type=int, default=None, help="default: the largest that fits --max-mb")
    p.add_argument("--max-mb", type=float, default=MAX_MB, help="size budget of the weights (fp16)")
    args = p.parse_args(argv)
    try:
        result = extract(args.model, args.out, args.base, args.rank, args.max_mb)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"rank {result.rank}: {result.size_mb} MB, {result.kept:.1%} of the deltas' energy kept; "
          f"not carried: {', '.join(result.dropped) or 'nothing'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
