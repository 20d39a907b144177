"""python -m nl2sql.feedback count [--dir DIR]
python -m nl2sql.feedback export --out rows.jsonl [--dir DIR] [--only-wrong]

Users' corrections kept as training rows: a small SQLite store on this machine, and its export.

A correction: a question, its schema (DDL, and the INSERT rows pasted with it), the model's SQL, the user's
verdict ("right", or "wrong" with the SQL it should have been) and the model's name. `check` refuses
(`FeedbackError`, nothing written) SQL that is not one statement that parses in its dialect, or that fails
when run where there is something to run it on (the schema's tables and rows, or the database asked).
Statements that change data are kept like queries (training data has them too): they run on a private
copy, as everywhere else; a database server only takes queries, so there they run on the schema alone.

Never stored: a database's URL or file path (so no password) and the rows of an uploaded file or a
database (only their schema). The store is `data_dir()/feedback.sqlite`; NL2SQL_FEEDBACK=0 turns recording
off (`enabled`). Nothing leaves the machine: `export` writes JSON lines that nl2sql.data reads (canonical
and gretel's columns), for training.train and eval.evaluate. Guide: docs/feedback.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Mapping
from contextlib import closing
from dataclasses import astuple, dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path

from nl2sql.database import database_schema, dialect_of
from nl2sql.pipeline import MODEL_DIALECT, Request, locate, run_sql
from nl2sql.sandbox import RunResult
from nl2sql.schema import split_ddl, split_statements
from nl2sql.sql import changes_data, transpile, validate

DATA_MOUNT = Path("/data")  # a Hugging Face Space's persistent storage, when the Space has it
STORE_NAME = "feedback.sqlite"
VERDICTS = ("right", "wrong")
OFF = {"0", "false", "no", "off"}
ID_PREFIX = "feedback-"  # not all digits: evaluation then judges the rows by their results (defog's rules)


class FeedbackError(ValueError):
    """A correction refused, or a store that cannot be used; the message is one sentence for the user."""


@dataclass(frozen=True)
class Correction:
    """One user's verdict on one answer. `sql` is the right SQL (the model's own for a "right" verdict),
    in `dialect`; `schema` is DDL and `context` the INSERT rows that came with it ("" when none)."""

    question: str
    schema: str
    context: str
    dialect: str
    model_sql: str
    sql: str
    verdict: str
    model: str
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    id: int | None = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise FeedbackError(f"The verdict must be one of {', '.join(VERDICTS)}, not {self.verdict!r}.")


COLUMNS = [f.name for f in fields(Correction) if f.name != "id"]


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """Where the app keeps what it writes: $NL2SQL_DATA_DIR, else /data when it is there and writable
    (a Space's persistent storage), else ~/.cache/nl2sql."""
    if env.get("NL2SQL_DATA_DIR"):
        return Path(env["NL2SQL_DATA_DIR"]).expanduser()
    if DATA_MOUNT.is_dir() and os.access(DATA_MOUNT, os.W_OK | os.X_OK):
        return DATA_MOUNT
    return Path.home() / ".cache" / "nl2sql"


def enabled(env: Mapping[str, str] = os.environ) -> bool:
    """Whether corrections are recorded: yes unless NL2SQL_FEEDBACK is 0, false, no or off."""
    return env.get("NL2SQL_FEEDBACK", "").strip().lower() not in OFF


def store_path(env: Mapping[str, str] = os.environ) -> Path:
    return data_dir(env) / STORE_NAME


class FeedbackStore:
    """Corrections in one SQLite file. A connection per call (so any thread may call), a write-ahead log
    and synchronous=FULL: a save that has returned is on disk, even if the process is killed next."""

    def __init__(self, path: str | Path, timeout_s: float = 30.0):
        self.path, self.timeout_s = Path(path), timeout_s
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as conn:
                # Some network file systems refuse WAL; the rollback journal with FULL sync is as durable.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("CREATE TABLE IF NOT EXISTS corrections (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                             + ", ".join(f"{c} TEXT NOT NULL" for c in COLUMNS) + ")")
        except (OSError, sqlite3.Error) as e:
            raise FeedbackError(f"Cannot open the corrections store {self.path}: {e}") from e

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: each statement is its own transaction, committed when execute returns.
        conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def save(self, correction: Correction) -> Correction:
        """Write one correction in one transaction; the same correction with its id."""
        values = astuple(correction)[: len(COLUMNS)]
        try:
            with closing(self._connect()) as conn:
                cur = conn.execute(f"INSERT INTO corrections ({', '.join(COLUMNS)}) "
                                   f"VALUES ({', '.join('?' * len(COLUMNS))})", values)
        except sqlite3.Error as e:
            raise FeedbackError(f"Cannot save the correction in {self.path}: {e}") from e
        return replace(correction, id=cur.lastrowid)

    def _select(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            with closing(self._connect()) as conn:
                return conn.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise FeedbackError(f"Cannot read the corrections store {self.path}: {e}") from e

    def count(self, verdict: str | None = None) -> int:
        where, params = ("WHERE verdict = ?", (verdict,)) if verdict else ("", ())
        return self._select(f"SELECT COUNT(*) FROM corrections {where}", params)[0][0]

    def rows(self, only_wrong: bool = False) -> list[Correction]:
        """Every correction (only the "wrong" verdicts' with `only_wrong`), oldest first."""
        where = "WHERE verdict = 'wrong'" if only_wrong else ""
        return [Correction(*r[1:], id=r[0])
                for r in self._select(f"SELECT id, {', '.join(COLUMNS)} FROM corrections {where} ORDER BY id")]

    def export(self, out_path: str | Path, only_wrong: bool = False) -> int:
        """Write the corrections as training rows (JSON lines, `training_row`), one per distinct question,
        schema and SQL (the latest kept); the number of rows written. The file is replaced whole."""
        out = Path(out_path)
        unique = {}
        for c in self.rows(only_wrong):
            row = training_row(c)
            key = (row["question"], row["sql_context"], row["sql"])
            unique.pop(key, None)  # the latest copy, in its place
            unique[key] = row
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
            tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in unique.values()), "utf-8")
            os.replace(tmp, out)
        except OSError as e:
            raise FeedbackError(f"Cannot write {out}: {e.strerror or e}") from e
        return len(unique)


