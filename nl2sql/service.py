"""What a server needs around the pipeline: config from the environment, models loaded once and
shared, input limits, user uploads turned into private SQLite files, and the Validate tab's report.

app.py only adapts these to Gradio components; nothing here imports gradio.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from nl2sql.backends import DEFAULT_MAX_NEW_TOKENS, NAMES as BACKENDS, Backend, BackendUnavailable, open_backend
from nl2sql.models import ModelSpecError, shipped_model
from nl2sql.pipeline import DEFAULT_CANDIDATES, DEFAULT_CONSTRAIN
from nl2sql.sandbox import read_schema
from nl2sql.schema import SchemaError, prepare_schema
from nl2sql.sql import SqlError, Unknown, ground, pretty, transpile, validate



class InputError(ValueError):
    """User input that cannot be served, with a message fit to show as is."""


def _bool_env(env, key: str, default: bool) -> bool:
    value = str(env.get(key, default)).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{key} must be 1 or 0 (true or false), got {env.get(key)!r}")


def _int_env(env, key: str, default: int) -> int:
    try:
        return int(env.get(key, default))
    except ValueError as e:
        raise ValueError(f"{key} must be an integer, got {env.get(key)!r}") from e


@dataclass(frozen=True)
class ServiceConfig:
    base_model: str = "packaged"
    ft_model: str | None = None
    backend: str = "auto"  # nl2sql.backends.NAMES; auto: llama.cpp on a CPU when installed
    candidates: int = DEFAULT_CANDIDATES  # execution-guided selection (nl2sql.pipeline)
    constrain: bool = DEFAULT_CONSTRAIN  # schema-constrained decoding (nl2sql.constrain)
    votes: int = 1  # voting's default in the app's "Thorough" setting (nl2sql.choose)
    max_question_chars: int = 500
    max_schema_chars: int = 20_000
    max_sql_chars: int = 10_000
    max_upload_mb: int = 20
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    concurrency: int = 1  # model calls at once (2 CPU cores: one at a time is fastest overall)
    queue_size: int = 64
    database_url: str | None = field(default=None, repr=False)  # DATABASE_URL: "Your database" (nl2sql.database)

    @classmethod
    def from_env(cls, env=None) -> "ServiceConfig":
        env = os.environ if env is None else env
        default_ft = shipped_model()
        backend = env.get("BACKEND", "auto")
        if backend not in BACKENDS:
            raise ValueError(f"BACKEND must be one of {', '.join(BACKENDS)}, got {backend!r}")
        return cls(base_model=env.get("BASE_MODEL", "packaged"), ft_model=env.get("FT_MODEL", default_ft) or None,
                   backend=backend, candidates=_int_env(env, "CANDIDATES", DEFAULT_CANDIDATES),
                   constrain=_bool_env(env, "CONSTRAIN", DEFAULT_CONSTRAIN), votes=_int_env(env, "VOTES", 1),
                   max_question_chars=_int_env(env, "MAX_QUESTION_CHARS", 500),
                   max_schema_chars=_int_env(env, "MAX_SCHEMA_CHARS", 20_000),
                   max_sql_chars=_int_env(env, "MAX_SQL_CHARS", 10_000),
                   max_upload_mb=_int_env(env, "MAX_UPLOAD_MB", 20),
                   max_new_tokens=_int_env(env, "MAX_NEW_TOKENS", DEFAULT_MAX_NEW_TOKENS),
                   concurrency=_int_env(env, "CONCURRENCY", 1),
                   queue_size=_int_env(env, "QUEUE_SIZE", 64),
                   database_url=(env.get("DATABASE_URL") or "").strip() or None)


def check_text(value: str | None, name: str, limit: int, required: bool = False) -> str:
    """The stripped text, or InputError for missing, binary or over-long input."""
    value = (value or "").strip()
    if required and not value:
        raise InputError(f"Please enter a {name}.")
    if len(value) > limit:
        raise InputError(f"The {name} is {len(value):,} characters; the limit is {limit:,}.")
    if "\x00" in value or re.search(r"[\x01-\x08\x0e-\x1f]", value):
        raise InputError(f"The {name} contains binary characters.")
    return value


class ModelPool:
    """Models loaded once per spec and shared by every session; loading is serialised."""

    def __init__(self, config: ServiceConfig, loader=None):
        self.config = config
        self._loader = loader or (lambda spec: open_backend(spec, self.config.backend))
        self._models: dict[str, Backend] = {}
        self._errors: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, role: str) -> Backend:
        """The 'base' or 'ft' model; InputError with a clear message when it is not available."""
        spec = self.config.base_model if role == "base" else self.config.ft_model
        if not spec:
            raise InputError("No fine-tuned model is configured. Set FT_MODEL to a checkpoint or adapter dir, or "
                             "train one: python -m training.train --config training/configs/lora.yaml")
        with self._lock:
            if spec not in self._models and spec not in self._errors:
                try:
                    self._models[spec] = self._loader(spec)
                except (ModelSpecError, BackendUnavailable, OSError, ValueError) as e:
                    self._errors[spec] = f"The model {spec!r} could not be loaded: {e}"
        if spec in self._errors:
            raise InputError(self._errors[spec])
        return self._models[spec]

    def status(self) -> str:
        lines = []
        for role, spec in (("base", self.config.base_model), ("fine-tuned", self.config.ft_model)):
            if not spec:
                lines.append(f"- {role}: not configured")
            elif spec in self._models:
                lm = self._models[spec]
                lines.append(f"- {role}: {lm.name} (loaded; {lm.kind}, {lm.precision})")
            elif spec in self._errors:
                lines.append(f"- {role}: failed to load ({self._errors[spec]})")
            else:
                lines.append(f"- {role}: {spec} (loading…)")
        return "\n".join(lines)


@dataclass
class Upload:
    """A user's data as a private SQLite file we wrote or copied, and its schema."""

    db_path: Path
    schema: str
    tables: list[str] = field(default_factory=list)


