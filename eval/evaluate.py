"""python -m eval.evaluate --model packaged [--model DIR ...] --data SOURCE [--limit N] [--backend auto]
                          [--candidates 1] [--votes 1] [--no-constrain] [--no-link] [--no-values] [--infer-keys]
                          [--drop-keys] [--batch_size B] [--workers N] [--judge] [--match spider|defog]
                          --out DIR

Scores each model on a data source (see nl2sql.data: synthetic:test, a canonical JSONL such as
../shared/data/spider_dev/spider_dev.jsonl, or gretelai/synthetic_text_to_sql by name): parses,
grounded, executes, execution accuracy, exact match, optionally an LLM judge, overall and per
category. Execution match follows a rule set (eval.metrics.RULES): a row's own "match" field, else
--match, else Spider's rules for Spider and synthetic rows and defog's for any other data (a user's own
rows are judged by their answers, not the query's form). Predictions come from nl2sql.pipeline (the path the app uses) and are appended to
DIR/predictions.jsonl as they are made, so an interrupted run continues where it stopped. Writes
DIR/summary.json, DIR/report.md and PNG plots.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from eval import metrics
from eval.judge import JudgeUnavailable
from eval.metrics import ExampleResult
from nl2sql.backends import NAMES as BACKENDS, BackendUnavailable
from nl2sql.data import DataError, golds, load_rows
from nl2sql.models import ModelSpecError
from nl2sql.flags import add_decoding_flags
from nl2sql.joins import strip_foreign_keys
from nl2sql.pipeline import Answer, Decoding, Request, answer_batch, run_sql
from nl2sql.sandbox import RunResult
from nl2sql.schema import SchemaError

# what predictions made before these fields were recorded used
_UNRECORDED = {"backend": "transformers", "candidates": 1, "constrain": False, "link": False, "votes": 1,
               "infer_keys": False, "drop_keys": False, "follow_keys": False,
               "mend_literals": False,
               "values": False}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m eval.evaluate", description="Evaluate text-to-SQL models.")
    p.add_argument("--model", action="append", required=True, help="model spec; repeat to compare models")
    p.add_argument("--data", required=True, help="synthetic:test, a .jsonl/.csv/.parquet file, or a hub data set")
    p.add_argument("--split", default="test", help="split for hub/synthetic sources")
    p.add_argument("--limit", type=int, help="first N rows only")
    p.add_argument("--backend", default="auto", choices=BACKENDS,
                   help="generation engine (auto: llama.cpp on a CPU when installed, else transformers)")
    add_decoding_flags(p)
    p.add_argument("--batch_size", "--batch-size", dest="batch_size", type=int, default=8)
    p.add_argument("--workers", type=int, default=1,
                   help="batches answered at once, for a remote server (--backend remote) that serves requests "
                        "concurrently; predictions keep the rows' order (default: %(default)s)")
    p.add_argument("--drop-keys", "--drop_keys", dest="drop_keys", action="store_true",
                   help="remove every declared foreign key from the rows' schemas first (nl2sql.joins."
                        "strip_foreign_keys): how the model does on databases that declare none")
    p.add_argument("--judge", action="store_true", help="also grade with an LLM judge (see eval/judge.py)")
    p.add_argument("--match", choices=sorted(metrics.RULES),
                   help="execution-match rules for rows that name none (default: spider for Spider and synthetic "
                        "rows, defog for other data)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic source")
    return p.parse_args(argv)


def without_keys(row: dict) -> dict:
    """The row with every declared foreign key removed from its schema (a schema that does not parse is
    left as it is: its row fails where it would have)."""
    if not row.get("schema"):
        return row
    try:
        return dict(row, schema=strip_foreign_keys(row["schema"]))
    except SchemaError:
        return row


def match_rules(row: dict, chosen: str | None = None) -> str:
    """The rule set that scores a row: its own "match" field, else the run's choice, else Spider's for
    benchmark rows (Spider, Spider-Syn, the synthetic set: figures comparable with earlier ones) and
    defog's for anything else (a user's own rows). Pure."""
    if row.get("match"):
        return row["match"]
    if chosen:
        return chosen
    benchmark = str(row.get("id", "")).startswith("spider-") or str(row.get("id", "")).isdigit()
    return "spider" if benchmark else "defog"


def request(row: dict) -> Request:
    """The pipeline request for a data row: run on its data (a SQLite file, or a database URL where the
    SQL runs transpiled from the row's dialect), with table snapshots to compare DML by."""
    return Request(row["question"], row.get("schema"), row.get("dialect") or "sqlite", run=True, db=row.get("db"),
                   context=row.get("context"), snapshot=True)


def gold_results(row: dict) -> list[RunResult | None]:
    """Each gold query run where the pipeline runs the prediction (nl2sql.pipeline.run_sql); None without data."""
    if not (row.get("db") or row.get("schema")):
        return [None for _ in golds(row)]
    try:
        return [run_sql(g, request(row)) for g in golds(row)]
    except (SchemaError, ValueError):
        return [None for _ in golds(row)]


def score(answer: Answer, row: dict, model: str, gold_results: list[RunResult | None], share_s: float,
          rules: str = "spider") -> ExampleResult:
    """Compare one Answer (already grounded and run by the pipeline) with its row's gold by `rules`. Pure."""
    wanted = golds(row)
    pred = answer.model_sql
    res = ExampleResult(id=row["id"], model=model, question=row["question"], gold=wanted[0], predicted=pred,
                        category=row.get("category") or metrics.sql_category(wanted[0]), raw=answer.generation.text,
                        latency_s=answer.generation.latency_s, prompt_tokens=answer.generation.prompt_tokens,
                        new_tokens=answer.generation.new_tokens, extra={"seconds_share": share_s, "match": rules})
    res.parses = answer.validation.ok
    if answer.requalified:
        res.extra["requalified"] = answer.requalified
    if answer.literals:
        res.extra["literals"] = answer.literals
    res.exact_match = res.parses and metrics.exact_match(pred, wanted)
    if not res.parses:
        res.error = "; ".join(str(e) for e in answer.validation.errors) or "no SQL in the output"
        res.executes = False if any(g is not None for g in gold_results) else None
        res.execution_match = res.executes
        res.grounded = False if row.get("schema") else None
        return res
    res.grounded = not answer.unknown if row.get("schema") else None
    pred_result = answer.result
    if pred_result is None or all(g is None for g in gold_results):
        return res
    res.executes = pred_result.ok
    res.error = pred_result.error
    ordered = metrics.order_matters(rules, wanted, row["question"], row.get("category"))
    res.execution_match = any(g is not None and metrics.results_match(pred_result, g, ordered, rules)
                              for g in gold_results)
    return res


def error_result(row: dict, model: str, error: BaseException, rules: str) -> ExampleResult:
    """A row whose prediction or scoring raised: recorded as wrong, with the exception's message."""
    wanted = golds(row)
    return ExampleResult(id=row["id"], model=model, question=row["question"], gold=wanted[0], predicted="",
                         category=row.get("category") or metrics.sql_category(wanted[0]),
                         executes=False, execution_match=False,
                         error=f"evaluation error: {type(error).__name__}: {error}", extra={"match": rules})


def answer_rows(lm, chunk: list[dict], decoding: Decoding) -> list[Answer | BaseException]:
    """Answers for a batch of rows; when the batch raises, each row alone, so one bad row costs only itself."""
    try:
        return answer_batch(lm, [request(r) for r in chunk], decoding)
    except Exception:  # noqa: BLE001 - retried row by row below, where the culprit is recorded
        pass
    out = []
    for row in chunk:
        try:
            out.append(answer_batch(lm, [request(row)], decoding)[0])
        except Exception as e:  # noqa: BLE001 - any failure of one row becomes that row's error, the run goes on
            out.append(e)
    return out


def scored(ans: Answer | BaseException, row: dict, spec: str, share: float, rules: str) -> ExampleResult:
    """score() for one answered row, or an error row when the answer or the gold's run raised."""
    if isinstance(ans, BaseException):
        return error_result(row, spec, ans, rules)
    try:
        return score(ans, row, spec, gold_results(row), share, rules)
    except Exception as e:  # noqa: BLE001 - a gold or comparison that raises is that row's error, the run goes on
        return error_result(row, spec, e, rules)


def _done(path: Path) -> dict[tuple[str, str], dict]:
    done = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                done[(item["model"], item["id"])] = item
    return done


def _from_dict(d: dict) -> ExampleResult:
    return ExampleResult(**d)


def run_setting(lm, args) -> dict:
    """How a run answers: recorded with every prediction, so a resumed run cannot mix settings."""
    return {"backend": lm.kind, "candidates": args.candidates, "constrain": args.constrain and lm.can_constrain,
            "link": args.link, "votes": args.votes, "values": args.values, "infer_keys": args.infer_keys,
            "follow_keys": args.follow_keys and args.constrain and lm.can_constrain,
            "mend_literals": args.mend_literals, "drop_keys": args.drop_keys}


def check_setting(done: dict, spec: str, setting: dict, out_file: Path) -> None:
    """ModelSpecError when out_file holds predictions of `spec` made another way."""
    for key, value in setting.items():
        before = {d["extra"].get(key, _UNRECORDED[key]) for (m, _), d in done.items() if m == spec}
        if before - {value}:
            old = before.pop()
            flag = (f"--{'' if old else 'no-'}{key}" if isinstance(old, bool) else f"--{key} {old}")
            raise ModelSpecError(f"{out_file} holds predictions of {spec} made with {key} {old}, "
                                 f"not {value}: pass {flag} or a new --out")


def display_name(lm, setting: dict) -> str:
    """The model and how it answered, for reports."""
    parts = [(setting["constrain"], "schema-constrained"), (setting["link"], "schema linking"),
             (setting["values"], "value hints"), (setting["infer_keys"], "inferred keys"),
             (setting["follow_keys"], "joins along keys"), (setting["mend_literals"], "literals mended"),
             (setting["votes"] > 1, f"voting of {setting['votes']}"),
             (setting["candidates"] > 1, f"execution-guided selection of {setting['candidates']}")]
    return lm.label + "".join(f" + {text}" for on, text in parts if on) \
        + (" (schemas without foreign keys)" if setting["drop_keys"] else "")


def answered(lm, todo: list[dict], decoding: Decoding, batch_size: int, workers: int = 1):
    """(rows, their answers or exceptions, seconds per row) batch by batch, in the rows' order; `workers`
    batches at once (a remote server answers them concurrently; order is kept all the same)."""
    chunks = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]

    def one(chunk):
        start = time.perf_counter()
        answers = answer_rows(lm, chunk, decoding)
        return chunk, answers, (time.perf_counter() - start) / len(chunk)

    if workers <= 1:
        yield from map(one, chunks)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        yield from pool.map(one, chunks)


