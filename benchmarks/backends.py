"""python -m benchmarks.backends [--model packaged] [--calls 8] [--agree 200] [--agree-model DIR] [--app 20]
                                [--candidates A,B] [--agree-candidates A,B] [--out FILE]

The generation backends side by side on this machine, each candidate in a fresh process (so its
peak memory is its own): load time, time to first token, decode tokens/s at batch 1 and p50
latency on real Spider dev questions over one schema whose prompt is about 300 tokens, and peak
RSS. Candidates: transformers fp32 (the reference), transformers with int8 dynamic quantisation of
the linear layers, llama.cpp on GGUF F32 / F16 / Q8_0 / Q4_1 exports of the same model.

--agree N also answers the first N Spider dev questions (full compact schemas) with each candidate
and the agree model (default: the shipped adapter, the app's default) and counts how often its SQL
is the same as transformers fp32's: faithfulness. Answers are cached in runs/bench-backends/ so an
interrupted run continues.

--app N runs benchmarks.app (generate_sql through gradio_client, N calls on the ~300-token Spider
schema) on transformers and on llama.cpp, for the base model and for the shipped fine-tuned one.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

CANDIDATES = ("transformers:float32", "transformers:int8", "llama.cpp:f32", "llama.cpp:f16", "llama.cpp:q8_0",
              "llama.cpp:q4_1")
CACHE = Path("runs/bench-backends")


def open_candidate(name: str, spec: str):
    """A Backend for candidate `name` ("engine:variant")."""
    import torch

    from nl2sql.backends import TransformersBackend, open_backend
    from nl2sql.models import load

    engine, variant = name.split(":")
    if engine == "llama.cpp":
        return open_backend(spec, "llama.cpp", quant=variant)
    lm = load(spec, dtype=torch.float32, device="cpu")
    if variant == "int8":
        lm.model = torch.ao.quantization.quantize_dynamic(lm.model, {torch.nn.Linear}, dtype=torch.qint8)
    backend = TransformersBackend(lm)
    backend.precision = "int8 dynamic" if variant == "int8" else backend.precision
    return backend


def workload(tokenizer, data: Path) -> list[str]:
    from benchmarks.generate import pick_workload
    from nl2sql.prompt import build_prompt

    rows = [json.loads(line) for line in data.open()]
    schema, questions = pick_workload(rows, tokenizer)
    return [build_prompt(q, schema, tokenizer) for q in questions]


def speed(name: str, spec: str, calls: int, data: Path) -> dict:
    """One candidate's speed and memory (run in its own process)."""
    start = time.perf_counter()
    lm = open_candidate(name, spec)
    load_s = time.perf_counter() - start
    prompts = workload(lm.tokenizer, data)
    lm.generate(prompts[-1], 8)  # warm-up
    ttft, decode, latency, new = [], [], [], []
    for i in range(calls):
        if hasattr(lm, "llm"):
            lm.llm.reset()  # no KV-cache reuse of the shared schema prefix: every prompt is read in full
        g = [e for e in lm.stream(prompts[i % len(prompts)], 160)][-1]
        first = g.first_token_s
        ttft.append(first)
        latency.append(g.latency_s)
        new.append(g.new_tokens)
        decode.append((g.new_tokens - 1) / max(g.latency_s - first, 1e-9))
    return {"candidate": name, "label": lm.label, "load_s": load_s, "prompt_tokens": g.prompt_tokens,
            "ttft_s": statistics.median(ttft), "decode_tok_s": statistics.median(decode),
            "p50_s": statistics.median(latency), "new_tokens_mean": statistics.mean(new),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def answers(name: str, spec: str, n: int, data: Path) -> list[str]:
    """The SQL of the first n Spider dev questions (cached per candidate and model)."""
    from nl2sql.pipeline import Decoding, Request, answer_batch

    path = CACHE / f"{Path(spec).name}-{name.replace(':', '-')}.jsonl"
    done = [json.loads(x)["sql"] for x in path.open()] if path.is_file() else []
    if len(done) >= n:
        return done[:n]
    rows = [json.loads(line) for line in data.open()][len(done):n]
    lm = open_candidate(name, spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    step = 8 if lm.kind == "transformers" else 1  # fp32 batches answer exactly as batch 1 (tests/test_models.py)
    with path.open("a") as f:
        for i in range(0, len(rows), step):
            chunk = rows[i : i + step]
            for row, a in zip(chunk, answer_batch(lm, [Request(r["question"], r["schema"], run=False) for r in chunk],
                                                  Decoding(batch_size=step))):
                f.write(json.dumps({"id": row["id"], "sql": a.model_sql}) + "\n")
                done.append(a.model_sql)
            f.flush()
    return done


def child(args) -> None:
    out = speed(args.one, args.model, args.calls, args.data) if not args.agree_one else {
        "candidate": args.one, "sql": answers(args.one, args.agree_model, args.agree, args.data)}
    print("RESULT " + json.dumps(out), flush=True)


def run_module(module: str, argv: list[str]) -> dict:
    """Run `python -m module argv` and return the JSON of its `RESULT ` line, or {"error": its last words}."""
    proc = subprocess.run([sys.executable, "-m", module, *argv], capture_output=True, text=True)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(line[len("RESULT "):])


def run_child(argv: list[str]) -> dict:
    return run_module("benchmarks.backends", argv)


def main() -> None:
    from nl2sql.data import SPIDER_DEV, shared_data
    from nl2sql.models import cpu_name, shipped_model

    p = argparse.ArgumentParser()
    p.add_argument("--model", default="packaged", help="model for the speed runs")
    p.add_argument("--calls", type=int, default=8, help="speed runs per candidate (0: agreement only)")
    p.add_argument("--data", type=Path, default=shared_data(SPIDER_DEV))
    p.add_argument("--candidates", default=",".join(CANDIDATES))
    p.add_argument("--agree", type=int, default=0, help="also measure SQL agreement on the first N questions")
    p.add_argument("--agree-model", default=shipped_model() or "packaged")
    p.add_argument("--agree-candidates", help="only these candidates' agreement (default: all)")
    p.add_argument("--app", type=int, default=0, help="also time the app's generate_sql over N calls per backend")
    p.add_argument("--out", type=Path)
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--agree-one", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        return child(args)
    common = ["--model", args.model, "--calls", str(args.calls), "--data", str(args.data),
              "--agree", str(args.agree), "--agree-model", args.agree_model]
    results = {"cpu": cpu_name(), "model": args.model, "runs": []}
    for name in args.candidates.split(","):
        row = {"candidate": name, **(run_child([*common, "--one", name]) if args.calls else {})}
        results["runs"].append(row)
        print(json.dumps(row), flush=True)
    if args.agree:
        ref = run_child([*common, "--one", CANDIDATES[0], "--agree-one"]).get("sql")
        wanted = set((args.agree_candidates or args.candidates).split(","))
        for row in (r for r in results["runs"] if r["candidate"] in wanted):
            other = run_child([*common, "--one", row["candidate"], "--agree-one"])
            if ref and other.get("sql"):
                row["agreement"] = sum(a == b for a, b in zip(ref, other["sql"])) / len(ref)
            print(row["candidate"], row.get("agreement", other.get("error")), flush=True)
        results["agree_model"], results["agree_n"] = args.agree_model, args.agree
    results["app"] = [app_run(backend, role, args.app) for role in ("base", "ft") for backend in
                      ("transformers", "llama.cpp") if args.app]
    print(render(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


def app_run(backend: str, role: str, calls: int) -> dict:
    argv = ["--backend", backend, "--calls", str(calls), "--workload", "spider"] + (["--base-only"] if role == "base"
                                                                                      else [])
    row = {"backend": backend, "role": role, **run_module("benchmarks.app", argv)}
    print(json.dumps(row), flush=True)
    return row


def render_app(rows: list[dict]) -> list[str]:
    lines = ["", "| app generate_sql | model | new tokens/answer | p50 s | p95 s | cold start s | peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for x in rows:
        if "error" in x:
            lines.append(f"| {x['backend']} | {x['role']}: failed: {x['error'][-80:]} ||||||")
            continue
        lines.append(f"| {x['backend']} | {x['model']} | {x['new_tokens_mean']:.0f} | {x['p50_s']:.2f} | "
                     f"{x['p95_s']:.2f} | {x['cold_start_s']:.1f} | {x['peak_rss_mb']:.0f} |")
    return lines


def render(r: dict) -> str:
    base = next((x for x in r["runs"] if x["candidate"] == CANDIDATES[0] and "decode_tok_s" in x), None)
    lines = [f"CPU: {r['cpu']}; speed model: {r['model']}" + (
        f"; agreement: {r['agree_model']} on the first {r['agree_n']} Spider dev questions" if "agree_n" in r else ""),
        "", "| backend | load s | prompt tokens | time to first token s | decode tokens/s | x fp32 | p50 s/call "
            "| peak RSS MB | same SQL as fp32 |", "|---|---|---|---|---|---|---|---|---|"]
    for x in r["runs"]:
        if "error" in x:
            lines.append(f"| {x['candidate']} | unavailable: {x['error'][:80]} |||||||")
            continue
        agree = f"{x['agreement']:.1%}" if "agreement" in x else ""
        if "decode_tok_s" not in x:  # an agreement-only run
            lines.append(f"| {x['candidate']} ||||||||{agree} |")
            continue
        ratio = x["decode_tok_s"] / base["decode_tok_s"] if base else float("nan")
        lines.append(f"| {x['candidate']} | {x['load_s']:.1f} | {x['prompt_tokens']} | {x['ttft_s']:.3f} | "
                     f"{x['decode_tok_s']:.1f} | {ratio:.1f}x | {x['p50_s']:.2f} | {x['peak_rss_mb']:.0f} | {agree} |")
    return "\n".join(lines + (render_app(r["app"]) if r.get("app") else []))


if __name__ == "__main__":
    main()
