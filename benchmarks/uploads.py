"""python -m benchmarks.uploads [--mb 20] [--repeat 3] [--tables 2000] [--kind named] [--questions 5] [--model M]

Where should an uploaded CSV live: the SQLite file the app makes now (nl2sql.service.load_upload, run by
the sandbox) or an in-memory DuckDB (read_csv_auto)? Makes a CSV of about --mb MB (sales rows: date,
region, product, quantity, price), loads it both ways, and times three typical questions' SQL on each
(a grouped sum, a distinct count, a top-10): the mean of --repeat runs. The last line is JSON.

--tables N instead: a SQLite file of N tables (`make_wide_db`: --kind named, 40 business areas x 50 kinds
of record whose words many tables share; or numbered, t1 ... tN), three rows each, uploaded through the
app's own handler (app.App.use_upload: the schema box gets a summary), then --questions questions asked
through App.generate_sql with the app's model (--model, default the shipped one, on the backend the app
picks), each timed from the call to the final answer; the table says how many tables linking showed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

QUERIES = {
    "grouped sum": "SELECT region, SUM(quantity * price) AS revenue FROM sales GROUP BY region ORDER BY revenue DESC",
    "distinct count": "SELECT COUNT(DISTINCT product) FROM sales WHERE quantity > 5",
    "top 10": "SELECT product, price FROM sales ORDER BY price DESC LIMIT 10",
}


def make_csv(path: Path, mb: float, seed: int = 0) -> int:
    rng = random.Random(seed)
    regions = ["north", "south", "east", "west", "central"]
    rows = 0
    with path.open("w") as f:
        f.write("day,region,product,quantity,price\n")
        while f.tell() < mb * 1_000_000:
            f.write(f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},{rng.choice(regions)},"
                    f"product {rng.randint(1, 5000)},{rng.randint(1, 20)},{rng.uniform(1, 500):.2f}\n")
            rows += 1
    return rows


AREAS = ["sales", "billing", "shipping", "warehouse", "support", "marketing", "payroll", "hr", "legal", "audit",
         "fleet", "clinic", "pharmacy", "school", "library", "hotel", "airline", "bank", "insurance", "energy",
         "farm", "factory", "retail", "museum", "stadium", "theater", "garden", "kitchen", "parking", "security",
         "research", "lab", "studio", "forest", "harbor", "railway", "mining", "telecom", "water", "waste"]
RECORDS = ["customers", "orders", "invoices", "payments", "shipments", "products", "suppliers", "employees",
           "contracts", "tickets", "visits", "bookings", "vehicles", "drivers", "routes", "inspections", "incidents",
           "assets", "licenses", "meetings", "projects", "tasks", "budgets", "grants", "patients", "doctors",
           "students", "courses", "books", "loans", "rooms", "guests", "flights", "passengers", "accounts",
           "claims", "policies", "meters", "readings", "crops", "machines", "batches", "stores", "exhibits",
           "events", "seats", "plants", "recipes", "permits", "alarms"]
STATUSES = ["open", "closed", "late", "pending"]


def make_wide_db(path: Path, tables: int = 2000, kind: str = "named", seed: int = 0) -> list[str]:
    """A SQLite file of `tables` tables, three rows each, each with id, name, status, amount, created_on:
    named area_record ("named": words shared by many tables, and a key to another table of the area) or
    t1, t2, ... ("numbered"); returns the table names."""
    import sqlite3

    rng = random.Random(seed)
    names = ([f"{a}_{r}" for a in AREAS for r in RECORDS] if kind == "named" else
             [f"t{i}" for i in range(1, tables + 1)])[:tables]
    conn = sqlite3.connect(path)
    for name in names:
        area, _, record = name.rpartition("_")
        other = f"{area}_{rng.choice([r for r in RECORDS if r != record])}"
        ref = f", {other}_id INTEGER REFERENCES {other}(id)" if other in names else ""
        conn.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, name TEXT, status TEXT, amount REAL, "
                     f"created_on TEXT{ref})")
        conn.executemany(f"INSERT INTO {name} (id, name, status, amount, created_on) VALUES (?, ?, ?, ?, ?)",
                         [(i, f"{record.rstrip('s')} {i}", rng.choice(STATUSES), round(rng.uniform(1, 900), 2),
                           f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}") for i in (1, 2, 3)])
    conn.commit()
    conn.close()
    return names


WIDE_QUESTIONS = {"named": ["How many shipping shipments are late?", "What is the total amount of billing invoices?",
                            "List the names of hotel guests.", "Which warehouse products have status open?",
                            "What is the average amount of bank loans?"],
                  "numbered": ["How many rows does t42 have?", "What is the total amount in t1999?",
                               "List the names in t7.", "Which rows of t512 have status late?",
                               "What is the average amount in t1000?"]}


def wide(tables: int, kind: str, questions: int, model: str | None) -> dict:
    """Upload a `tables`-table SQLite file through the app's handlers and time questions about it."""
    from dataclasses import replace

    import app
    from nl2sql.models import cpu_name
    from nl2sql.sandbox import read_schema
    from nl2sql.service import is_summary

    config = app.ServiceConfig.from_env()
    ui = app.App(replace(config, ft_model=model or config.ft_model))
    lm = ui.pool.get("ft" if ui.config.ft_model else "base")  # loaded before the clock starts
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "wide.sqlite"
        make_wide_db(db, tables, kind)
        start = time.perf_counter()
        box, db_path, message = ui.use_upload([str(db)])
        load_s, times, answers = time.perf_counter() - start, [], []
        for i in range(questions):
            question = WIDE_QUESTIONS[kind][i % len(WIDE_QUESTIONS[kind])]
            start = time.perf_counter()
            try:
                *_, (sql, verdict) = ui.generate_sql(question, box, "sqlite", db_path)
            except app.gr.Error as e:  # e.g. a prompt past the model's context: say so in the table
                sql, verdict = "", f"refused: {e}"
            times.append(time.perf_counter() - start)
            shown = re.search(r"shown (\d+) of", verdict)
            gen = re.search(r"(\d+) tokens in ([\d.]+) s", verdict)
            answers.append({"question": question, "sql": sql, "verdict": verdict.splitlines()[0],
                            "tables_shown": int(shown.group(1)) if shown else tables, "total_s": round(times[-1], 2),
                            "generation_s": float(gen.group(2)) if gen else None})
        chars = len(read_schema(db_path))
    return {"cpu": cpu_name(), "tables": tables, "kind": kind, "schema_chars": chars, "box_chars": len(box),
            "box_is_summary": is_summary(box), "model": lm.name, "backend": lm.kind, "load_s": round(load_s, 2),
            "first_s": round(times[0], 2), "p50_s": round(statistics.median(times), 2),
            "max_s": round(max(times), 2), "answers": answers}


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.mean(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mb", type=float, default=20)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--tables", type=int, default=0, help="instead: a SQLite upload of this many tables")
    p.add_argument("--kind", choices=("named", "numbered"), default="named", help="with --tables: table names")
    p.add_argument("--questions", type=int, default=5)
    p.add_argument("--model", default=None, help="with --tables: the app's model (default: the shipped one)")
    args = p.parse_args(argv)
    if args.tables:
        out = wide(args.tables, args.kind, args.questions, args.model)
        print(f"{out['tables']:,} {args.kind} tables ({out['schema_chars']:,} characters of schema; the box shows "
              f"{out['box_chars']:,}), {out['model']} ({out['backend']}), {out['cpu']}")
        print(f"load {out['load_s']} s; questions: first {out['first_s']} s, p50 {out['p50_s']} s, "
              f"max {out['max_s']} s")
        print("| question | tables shown | answer (s) | of which generation (s) | SQL |\n|---|---|---|---|---|")
        for a in out["answers"]:
            print(f"| {a['question']} | {a['tables_shown']} | {a['total_s']} | {a['generation_s']} | `{a['sql']}` |")
        print(json.dumps(out))
        return 0
    import duckdb

    from nl2sql.models import cpu_name
    from nl2sql.sandbox import run
    from nl2sql.service import load_upload

    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "sales.csv"
        rows = make_csv(csv, args.mb)
        start = time.perf_counter()
        up = load_upload([csv], max_mb=int(args.mb) + 5, workdir=tmp)
        sqlite_load = time.perf_counter() - start
        start = time.perf_counter()
        duck = duckdb.connect()
        duck.execute(f"CREATE TABLE sales AS SELECT * FROM read_csv_auto('{csv}')")
        duck_load = time.perf_counter() - start
        out = {"cpu": cpu_name(), "csv_mb": round(csv.stat().st_size / 1e6, 1), "rows": rows,
               "load_s": {"sqlite": round(sqlite_load, 2), "duckdb": round(duck_load, 2)}, "query_s": {}}
        for name, sql in QUERIES.items():
            s = timed(lambda: run(sql, db_path=up.db_path, timeout_s=30), args.repeat)  # noqa: B023
            d = timed(lambda: duck.execute(sql).fetchall(), args.repeat)  # noqa: B023
            out["query_s"][name] = {"sqlite": round(s, 3), "duckdb": round(d, 3)}
        duck.close()
    print(f"{out['csv_mb']} MB CSV, {rows:,} rows, {out['cpu']}")
    print("| step | SQLite (the app's upload) | DuckDB in memory |\n|---|---|---|")
    print(f"| load | {out['load_s']['sqlite']} s | {out['load_s']['duckdb']} s |")
    for name, t in out["query_s"].items():
        print(f"| {name} | {t['sqlite']} s | {t['duckdb']} s |")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