def training_row(c: Correction) -> dict:
    """A correction as a data row that nl2sql.data reads: the canonical columns and gretel's (the loader
    takes gretel's), the SQL in SQLite (what the model writes), and where it came from."""
    sql, _ = transpile(c.sql, c.dialect, MODEL_DIALECT)  # check() made sure it can be
    return {"id": f"{ID_PREFIX}{c.id}", "question": c.question, "schema": c.schema or None,
            "context": c.context or None, "sql": sql, "dialect": MODEL_DIALECT, "category": None,
            "sql_prompt": c.question, "sql_context": c.schema + c.context, "sql_complexity": None,
            "sql_task_type": "data manipulation" if changes_data(sql) else "analytics and reporting",
            "domain": "user corrections", "verdict": c.verdict, "model": c.model, "model_sql": c.model_sql,
            "written_sql": c.sql, "written_dialect": c.dialect, "created": c.created}


def _one_statement(sql: str, dialect: str) -> str:
    """`sql` as one statement without its ';'; FeedbackError when it does not parse or holds several."""
    sql = (sql or "").strip()
    if not sql.rstrip(";").strip():
        raise FeedbackError("The SQL is empty.")
    verdict = validate(sql, dialect)
    if not verdict.ok:
        raise FeedbackError(f"The SQL does not parse as {dialect}: {verdict.errors[0]}.")
    try:
        statements = split_statements(sql, dialect)
    except ValueError as e:
        raise FeedbackError(f"The SQL does not parse as {dialect}: {e}") from e
    if len(statements) != 1:
        raise FeedbackError(f"Give one SQL statement, not {len(statements)}.")
    return statements[0]


def check(question: str, schema: str, dialect: str, sql: str, db=None) -> RunResult | None:
    """Refuse (FeedbackError) a correction that is no good training row: an empty question, SQL that is
    empty, does not parse or is several statements, cannot be written in SQLite, or fails when run on the
    schema's tables and rows or on `db` (a SQLite file or a database URL; a statement that changes data
    is tried on the schema's tables instead of a server). The run's result; None with nothing to run on."""
    if not (question or "").strip():
        raise FeedbackError("The question is empty.")
    sql = _one_statement(sql, dialect)
    if dialect != MODEL_DIALECT:
        _, errors = transpile(sql, dialect, MODEL_DIALECT)
        if errors:
            raise FeedbackError(f"The SQL cannot be written in SQLite, the model's dialect: {errors[0]}.")
    if db and locate(db).server and changes_data(sql, dialect):
        db = None  # a server only runs queries
    if not ((schema or "").strip() or db):
        return None
    try:
        result = run_sql(sql, Request("run", schema or None, dialect, db=db))
    except ValueError as e:  # SchemaError, DatabaseError: the schema or database cannot be read
        raise FeedbackError(f"The SQL cannot be checked: {e}") from e
    if not result.ok:
        raise FeedbackError(f"The SQL fails when run: {result.error}")
    return result


