"""python -m nl2sql "How many employees are there?" --schema examples/company.sql --run

Prints the SQL for a question (in --dialect), any validation or grounding problems, and with --run
the query's result on the schema (DDL + INSERTs) or on --db: a SQLite file opened read-only, or a
database URL (postgresql://..., duckdb:///file.duckdb, mysql://...) whose schema is read from it and
where the query runs in its own dialect, in a read-only transaction (nl2sql.database).
Bad input gives a one-line error and exit status 2; a model that cannot load, status 3.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nl2sql.backends import NAMES as BACKENDS
from nl2sql.flags import add_decoding_flags
from nl2sql.backends.base import STOPS
from nl2sql.schema import SchemaError
from nl2sql.sql import DIALECTS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m nl2sql", description="Turn an English question into SQL.")
    p.add_argument("question", help="the question, in plain English")
    p.add_argument("--schema", type=Path, help="file with the schema: CREATE TABLE statements, optionally INSERTs")
    p.add_argument("--db", help="a SQLite file, or a database URL (postgresql://user@host/db, duckdb:///file.duckdb, "
                                "mysql://...): its schema is read from it and queries run on it, read-only")
    p.add_argument("--model", default=None, help="model spec: packaged, a checkpoint or adapter dir, a hub id "
                                               "(default: the fine-tuned adapter under models/, else packaged)")
    p.add_argument("--backend", default="auto", choices=BACKENDS,
                   help="generation engine (default auto: llama.cpp on a CPU when installed, else transformers)")
    p.add_argument("--remote-url", help="OpenAI-compatible server for --backend remote (or NL2SQL_REMOTE_URL)")
    p.add_argument("--dialect", default=None, choices=DIALECTS,
                   help="dialect of the printed SQL (default: the database's own, else sqlite)")
    p.add_argument("--run", action="store_true", help="execute the query and print the result")
    p.add_argument("--tables", help="comma-separated tables to show the model (overrides linking)")
    add_decoding_flags(p)
    p.add_argument("--verbose", action="store_true", help="also print the model's raw text, timings, tables shown")
    return p.parse_args(argv)


def _read_schema(args: argparse.Namespace) -> str | None:
    if args.schema:
        if not args.schema.is_file():
            raise ValueError(f"schema file not found: {args.schema}")
        return args.schema.read_text()
    return None  # a --db's own schema is read by the pipeline


def _report(answer, verbose: bool) -> None:
    print(answer.sql + ";")
    for err in answer.validation.errors:
        print(f"invalid: {err}", file=sys.stderr)
    for miss in answer.unknown:
        print(f"warning: {miss}", file=sys.stderr)
    if answer.changes_data:
        where = "refused on a database server (read-only)" if answer.result and not answer.result.private \
            else "runs only on a private copy"
        print(f"warning: changes data: {where}", file=sys.stderr)
    g = answer.generation
    if g and g.stop in ("limit", "repetition"):
        print(f"warning: stopped early: {STOPS[g.stop]}", file=sys.stderr)
    if verbose and g:
        tried = f"; {answer.candidates_tried} candidates tried" if answer.candidates_tried > 1 else ""
        tried += "; schema-constrained" if answer.constrained else ""
        tried += f"; {answer.votes[0]} of {answer.votes[1]} answers agreed" if answer.votes else ""
        print(f"-- model: {answer.model_name} ({g.backend}{tried}); {g.prompt_tokens} prompt + "
              f"{g.new_tokens} new tokens in {g.latency_s:.2f} s; raw: {g.text!r}", file=sys.stderr)
        if answer.linking is not None:
            print(f"-- {answer.linking.describe()}", file=sys.stderr)
        if answer.requalified:
            print(f"-- qualifiers mended: {', '.join(answer.requalified)}", file=sys.stderr)
        if answer.literals:
            print(f"-- literals moved: {', '.join(answer.literals)}", file=sys.stderr)
    if answer.result is not None:
        from nl2sql.sandbox import describe, format_table

        print()
        if answer.result.ok and answer.result.columns:
            print(format_table(answer.result))
        print(f"-- {describe(answer.result)}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        from nl2sql.database import sqlite_path
        from nl2sql.pipeline import Request, check_request

        path = sqlite_path(args.db)
        if path is not None and not path.is_file():
            raise ValueError(f"database file not found: {path}")
        # Run when asked (--run); a query is never run unasked from the command line.
        tables = [t for t in args.tables.split(",") if t.strip()] if args.tables else None
        req = Request(args.question, _read_schema(args), args.dialect, args.run, args.db, tables=tables)
        check_request(req)
        if args.run and not (req.schema or req.db):
            raise ValueError("--run needs --schema or --db")
    except SchemaError as e:
        print(f"error: schema: {e}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    import logging
    import time

    from nl2sql.backends import BackendUnavailable, open_backend
    from nl2sql.models import ModelSpecError, default_model
    from nl2sql.pipeline import Decoding, answer

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    start = time.perf_counter()
    try:
        lm = open_backend(args.model or default_model(), args.backend, url=args.remote_url)
    except (ModelSpecError, BackendUnavailable, OSError) as e:
        print(f"error: cannot load model: {e}", file=sys.stderr)
        return 3
    if args.verbose:
        print(f"-- loaded {lm.label} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    try:
        ans = answer(lm, req, Decoding.from_args(args))
    except BackendUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except ValueError as e:  # e.g. a prompt longer than the model's context
        print(f"error: {e}", file=sys.stderr)
        return 2
    _report(ans, args.verbose)
    return 0 if ans.validation.ok and (ans.result is None or ans.result.ok) else 1


if __name__ == "__main__":
    sys.exit(main())
