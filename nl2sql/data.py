"""Dataset sources -> canonical rows; everything downstream reads only the canonical shape.

A canonical row: {"id", "question", "schema" (DDL), "context" (INSERTs or None), "sql" (str or list of
alternatives), "db" (absolute path to a .sqlite file or None), "dialect", "category" (or None)}. A file's rows
may name a `schema_file` (a .sql file beside it) in place of `schema` and `context`.

Sources (`load_rows(spec, ...)`):
- `synthetic` / `synthetic:train` / `synthetic:test` / `synthetic:all`: the project's generator;
- a local file (.jsonl, .json, .csv, .parquet) in gretel's or the canonical columns;
- a hub data set by name, such as `gretelai/synthetic_text_to_sql` (needs the Hugging Face hub).
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections.abc import Iterable
from pathlib import Path

from nl2sql.database import is_url
from nl2sql.schema import split_ddl

GRETEL = "gretelai/synthetic_text_to_sql"
GRETEL_REQUIRED = ("sql_prompt", "sql_context", "sql")
CANONICAL_REQUIRED = ("question", "sql")
CANONICAL_KEYS = ("id", "question", "schema", "context", "sql", "db", "dialect", "category")


def shared_data(*parts: str) -> Path:
    """A path under the shared data folder: $NL2SQL_SHARED_DATA, else ../shared/data beside the repository."""
    root = os.environ.get("NL2SQL_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(root).joinpath(*parts)


SPIDER_DEV = "spider_dev/spider_dev.jsonl"
SPIDER_TRAIN = "spider_train/spider_train.jsonl"


class DataError(ValueError):
    """A source that cannot be read or lacks the columns it needs."""


def golds(row: dict) -> list[str]:
    """A canonical row's gold queries: its `sql` is one query or a list of equally right ones."""
    return list(row["sql"]) if isinstance(row["sql"], (list, tuple)) else [row["sql"]]


def from_gretel(row: dict, index: int = 0) -> dict:
    """Map a gretel row: sql_prompt -> question, sql_context -> schema (DDL) + context (the rest)."""
    schema, context = split_ddl(row.get("sql_context") or "")
    return {"id": str(row.get("id", index)), "question": row["sql_prompt"], "schema": schema or None,
            "context": context or None, "sql": row["sql"], "db": None, "dialect": "sqlite",
            "category": row.get("sql_complexity")}


def _schema_file(name: str, base: Path | None, index: int) -> tuple[str, str | None]:
    """A row's `schema_file` (DDL, INSERTs allowed), relative to `base`: (schema, context)."""
    path = Path(name) if base is None or Path(name).is_absolute() else base / name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise DataError(f"row {index}: schema_file {name}: {e.strerror or e}") from e
    schema, context = split_ddl(text)
    return schema, context or None


def from_canonical(row: dict, base: Path | None = None, index: int = 0) -> dict:
    """Normalise a canonical row; a relative `db` or `schema_file` (a .sql file whose DDL and INSERTs become
    `schema` and `context`) is resolved against `base` (the data file's folder)."""
    db = row.get("db")
    if db and base is not None and not is_url(db) and not Path(db).is_absolute():
        db = str((base / db).resolve())
    out = {k: row.get(k) for k in CANONICAL_KEYS}
    if row.get("schema_file") and not row.get("schema"):
        out["schema"], out["context"] = _schema_file(row["schema_file"], base, index)
    out.update(id=str(row.get("id", index)), db=db, dialect=row.get("dialect") or "sqlite")
    return out


def _mapper(columns: Iterable[str], origin: str):
    cols = set(columns)
    if set(GRETEL_REQUIRED) <= cols:
        return "gretel"
    if set(CANONICAL_REQUIRED) <= cols:
        return "canonical"
    missing_g = sorted(set(GRETEL_REQUIRED) - cols)
    missing_c = sorted(set(CANONICAL_REQUIRED) - cols)
    raise DataError(f"{origin}: neither gretel's columns (missing {', '.join(missing_g)}) nor the canonical "
                    f"ones (missing {', '.join(missing_c)}); it has: {', '.join(sorted(cols)) or 'no columns'}")


