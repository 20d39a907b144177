"""Score stored predictions again with today's post-processing, without generating anything.

    python -m eval.rescore --predictions models/.../eval/spider-dev-full-relay-step1250/predictions.jsonl \
        --data ../shared/data/spider_dev/spider_dev.jsonl [--limit N] [--match spider|defog] [--out DIR]

Each stored answer's raw model text goes through nl2sql.pipeline.finish again (validate, requalify, ground,
run) and is scored as eval.evaluate scores it, so a change after generation (such as sql.requalify) is
measured on the very generations that were scored before; --match scores them by another rule set
(eval.metrics.RULES), to see what the rules alone change. Only greedy, single-candidate runs are rescored:
with sampling or voting the stored answer is one of several and the others were not kept.
Prints the execution accuracy before and after and the answers that changed; --out writes the rescored
predictions, summary.json and report.md as eval.evaluate does.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from eval.evaluate import _from_dict, gold_results, match_rules, request, score, summarize_model
from eval.metrics import RULES
from eval.metrics import ExampleResult
from nl2sql.backends.base import Generation
from nl2sql.data import DataError, load_rows
from nl2sql.pipeline import Prepared, finish, read_schema_of
from nl2sql.schema import SchemaError
from nl2sql.sql import extract


@dataclass(frozen=True)
class Named:
    """What finish needs of a backend: its display name."""

    name: str


@dataclass
class Rescored:
    before: ExampleResult
    after: ExampleResult

    @property
    def changed(self) -> bool:
        return self.before.predicted != self.after.predicted


def rescore_one(stored: dict, row: dict, rules: str | None = None) -> Rescored:
    """One stored prediction, finished again from its raw text and scored against its row. Pure but for running SQL."""
    before = _from_dict(stored)
    text = stored.get("raw") or ""
    gen = Generation(extract(text), text, stored.get("prompt_tokens") or 0, stored.get("new_tokens") or 0,
                     stored.get("latency_s") or 0.0, backend=stored["extra"].get("backend", ""))
    req = request(row)
    try:
        schema = read_schema_of(req)
    except (SchemaError, ValueError):
        schema = None
    p = Prepared(req, schema, "", None)
    ans = finish(Named(stored["extra"].get("model_name", stored["model"])), p, gen,
                 constrained=bool(stored["extra"].get("constrained")))
    after = score(ans, row, stored["model"], gold_results(row), stored["extra"].get("seconds_share", 0.0),
                  match_rules(row, rules))
    after.extra = {**stored["extra"], **after.extra}
    return Rescored(before, after)


def _rate(results: list[ExampleResult]) -> float:
    return 100.0 * sum(bool(r.execution_match) for r in results) / max(len(results), 1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval.rescore", description=__doc__.split("\n\n")[0])
    p.add_argument("--predictions", type=Path, required=True, help="a predictions.jsonl written by eval.evaluate")
    p.add_argument("--data", required=True, help="the data the predictions answer (as eval.evaluate's --data)")
    p.add_argument("--limit", type=int, help="first N rows only")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic source")
    p.add_argument("--match", choices=sorted(RULES), help="execution-match rules (default: as eval.evaluate's)")
    p.add_argument("--out", type=Path, help="write the rescored predictions, summary.json and report.md here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        rows = {r["id"]: r for r in load_rows(args.data, split="test", limit=args.limit, seed=args.seed)}
        stored = [json.loads(line) for line in args.predictions.read_text().splitlines() if line.strip()]
    except (DataError, OSError, json.JSONDecodeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    sampled = [s for s in stored if s["extra"].get("candidates", 1) > 1 or s["extra"].get("votes", 1) > 1]
    if sampled:
        print(f"error: {args.predictions} holds answers chosen among sampled candidates or by votes; only greedy "
              "runs can be rescored", file=sys.stderr)
        return 2
    stored = [s for s in stored if s["id"] in rows]
    if not stored:
        print(f"error: no prediction in {args.predictions} answers a row of {args.data}", file=sys.stderr)
        return 2
    done = [rescore_one(s, rows[s["id"]], args.match) for s in tqdm(stored, desc="rescore", unit="ex")]
    for model in dict.fromkeys(s["model"] for s in stored):
        mine = [d for d in done if d.before.model == model]
        changed = [d for d in mine if d.changed]
        gained = sum(bool(d.after.execution_match) and not d.before.execution_match for d in changed)
        lost = sum(bool(d.before.execution_match) and not d.after.execution_match for d in changed)
        print(f"{model}: {len(mine)} answers, execution accuracy {_rate([d.before for d in mine]):.1f}% -> "
              f"{_rate([d.after for d in mine]):.1f}%; {len(changed)} changed, {gained} gained, {lost} lost")
        for d in changed:
            mark = "+" if d.after.execution_match and not d.before.execution_match else \
                "-" if d.before.execution_match and not d.after.execution_match else "="
            print(f"  {mark} {d.before.id}: {d.before.predicted}\n      -> {d.after.predicted}")
    if args.out:
        from eval.report import write_report

        args.out.mkdir(parents=True, exist_ok=True)
        after = [d.after for d in done]
        (args.out / "predictions.jsonl").write_text("".join(json.dumps(r.to_dict(), default=str) + "\n" for r in after))
        models = [summarize_model(next(r.extra.get("model_name", m) for r in after if r.model == m), m,
                                  [r for r in after if r.model == m]) for m in dict.fromkeys(r.model for r in after)]
        summary = {"data": args.data, "n": len(rows), "models": models, "rescored_from": str(args.predictions)}
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
        write_report(args.out, summary, after)
        print(f"wrote {args.out}/summary.json, report.md and plots", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