def predict(spec: str, rows: list[dict], args, out_file: Path, judge=None) -> tuple[str, list[ExampleResult]]:
    """Predict + score the rows not yet in out_file for model `spec`; (display name, all its results)."""
    from nl2sql.backends import open_backend

    done = _done(out_file)
    todo = [r for r in rows if (spec, r["id"]) not in done]
    name = next((d["extra"].get("model_name") for (m, _), d in done.items() if m == spec), None)
    if todo:
        lm = open_backend(spec, args.backend)
        if args.workers > 1 and lm.kind != "remote":
            raise ModelSpecError(f"--workers {args.workers} is for a remote server (--backend remote): the "
                                 f"{lm.kind} backend answers one request at a time")
        setting = run_setting(lm, args)
        check_setting(done, spec, setting, out_file)
        name = display_name(lm, setting)
        bar = tqdm(total=len(rows), initial=len(rows) - len(todo), desc=f"eval {name[:40]}", unit="ex")
        with out_file.open("a") as f:
            for chunk, answers, share in answered(lm, todo, Decoding.from_args(args), args.batch_size, args.workers):
                for ans, row in zip(answers, chunk):
                    res = scored(ans, row, spec, share, match_rules(row, args.match))
                    res.extra.update(setting, model_name=name, **(answer_details(ans) if isinstance(ans, Answer) else {}))
                    if judge is not None:
                        res.judge = judge.judge(row["question"], row.get("schema"), res.gold, res.predicted).to_dict()
                    f.write(json.dumps(res.to_dict(), default=str) + "\n")
                    f.flush()
                bar.update(len(chunk))
        bar.close()
    ids = {r["id"] for r in rows}
    results = [_from_dict(d) for (m, i), d in _done(out_file).items() if m == spec and i in ids]
    return name or spec, results


