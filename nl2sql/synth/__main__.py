"""python -m nl2sql.synth --n 100000 --out data/synth-train.jsonl [--split train|test|all] [--seed 0]

Writes synthetic text-to-SQL rows in gretelai/synthetic_text_to_sql's columns, as JSONL or Parquet
(by the file's extension), with a progress bar. The same seed gives the same file; the test split's
domains never appear in the train split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from nl2sql.synth import SPLITS, generate


def write_jsonl(rows, path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_parquet(rows, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(list(rows)), path)


WRITERS = {".jsonl": write_jsonl, ".parquet": write_parquet}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nl2sql.synth", description=__doc__.splitlines()[2])
    p.add_argument("--n", type=int, default=1000, help="number of rows")
    p.add_argument("--out", type=Path, required=True, help="output file: .jsonl or .parquet")
    p.add_argument("--split", default="train", choices=SPLITS, help="domains to draw from")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    writer = WRITERS.get(args.out.suffix)
    if writer is None or args.n < 1:
        print(f"error: --out must end in {' or '.join(WRITERS)} and --n must be positive", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows = tqdm(generate(args.n, args.seed, args.split), total=args.n, unit="rows", desc=f"synth {args.split}")
    writer(rows, args.out)
    seconds = time.perf_counter() - start
    print(f"wrote {args.n} rows to {args.out} in {seconds:.1f} s ({args.n / seconds:.0f} rows/s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