def canonicalize(rows: list[dict], origin: str, base: Path | None = None) -> list[dict]:
    if not rows:
        return []
    kind = _mapper(rows[0].keys(), origin)
    if kind == "gretel":
        return [from_gretel(r, i) for i, r in enumerate(rows)]
    return [from_canonical(r, base, i) for i, r in enumerate(rows)]


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise DataError(f"{path}:{n}: not valid JSON ({e.msg})") from e
    return rows


def _read_json(path: Path) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of rows")
    return data


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _read_parquet(path: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


READERS = {".jsonl": _read_jsonl, ".json": _read_json, ".csv": _read_csv, ".parquet": _read_parquet}


def load_file(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such data file: {path}")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(f"{path}: unsupported file type; use one of {', '.join(READERS)}")
    return canonicalize(reader(path), str(path), path.parent)


def load_synthetic(split: str = "train", n: int = 1000, seed: int = 0, join_boost: float = 1.0) -> list[dict]:
    from nl2sql.synth import generate

    return [from_gretel(r) for r in generate(n, seed, split, join_boost)]


def load_hub(name: str, split: str = "train") -> list[dict]:
    """A hub data set (gretel's columns or the canonical ones); needs network access to the hub."""
    try:
        from datasets import load_dataset

        ds = load_dataset(name, split=split)
    except Exception as e:  # network, auth, missing split: one clear message
        raise DataError(f"cannot load {name!r} (split {split}) from the Hugging Face hub: {e}") from e
    return canonicalize(ds.to_list(), name)


def load_rows(spec: str, split: str = "train", limit: int | None = None, seed: int = 0,
              join_boost: float = 1.0) -> list[dict]:
    """Canonical rows from `spec` (see the module docstring); `limit` keeps the first rows; `join_boost`
    makes the synthetic generator's join questions that much more common."""
    if spec == "synthetic" or spec.startswith("synthetic:"):
        rows = load_synthetic(spec.partition(":")[2] or split, limit or 1000, seed, join_boost)
    elif Path(spec).suffix.lower() in READERS or Path(spec).exists():
        rows = load_file(spec)
    elif "/" in spec:
        rows = load_hub(spec, split)
    else:
        raise DataError(f"unknown data source {spec!r}: use synthetic[:train|test|all], a .jsonl/.json/.csv/.parquet "
                        f"file, or a hub data set name such as {GRETEL}")
    return rows[:limit] if limit else rows


def split_holdout(rows: list[dict], fraction: float, seed: int = 0, max_rows: int | None = None,
                  group_key: str | None = None) -> tuple[list[dict], list[dict]]:
    """(train, held-out) with `fraction` of the rows held out; `group_key` keeps groups (e.g. one
    database's questions) on one side, so the held-out rows test unseen schemas."""
    rng = random.Random(seed)
    keys = sorted({str(r.get(group_key)) for r in rows}) if group_key else [r["id"] for r in rows]
    rng.shuffle(keys)
    held = set(keys[: max(1, round(fraction * len(keys)))]) if fraction > 0 and rows else set()
    key = (lambda r: str(r.get(group_key))) if group_key else (lambda r: r["id"])  # noqa: E731
    train = [r for r in rows if key(r) not in held]
    test = [r for r in rows if key(r) in held]
    return train, test[:max_rows] if max_rows else test


def mix(parts: list[tuple[list[dict], float]], seed: int = 0) -> list[dict]:
    """Weighted mixture: round(weight * len(rows)) rows from each part (weights above 1 repeat rows), shuffled."""
    rng = random.Random(seed)
    out = []
    for rows, weight in parts:
        if weight < 0:
            raise DataError(f"mixture weights must be >= 0, got {weight}")
        k = round(weight * len(rows))
        whole, rest = divmod(k, len(rows)) if rows else (0, 0)
        out += rows * whole + rng.sample(rows, rest)
    rng.shuffle(out)
    return out
