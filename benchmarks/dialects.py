"""python -m benchmarks.dialects [--predictions FILE] [--dbs all|concert_singer,car_1,...] [--out FILE] [--plain]

Does the model's SQLite SQL give the same answers on PostgreSQL and DuckDB? Copies Spider dev databases
into a throwaway PostgreSQL server and DuckDB files (benchmarks.servers; nothing is kept), then takes
the model's Spider dev answers from an evaluation's predictions.jsonl (default: the shipped model's,
runs/whole-spider) and, for each answer that runs on SQLite (and, apart, each correct one), runs it as
the kit runs it on a database URL (nl2sql.pipeline.run_sql: transpiled by sqlglot, fitted to the database's schema) and compares the
results (eval.metrics.results_match; row order only where the query orders). The gold queries are
measured the same way. Prints a table per database and, last, the totals as JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from benchmarks.servers import TempPostgres, copy_sqlite
from eval.metrics import orders_output, results_match
from nl2sql.pipeline import Request, run_sql

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "spider_dev"
KINDS = ("model", "model_correct", "gold")  # all answers that run on SQLite, the correct ones, the gold queries
DEFAULT_DBS = "concert_singer,pets_1,car_1,world_1,flight_2,student_transcripts_tracking"


def _run(sql: str, db: str):
    try:
        return run_sql(sql, Request("-", db=db, dialect="sqlite"))
    except ValueError as e:
        from nl2sql.sandbox import RunResult

        return RunResult(error=str(e))


def compare(queries: list[str], sqlite_db: str, others: dict[str, str]) -> dict[str, Counter]:
    """{engine: Counter(same/different/fails, examples)} over the queries that run on SQLite."""
    out: dict[str, Counter] = defaultdict(Counter)
    failures: dict[str, list] = defaultdict(list)
    for sql in queries:
        base = _run(sql, sqlite_db)
        if not base.ok:
            continue
        ordered = orders_output(sql)
        for engine, url in others.items():
            got = _run(sql, url)
            kind = "same" if results_match(got, base, ordered) else ("fails" if not got.ok else "different")
            out[engine][kind] += 1
            if kind != "same":
                failures[engine].append((kind, sql, got.error or f"{len(got.rows)} rows vs {len(base.rows)}"))
    return {e: {"counts": dict(c), "failures": failures[e]} for e, c in out.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--predictions", default="runs/whole-spider/predictions.jsonl")
    p.add_argument("--dbs", default=DEFAULT_DBS, help="comma-separated Spider dev databases, or 'all'")
    p.add_argument("--out", help="write the full result (with every failing query) as JSON here")
    p.add_argument("--plain", action="store_true",
                   help="sqlglot's transpile alone, without fitting the SQL to the schema (the 'before')")
    args = p.parse_args(argv)
    if args.plain:
        import nl2sql.fit

        nl2sql.fit.fit_to_schema = lambda tree, schema, respell=True: tree
    rows = {r["id"]: r for r in map(json.loads, (SHARED / "spider_dev.jsonl").open())}
    preds = [json.loads(line) for line in open(args.predictions)]
    names = sorted({r["db_id"] for r in rows.values()}) if args.dbs == "all" else args.dbs.split(",")
    result, totals = {}, {kind: Counter() for kind in KINDS}
    start = time.perf_counter()
    with TempPostgres() as pg, tempfile.TemporaryDirectory() as tmp:
        for name in names:
            sqlite_db = str(SHARED / "dbs" / f"{name}.sqlite")
            pg_url = pg.create_database(name.lower())
            copy_sqlite(sqlite_db, pg_url)
            duck_url = f"duckdb:///{tmp}/{name}.duckdb"
            copy_sqlite(sqlite_db, duck_url)
            others = {"postgres": pg_url, "duckdb": duck_url}
            ids = [i for i, r in rows.items() if r["db_id"] == name]
            mine = [p for p in preds if p["id"] in set(ids) and p.get("executes")]
            gold = [rows[i]["sql"] if isinstance(rows[i]["sql"], str) else rows[i]["sql"][0] for i in ids]
            result[name] = {kind: compare(queries, sqlite_db, others) for kind, queries in (
                ("model", [p["predicted"] for p in mine]),
                ("model_correct", [p["predicted"] for p in mine if p.get("execution_match")]), ("gold", gold))}
            for kind in KINDS:
                for engine, r in result[name][kind].items():
                    c = r["counts"]
                    totals[kind][f"{engine}_same"] += c.get("same", 0)
                    totals[kind][f"{engine}_n"] += sum(c.values())
                    print(f"{name:30} {kind:13} {engine:8} same {c.get('same', 0):4} of {sum(c.values()):4}"
                          f"  fails {c.get('fails', 0):3}  different {c.get('different', 0):3}", flush=True)
    summary = {kind: {e: {"same": t[f"{e}_same"], "of": t[f"{e}_n"],
                          "share": round(t[f"{e}_same"] / max(1, t[f"{e}_n"]), 4)} for e in ("postgres", "duckdb")}
               for kind, t in totals.items()}
    summary.update(plain=args.plain, databases=names, seconds=round(time.perf_counter() - start, 1),
                   predictions=args.predictions)
    if args.out:
        Path(args.out).write_text(json.dumps({"summary": summary, "databases": result}, indent=1, default=str))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