def _same(a: str, b: str) -> bool:
    return " ".join(a.rstrip().rstrip(";").split()) == " ".join(b.rstrip().rstrip(";").split())


def _source(schema: str | None, dialect: str | None, db) -> tuple[str, str]:
    """The schema as given, else the one read from `db` (a database's rows are never kept, only its DDL);
    the SQL's dialect as given, else the database's, else SQLite."""
    try:
        dialect = dialect or (dialect_of(db) if db else MODEL_DIALECT)
        return ((schema or "").strip() or (database_schema(db) if db else "")), dialect
    except ValueError as e:  # DatabaseError: an unknown kind of URL, a server that does not answer
        raise FeedbackError(f"The database cannot be read: {e}") from e


def record(store: FeedbackStore, *, question: str, schema: str | None, dialect: str | None, model_sql: str,
           sql: str | None, verdict: str, model: str, db=None) -> Correction:
    """Check a user's verdict on an answer and save it: the saved Correction (with its id), or
    FeedbackError and nothing written. `verdict` "right": `sql` is the model's own (None takes
    `model_sql`); "wrong": `sql` is the user's SQL, which must differ from the model's. `schema` may hold
    DDL and INSERT rows (split here); empty with a `db`, the database's DDL is kept. `db` is used for the
    check only and never stored. `dialect` None: the database's, else SQLite."""
    Correction("", "", "", "", "", "", verdict, "")  # refuses an unknown verdict before any work
    model_sql = (model_sql or "").strip()
    sql = (sql or "").strip() or (model_sql if verdict == "right" else "")
    if verdict == "right" and not _same(sql, model_sql):
        raise FeedbackError("A 'right' verdict keeps the model's SQL as it is; send edited SQL as 'wrong'.")
    if verdict == "wrong" and sql and _same(sql, model_sql):
        raise FeedbackError("The corrected SQL is the model's own: edit it, or mark the answer right.")
    schema, dialect = _source(schema, dialect, db)
    check(question, schema, dialect, sql, db)
    try:
        ddl, rows = split_ddl(schema)
    except ValueError as e:
        raise FeedbackError(f"The schema cannot be read: {e}") from e
    return store.save(Correction(question.strip(), ddl, rows, dialect, model_sql,
                                 _one_statement(sql, dialect), verdict, model or ""))


def open_store(env: Mapping[str, str] = os.environ) -> FeedbackStore | None:
    """The store the app records to, or None when NL2SQL_FEEDBACK turns recording off."""
    return FeedbackStore(store_path(env)) if enabled(env) else None


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", help="the folder that holds feedback.sqlite (default: NL2SQL_DATA_DIR, else /data "
                                      "when writable, else ~/.cache/nl2sql)")
    p = argparse.ArgumentParser(prog="python -m nl2sql.feedback", description="Users' corrections: count or export.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("count", parents=[common], help="how many corrections are stored")
    export = sub.add_parser("export", parents=[common], help="write the corrections as training rows (JSON lines)")
    export.add_argument("--out", required=True, help="the .jsonl file to write (nl2sql.data reads it)")
    export.add_argument("--only-wrong", action="store_true", help="only the answers users corrected")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    path = (Path(args.dir).expanduser() if args.dir else data_dir()) / STORE_NAME
    if not path.is_file():
        if args.command == "count":
            print(f"0 corrections: no store at {path} yet")
            return 0
        print(f"error: no corrections store at {path}: nothing was recorded there (see --dir, NL2SQL_DATA_DIR)",
              file=sys.stderr)
        return 2
    try:
        store = FeedbackStore(path)
        if args.command == "count":
            print(f"{store.count()} corrections ({store.count('right')} right, {store.count('wrong')} wrong) in {path}")
            return 0
        if Path(args.out).suffix.lower() != ".jsonl":
            raise FeedbackError(f"--out must name a .jsonl file, not {args.out}.")
        n = store.export(args.out, args.only_wrong)
    except FeedbackError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {n} rows to {args.out} (from {path})" + ("" if n else ": nothing to export yet"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