def _table_name(path: Path, used: set[str]) -> str:
    name = re.sub(r"\W+", "_", path.stem).strip("_").lower() or "data"
    while name in used:
        name += "_2"
    used.add(name)
    return name


def _column_name(raw: str, i: int) -> str:
    return re.sub(r"\W+", "_", raw.strip()).strip("_") or f"col{i + 1}"


def _parquet_table(conn: sqlite3.Connection, path: Path, used: set[str]) -> str:
    """A Parquet file as one table: integer/float/boolean columns typed so, the rest (dates too) as text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"{path.name} is not a readable Parquet file ({e}).") from e
    name = _table_name(path, used)

    def kind(t) -> str:
        if pa.types.is_integer(t) or pa.types.is_boolean(t):
            return "INTEGER"
        return "REAL" if pa.types.is_floating(t) or pa.types.is_decimal(t) else "TEXT"

    kinds = [kind(f.type) for f in table.schema]
    cols = ", ".join(f'"{_column_name(f.name, i)}" {k}' for i, (f, k) in enumerate(zip(table.schema, kinds)))
    conn.execute(f'CREATE TABLE "{name}" ({cols})')
    cell = lambda v, k: v if v is None or k != "TEXT" or isinstance(v, str) else str(v)  # noqa: E731
    for batch in table.to_batches(10_000):
        rows = [[cell(v, k) for v, k in zip(r.values(), kinds)] for r in batch.to_pylist()]
        conn.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(kinds))})',
                         [[float(v) if k == "REAL" and v is not None else v for v, k in zip(r, kinds)] for r in rows])
    return name


def _csv_table(conn: sqlite3.Connection, path: Path, used: set[str]) -> str:
    name = _table_name(path, used)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(rows[0]):
        raise InputError(f"{path.name} has no header row.")
    header = [_column_name(h, i) for i, h in enumerate(rows[0])]
    body = [r + [""] * (len(header) - len(r)) for r in rows[1:]]

    def col_type(i: int) -> str:
        vals = [r[i] for r in body if r[i] != ""]
        for typ, cast in (("INTEGER", int), ("REAL", float)):
            try:
                [cast(v) for v in vals]
                return typ if vals else "TEXT"
            except ValueError:
                continue
        return "TEXT"

    cols = ", ".join(f'"{h}" {col_type(i)}' for i, h in enumerate(header))
    conn.execute(f'CREATE TABLE "{name}" ({cols})')
    conn.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(header))})',
                     [[None if v == "" else v for v in r[: len(header)]] for r in body])
    return name


UPLOAD_PREFIX, UPLOAD_NAME = "nl2sql-upload-", "data.sqlite"  # where an upload's private copy lives


def load_upload(paths: list[str | Path], max_mb: int, workdir: str | Path | None = None) -> Upload:
    """One .sqlite/.db file, or CSV and Parquet files (one table each), as a private SQLite file + its schema."""
    paths = [Path(p) for p in paths or []]
    if not paths:
        raise InputError("Upload a SQLite file or one or more CSV or Parquet files.")
    total = sum(p.stat().st_size for p in paths)
    if total > max_mb * 1024 * 1024:
        raise InputError(f"The upload is {total / 1e6:.1f} MB; the limit is {max_mb} MB.")
    out = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX, dir=workdir)) / UPLOAD_NAME
    sqlite_files = [p for p in paths if p.suffix.lower() in (".sqlite", ".db", ".sqlite3")]
    csvs = [p for p in paths if p.suffix.lower() in (".csv", ".parquet")]
    if len(sqlite_files) + len(csvs) != len(paths) or (sqlite_files and (csvs or len(sqlite_files) > 1)):
        raise InputError("Upload either one SQLite file (.sqlite, .db) or CSV/Parquet files, not other kinds.")
    if sqlite_files:
        try:  # copy through SQLite itself: validates the file, drops anything but the data
            src = sqlite3.connect(f"{sqlite_files[0].resolve().as_uri()}?mode=ro", uri=True)
            dst = sqlite3.connect(out)
            src.backup(dst)
            src.close()
            dst.close()
        except sqlite3.DatabaseError as e:
            raise InputError(f"{sqlite_files[0].name} is not a SQLite database ({e}).") from e
    else:
        conn = sqlite3.connect(out)
        used: set[str] = set()
        for p in csvs:
            (_parquet_table if p.suffix.lower() == ".parquet" else _csv_table)(conn, p, used)
        conn.commit()
        conn.close()
    try:
        schema = read_schema(out)
    except SchemaError as e:
        raise InputError(str(e)) from e
    if not schema.strip():
        raise InputError("The upload holds no tables.")
    tables = re.findall(r'CREATE TABLE\s+"?([^"\s(]+)', schema, flags=re.IGNORECASE)
    return Upload(out, schema, tables)


@dataclass
class ValidationReport:
    ok: bool
    errors: list[SqlError]
    pretty: str
    transpiled: str
    transpile_errors: list[SqlError]
    unknown: list[Unknown]


def validation_report(sql: str, dialect: str, target: str, schema: str | None) -> ValidationReport:
    """Everything the Validate tab shows for one query."""
    v = validate(sql, dialect)
    out, terr = transpile(sql, dialect, target, pretty=True) if v.ok else ("", [])
    unknown = []
    if v.ok and schema:
        try:
            unknown = ground(sql, prepare_schema(schema).parsed, dialect)
        except SchemaError as e:
            raise InputError(f"The schema does not parse: {e}") from e
    return ValidationReport(v.ok, v.errors, pretty(sql, dialect) if v.ok else sql, out, terr, unknown)
