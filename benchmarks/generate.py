"""python -m benchmarks.generate [--model packaged] [--runs 16] [--data ../shared/data/spider_dev/spider_dev.jsonl]

Generation speed of a model on this machine: load time (cold = converting the packaged GGUF into a
fresh cache, warm = from the cache), prompt tokens (DDL as written vs the compact rendering), and
for batch 1 and batch 8, fp32 and bf16: new tokens/s and p50/p95 latency per call, on real Spider
dev questions over one schema whose prompt is about 300 tokens. bf16 is measured only where the
hardware supports it (nl2sql.models.bf16_supported), unless --force-bf16.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path

import torch

from nl2sql.backends.hf import generate_batch
from nl2sql.data import SPIDER_DEV, shared_data
from nl2sql.models import bf16_supported, cpu_name, load, timed_load
from nl2sql.prompt import build_prompt
from nl2sql.schema import split_ddl

DEFAULT_DATA = shared_data(SPIDER_DEV)


def pick_workload(rows: list[dict], tokenizer, target: int = 300) -> tuple[str, list[str]]:
    """The schema whose prompt is closest to `target` tokens, and its questions."""
    by_db = defaultdict(list)
    for r in rows:
        by_db[r["schema"]].append(r["question"])
    size = lambda s: len(tokenizer(build_prompt(by_db[s][0], s, tokenizer))["input_ids"])  # noqa: E731
    schema = min((s for s in by_db if len(by_db[s]) >= 8), key=lambda s: abs(size(s) - target))
    return schema, by_db[schema]


def token_costs(rows: list[dict], tokenizer) -> dict:
    count = lambda text: len(tokenizer(text)["input_ids"])  # noqa: E731
    ddl = [count(split_ddl(r["schema"])[0]) for r in rows]
    prompt = [count(build_prompt(r["question"], r["schema"], tokenizer)) for r in rows]
    return {"ddl_tokens_mean": statistics.mean(ddl), "prompt_tokens_mean": statistics.mean(prompt)}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def measure(lm, prompts: list[str], batch: int, runs: int) -> dict:
    generate_batch(lm, prompts[:batch], batch_size=batch)  # warm-up
    latencies, tokens, elapsed = [], 0, 0.0
    for i in range(runs):
        chunk = [prompts[(i * batch + j) % len(prompts)] for j in range(batch)]
        gens = generate_batch(lm, chunk, batch_size=batch)
        latencies.append(gens[0].latency_s)
        tokens += sum(g.new_tokens for g in gens)
        elapsed += gens[0].latency_s
    return {"batch": batch, "calls": runs, "new_tokens_per_s": tokens / elapsed,
            "p50_s": pct(latencies, 0.5), "p95_s": pct(latencies, 0.95),
            "prompt_tokens": gens[0].prompt_tokens}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="packaged")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--runs", type=int, default=16, help="calls per (dtype, batch) setting")
    p.add_argument("--force-bf16", action="store_true")
    p.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = p.parse_args()
    torch.manual_seed(0)
    results = {"cpu": cpu_name(), "threads": torch.get_num_threads(), "bf16_supported": bf16_supported("cpu")}
    if args.model == "packaged":
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["NL2SQL_CACHE"] = tmp
            results["cold_load_s"] = timed_load("packaged", dtype=torch.float32, device="cpu")[1]
            os.environ.pop("NL2SQL_CACHE")
    lm, results["warm_load_s"] = timed_load(args.model, dtype=torch.float32, device="cpu")
    rows = [json.loads(line) for line in args.data.open()]
    results["tokens"] = token_costs(rows, lm.tokenizer)
    schema, questions = pick_workload(rows, lm.tokenizer)
    prompts = [build_prompt(q, schema, lm.tokenizer) for q in questions]
    dtypes = ["float32"] + (["bfloat16"] if results["bf16_supported"] or args.force_bf16 else [])
    results["runs"] = []
    for dtype in dtypes:
        model = lm if dtype == "float32" else load(args.model, dtype=dtype, device="cpu")
        for batch in (1, 8):
            calls = args.runs if batch == 1 else max(2, args.runs // 4)
            row = {"dtype": dtype, **measure(model, prompts, batch, calls)}
            results["runs"].append(row)
            print(json.dumps(row), flush=True)
    print(render(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


def render(r: dict) -> str:
    lines = [f"CPU: {r['cpu']} ({r['threads']} threads), bf16 supported: {r['bf16_supported']}",
             f"load: cold {r.get('cold_load_s', float('nan')):.1f} s (GGUF -> safetensors), warm {r['warm_load_s']:.1f} s",
             f"tokens per Spider dev schema: DDL as written {r['tokens']['ddl_tokens_mean']:.0f}, "
             f"full compact prompt {r['tokens']['prompt_tokens_mean']:.0f}", "",
             "| dtype | batch | prompt tokens | new tokens/s | p50 s/call | p95 s/call |", "|---|---|---|---|---|---|"]
    for x in r["runs"]:
        lines.append(f"| {x['dtype']} | {x['batch']} | {x['prompt_tokens']} | {x['new_tokens_per_s']:.1f} | "
                     f"{x['p50_s']:.2f} | {x['p95_s']:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
