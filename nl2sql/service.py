"""What a server needs around the pipeline: config from the environment, models loaded once and
shared, input limits, user uploads turned into private SQLite files (which files are taken here; nl2sql.upload
reads them) and what the schema box shows of them, and the Validate tab's report.

app.py only adapts these to Gradio components; nothing here imports gradio.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from nl2sql import feedback
from nl2sql.backends import DEFAULT_MAX_NEW_TOKENS, NAMES as BACKENDS, Backend, BackendUnavailable, open_backend
from nl2sql.models import ModelSpecError, shipped_model
from nl2sql.pipeline import DEFAULT_CANDIDATES, DEFAULT_CONSTRAIN, Request, read_schema_of, value_hits
from nl2sql.schema import SchemaError, prepare_schema
from nl2sql.sql import SqlError, Unknown, ground, pretty, transpile, validate
from nl2sql.upload import (SQLITE_SUFFIXES, TABLE_SUFFIXES, UPLOAD_NAME, UPLOAD_PREFIX, Upload,  # noqa: F401
                           UploadError, load_upload as read_upload)



# Model calls at once by backend, unless CONCURRENCY says: a server batches the requests it is sent at once
# (vLLM) or queues them (llama.cpp's server); a local engine already uses every core for one call (and llama.cpp
# takes one at a time anyway), so more at once only makes each wait longer.
CONCURRENCY = {"remote": 8}
LOCAL_CONCURRENCY = 1


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
    concurrency: int | None = None  # model calls at once (CONCURRENCY); None: the backend's own (`model_calls`)
    queue_size: int = 64
    database_url: str | None = field(default=None, repr=False)  # DATABASE_URL: "Your database" (nl2sql.database)
    feedback: bool = True  # users' corrections kept (nl2sql.feedback); NL2SQL_FEEDBACK=0 turns it off
    data_dir: str = ""  # where corrections are kept; empty: nl2sql.feedback.data_dir()

    @property
    def model_calls(self) -> int:
        """Model calls at once: CONCURRENCY when set, else the backend's (8 for remote, 1 for local engines)."""
        return self.concurrency or CONCURRENCY.get(self.backend, LOCAL_CONCURRENCY)

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
                   concurrency=_int_env(env, "CONCURRENCY", 0) or None,
                   queue_size=_int_env(env, "QUEUE_SIZE", 64),
                   database_url=(env.get("DATABASE_URL") or "").strip() or None,
                   feedback=feedback.enabled(env), data_dir=str(feedback.data_dir(env)))


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


_ARCHIVE = "an archive; the app does not open archives: extract it and upload the CSV, Parquet or SQLite files inside"
_BOOK = 'a spreadsheet workbook: save each sheet as "CSV UTF-8" and upload those files'
_WAL = ("a SQLite write-ahead log, not a database: checkpoint it into its database (PRAGMA wal_checkpoint(TRUNCATE)) "
        "and upload the database file")
UPLOAD_KINDS = {**dict.fromkeys((".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar"), _ARCHIVE),
                **dict.fromkeys((".xlsx", ".xls", ".ods", ".numbers"), _BOOK), "-wal": _WAL,
                "-shm": "SQLite's shared-memory file, not a database: upload the database file",
                "-journal": "a SQLite rollback journal, not a database: upload the database file"}  # refused, and why
PARQUET_VALUES_PER_MB = 500_000  # values (rows x columns) a Parquet file may hold per MB of the upload limit:
# compression lets a small file hold billions (a CSV within the limit holds at most 524,288 per MB)
SUMMARY_MARK = "-- Summary: "  # how a schema box that summarises a database's schema begins


