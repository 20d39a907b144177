"""python -m benchmarks.uploads [--mb 20] [--repeat 3]

Where should an uploaded CSV live: the SQLite file the app makes now (nl2sql.service.load_upload, run by
the sandbox) or an in-memory DuckDB (read_csv_auto)? Makes a CSV of about --mb MB (sales rows: date,
region, product, quantity, price), loads it both ways, and times three typical questions' SQL on each
(a grouped sum, a distinct count, a top-10): the mean of --repeat runs. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import random
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
    args = p.parse_args(argv)
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
