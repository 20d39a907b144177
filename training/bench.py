"""python -m training.bench [--model packaged] [--steps 3] [--batch 8] [--out FILE] [--packing]

Training speed on this machine: tokens/s and seconds per optimizer step (batch x 1 micro-step) for
fp32 vs bf16 autocast and full fine-tuning vs LoRA, on real Spider train rows rendered as training
examples (pruned schema, as in the default recipe). bf16 runs only where the hardware supports it,
unless --force-bf16. The loop is the trainer's inner step: forward, loss on completion tokens,
backward, AdamW step.

--packing instead compares shared-prefix packing (training.packing) with plain rows as the relay trains:
LoRA r16, bf16 where supported, the completion-only loss, Spider train rows with linked prompts, micro-batches
of --batch rows arranged by prompt prefix; rows/s and tokens fed per row, each the mean of --steps steps.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import time

import torch

from nl2sql.data import SPIDER_TRAIN, load_rows, shared_data
from nl2sql.models import bf16_supported, cpu_name
from training.sft import DataArguments, base_location, sft_example


def batches(tokenizer, n_batches: int, batch: int, seed: int = 0) -> list[dict]:
    rows = load_rows(str(shared_data(SPIDER_TRAIN)))
    rng = random.Random(seed)
    rng.shuffle(rows)
    args = DataArguments(prune_extra_tables=2)
    out = []
    for i in range(n_batches):
        exs = [sft_example(r, tokenizer, args, rng) for r in rows[i * batch:(i + 1) * batch]]
        ids, labels = [], []
        for e in exs:
            p = tokenizer(e["prompt"], add_special_tokens=False)["input_ids"]
            c = tokenizer(e["completion"], add_special_tokens=False)["input_ids"]
            ids.append(p + c)
            labels.append([-100] * len(p) + c)
        width = max(map(len, ids))
        pad = tokenizer.pad_token_id
        out.append({"input_ids": torch.tensor([x + [pad] * (width - len(x)) for x in ids]),
                    "attention_mask": torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids]),
                    "labels": torch.tensor([x + [-100] * (width - len(x)) for x in labels]),
                    "tokens": sum(map(len, ids))})
    return out


def measure(location: str, data: list[dict], bf16: bool, lora: bool) -> dict:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(location, dtype=torch.float32)
    if lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=32, lora_alpha=64, target_modules="all-linear", task_type="CAUSAL_LM"))
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    times, tokens = [], 0
    for i, b in enumerate(data):
        start = time.perf_counter()
        with autocast:
            loss = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], labels=b["labels"]).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        if i > 0:  # the first step warms up kernels and allocations
            times.append(time.perf_counter() - start)
            tokens += b["tokens"]
    return {"precision": "bf16" if bf16 else "fp32", "method": "LoRA r32" if lora else "full",
            "s_per_step": sum(times) / len(times), "tokens_per_s": tokens / sum(times)}


def packing_batches(tokenizer, n_batches: int, batch: int, seed: int = 0) -> list[list[dict]]:
    """Micro-batches of tokenized linked Spider train rows, arranged as packing arranges them."""
    from training.packing import grouped_order, prefix_key

    rows = load_rows(str(shared_data(SPIDER_TRAIN)))
    rng = random.Random(seed)
    args = DataArguments(link_tables=True)
    exs = [e for e in (sft_example(r, tokenizer, args, rng) for r in rows) if e is not None]
    order = grouped_order([prefix_key(e["prompt"]) for e in exs], batch, seed)
    out = []
    for i in range(n_batches):
        feats = []
        for e in (exs[j] for j in order[i * batch:(i + 1) * batch]):
            p = tokenizer(e["prompt"], add_special_tokens=False)["input_ids"]
            c = tokenizer(e["completion"], add_special_tokens=False)["input_ids"]
            feats.append({"input_ids": p + c, "labels": [-100] * len(p) + c})
        out.append(feats)
    return out


def measure_packing(location: str, data: list[list[dict]], bf16: bool, packed: bool, pad_id: int) -> dict:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from training.packing import PackingCollator
    from training.sft import completion_only_loss

    model = AutoModelForCausalLM.from_pretrained(location, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM"))
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    collate = PackingCollator(pad_id) if packed else None
    times, rows, fed = [], 0, 0
    for i, feats in enumerate(data):
        if packed:
            batch = collate(feats)
        else:
            width = max(len(f["input_ids"]) for f in feats)
            pad = lambda f: [pad_id] * (width - len(f["input_ids"]))  # noqa: E731
            batch = {"input_ids": torch.tensor([f["input_ids"] + pad(f) for f in feats]),
                     "attention_mask": torch.tensor([[1] * len(f["input_ids"]) + [0] * (width - len(f["input_ids"]))
                                                     for f in feats]),
                     "labels": torch.tensor([f["labels"] + [-100] * (width - len(f["labels"])) for f in feats])}
        start = time.perf_counter()
        with autocast:
            loss = completion_only_loss(model, batch)
        loss.backward()
        opt.step()
        opt.zero_grad()
        if i > 0:  # the first step warms up kernels and allocations
            times.append(time.perf_counter() - start)
            rows += len(feats)
            fed += batch["input_ids"].numel()
    return {"packing": packed, "precision": "bf16" if bf16 else "fp32", "s_per_microbatch": sum(times) / len(times),
            "rows_per_s": rows / sum(times), "tokens_fed_per_row": fed / rows}


def packing_main(args, location: str, tok) -> list[dict]:
    data = packing_batches(tok, args.steps + 1, args.batch)
    bf16 = bf16_supported("cpu") or args.force_bf16
    rows = [measure_packing(location, data, bf16, packed, tok.pad_token_id) for packed in (False, True)]
    print(f"CPU: {cpu_name()} ({torch.get_num_threads()} threads); micro-batches of {args.batch} linked Spider "
          f"train rows, LoRA r16, completion-only loss")
    print("| packing | precision | s per micro-batch | rows/s | tokens fed per row |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {'shared prefix' if r['packing'] else 'none'} | {r['precision']} | {r['s_per_microbatch']:.2f} | "
              f"{r['rows_per_s']:.2f} | {r['tokens_fed_per_row']:.0f} |")
    print(f"speed-up: {rows[1]['rows_per_s'] / rows[0]['rows_per_s']:.2f}x rows/s")
    return rows


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="packaged")
    p.add_argument("--steps", type=int, default=3, help="measured steps per setting (plus one warm-up)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--force-bf16", action="store_true")
    p.add_argument("--out")
    p.add_argument("--packing", action="store_true", help="shared-prefix packing vs plain rows (see above)")
    args = p.parse_args()
    from transformers import AutoTokenizer

    location = base_location(args.model)
    tok = AutoTokenizer.from_pretrained(location)
    if args.packing:
        rows = packing_main(args, location, tok)
        if args.out:
            with open(args.out, "w") as f:
                json.dump(rows, f, indent=2)
        return
    data = batches(tok, args.steps + 1, args.batch)
    precisions = [False] + ([True] if bf16_supported("cpu") or args.force_bf16 else [])
    rows = [measure(location, data, bf16, lora) for bf16 in precisions for lora in (False, True)]
    print(f"CPU: {cpu_name()} ({torch.get_num_threads()} threads); batch {args.batch} Spider train rows, "
          f"mean {sum(b['tokens'] for b in data) / len(data) / args.batch:.0f} tokens/row")
    print("| precision | method | s/step | tokens/s |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['precision']} | {r['method']} | {r['s_per_step']:.2f} | {r['tokens_per_s']:.0f} |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