def _refusal(path: Path, max_mb: int) -> str | None:
    """Why a file is refused before it is read: its kind (archives, workbooks, SQLite's side files), or a
    Parquet file of more values than PARQUET_VALUES_PER_MB allows."""
    what = next((w for suffix, w in UPLOAD_KINDS.items() if path.name.lower().endswith(suffix)), None)
    if what or path.suffix.lower() not in SQLITE_SUFFIXES + TABLE_SUFFIXES:
        return f"{path.name} is {what}." if what else (
            f"Upload either one SQLite file (.sqlite, .db) or CSV/TSV/Parquet files, not other kinds ({path.name}).")
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            meta = pq.ParquetFile(path).metadata
        except (pa.ArrowException, OSError) as e:
            return f"{path.name} is not a readable Parquet file ({' '.join(str(e).split())[:300]})."
        cells, limit = meta.num_rows * meta.num_columns, max_mb * PARQUET_VALUES_PER_MB
        if cells > limit:
            return (f"{path.name} holds {cells:,} values ({meta.num_rows:,} rows x {meta.num_columns:,} columns); the "
                    f"limit is {limit:,} ({PARQUET_VALUES_PER_MB:,} per MB of the upload limit).")
    return None


def load_upload(paths: list[str | Path], max_mb: int, workdir: str | Path | None = None) -> Upload:
    """One .sqlite/.db file, or CSV and Parquet files (one table each), as a private SQLite file + its
    schema (nl2sql.upload); InputError with one line that names the file and the limit or the fix."""
    paths = [Path(p) for p in paths or []]
    if not paths:
        raise InputError("Upload a SQLite file or one or more CSV, TSV or Parquet files.")
    total = sum(p.stat().st_size for p in paths)
    if total > max_mb * 1024 * 1024:
        raise InputError(f"The upload is {total / 1e6:.1f} MB; the limit is {max_mb} MB.")
    refusal = next(filter(None, (_refusal(p, max_mb) for p in paths)), None)
    if refusal:
        raise InputError(refusal)
    if len(paths) > 1 and any(p.suffix.lower() in SQLITE_SUFFIXES for p in paths):
        raise InputError("Upload either one SQLite file (.sqlite, .db) or CSV/TSV/Parquet files, not both or several.")
    try:
        return read_upload(paths, workdir)
    except UploadError as e:
        raise InputError(str(e)) from e


def schema_box(schema: str, limit: int) -> str:
    """What the app's schema box shows for a database's schema: the schema when it fits `limit`, else a
    summary (tables, column counts) that `is_summary` recognises, so that questions are answered from
    the database's own schema, linked to the tables each one needs."""
    if len(schema) <= limit:
        return schema
    tables = prepare_schema(schema).parsed.tables  # what the pipeline reads next: cached
    head = (f"{SUMMARY_MARK}{len(tables):,} tables ({len(schema):,} characters of schema), more than this box holds "
            f"({limit:,}).\n-- Questions are answered from the database's own schema: schema linking shows the model "
            "the tables each one needs.\n-- Tables (columns):\n")
    lines, budget = [], min(limit, 4000) - len(head) - 40
    for i, t in enumerate(tables):
        line = f"-- {t.name} ({len(t.columns)})\n"
        budget -= len(line)
        if budget < 0:
            lines.append(f"-- ... and {len(tables) - i:,} more\n")
            break
        lines.append(line)
    return head + "".join(lines)


def is_summary(text: str | None) -> bool:
    """Whether a schema box holds `schema_box`'s summary rather than a schema."""
    return (text or "").lstrip().startswith(SUMMARY_MARK)


def show_upload(up: Upload, limit: int) -> tuple[str, str]:
    """The schema box's text for an upload (`schema_box`) and the message that says what was loaded and
    how. A summarised schema's index of values is built now, so the first question does not wait."""
    box = schema_box(up.schema, limit)
    names = ", ".join(up.tables[:40]) + (f" and {len(up.tables) - 40:,} more" if len(up.tables) > 40 else "")
    text = [f"Loaded {len(up.tables)} table(s): {names}. Run uses this data."]
    if box != up.schema:
        req = Request("-", db=str(up.db_path))  # read as the pipeline reads it: the same cache entries
        value_hits(req, read_schema_of(req))
        text.append(f"Its schema ({len(up.schema):,} characters) is more than the box holds ({limit:,}): the box shows "
                    "a summary, and each question is answered from the file's own schema (schema linking).")
    return box, " ".join(text + [f"{n}." for n in up.notes])


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