def answer_details(ans: Answer) -> dict:
    """What a prediction record keeps of how its answer was made."""
    return {"candidates_tried": ans.candidates_tried, "constrained": ans.constrained,
            "votes_agreed": ans.votes[0] if ans.votes else None,
            "tables_shown": ans.linking.tables if ans.linking else None,
            "values_shown": [f"{h.table}.{h.column}={h.value}" for h in ans.linking.values] if ans.linking else None}


def summarize_model(name: str, spec: str, results: list[ExampleResult]) -> dict:
    seconds = sum(r.extra.get("seconds_share", 0.0) for r in results)
    rules = Counter(r.extra.get("match", "spider") for r in results)
    return {"name": name, "spec": spec, "match": dict(sorted(rules.items())),
            "errors": sum(1 for r in results if (r.error or "").startswith("evaluation error")),
            "overall": metrics.summarize(results, seconds), "by_category": metrics.by_category(results)}


def _make_judge(args):
    if not args.judge:
        return None
    from eval.judge import Judge, make_client

    client, model, provider = make_client()
    print(f"judge: {model} via {provider}", file=sys.stderr)
    return Judge(client, model, cache_path=args.out / "judge_cache.jsonl")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        rows = load_rows(args.data, split=args.split, limit=args.limit, seed=args.seed)
        if not rows:
            raise DataError(f"{args.data}: no rows")
        if args.drop_keys:
            rows = [without_keys(r) for r in rows]
        args.out.mkdir(parents=True, exist_ok=True)
        judge = _make_judge(args)
    except (DataError, JudgeUnavailable, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out_file = args.out / "predictions.jsonl"
    models = []
    for spec in args.model:
        try:
            name, results = predict(spec, rows, args, out_file, judge)
        except (ModelSpecError, BackendUnavailable) as e:
            print(f"error: cannot load model: {e}", file=sys.stderr)
            return 3
        models.append(summarize_model(name, spec, results))
    summary = {"data": args.data, "n": len(rows), "models": models}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    from eval.report import write_report

    write_report(args.out, summary, [_from_dict(d) for d in _done(out_file).values()])
    if judge is not None:
        print(f"judge usage: {judge.usage}", file=sys.stderr)
    print(f"wrote {args.out}/summary.json, report.md and plots", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
