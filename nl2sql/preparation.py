"""A request read once (`prepare`): its schema (else its database's), the stored values the question names,
the tables the prompt shows, the prompt and the names that constrain decoding. Split from nl2sql.pipeline,
which re-exports these names.
"""

from __future__ import annotations

from dataclasses import replace

from nl2sql.backends.base import Backend
from nl2sql.constrain import names_or_none
from nl2sql.database import database_schema
from nl2sql.execution import execute, has_data, locate
from nl2sql.joins import with_inferred_keys
from nl2sql.link import Linking, link
from nl2sql.mend import Holders
from nl2sql.prompt import build_prompt
from nl2sql.request import Decoding, Prepared, Request
from nl2sql.schema import PreparedSchema, Schema, prepare_schema
from nl2sql.values import IndexCache, ValueHit, ValueIndex, build_index, by_column, linked_tables

_VALUE_INDEXES = IndexCache()  # one per database or pasted schema with rows


def read_schema_of(req: Request) -> PreparedSchema | None:
    """The request's schema (else its database's), read once (cached); ValueError/SchemaError/
    DatabaseError with a one-line message."""
    if not req.question or not req.question.strip():
        raise ValueError("the question is empty")
    if req.schema is None or not req.schema.strip():
        return prepare_schema(database_schema(req.db)) if req.db else None
    return prepare_schema(req.schema)


def value_hits(req: Request, schema: PreparedSchema) -> list[ValueHit]:
    """The stored values the question names (nl2sql.values), from an index built once per database."""
    return value_index(req, schema).find(req.question)


def value_index(req: Request, schema: PreparedSchema) -> ValueIndex:
    """The index of the stored text values of the request's data (nl2sql.values), built once per database."""
    where = locate(req.db)
    if where.server:
        key = ("url", str(req.db))
    elif where.path is not None:
        stat = where.path.stat() if where.path.is_file() else None
        key = ("file", str(where.path.resolve()), stat.st_mtime_ns if stat else 0, stat.st_size if stat else 0)
    else:
        key = ("schema", schema.text, req.context or "")
    data = Request(req.question, req.schema, db=req.db, context=req.context)
    return _VALUE_INDEXES.get(key, lambda: build_index(lambda sql: execute(sql, data, schema), schema.parsed))


def shown_tables(req: Request, schema: PreparedSchema, decoding: Decoding,
                 hits: list[ValueHit] = ()) -> Linking:
    """The tables the prompt shows: the request's own choice, else schema linking's (keeping the tables
    that hold values the question names), else all."""
    names = schema.table_names
    if req.tables:
        wanted = {t.strip().lower() for t in req.tables if t.strip()}
        unknown = wanted - {n.lower() for n in names}
        if unknown:
            raise ValueError(f"no such table in the schema: {', '.join(sorted(unknown))}")
        shown = [n for n in names if n.lower() in wanted]
        return Linking(shown, total=len(names))
    if not decoding.link:
        return Linking(names, total=len(names))
    return link(req.question, schema.parsed, always=linked_tables(hits))


def prompt_for(question: str, schema: Schema, tokenizer, tables: list[str] | None,
               hits: list[ValueHit]) -> tuple[str, list[ValueHit]]:
    """The prompt for a question over `schema` showing `tables` (None: all) and, beside their columns, the
    values of `hits` in those tables; and those hits. Serving (prepare) and training (training.sft) both
    build their prompts here, so the two cannot drift apart."""
    shown = [h for h in hits if tables is None or h.table in tables]
    return build_prompt(question, schema, tokenizer, tables=tables, values=by_column(shown)), shown


def prepare(lm: Backend, req: Request, decoding: Decoding) -> Prepared:
    schema = read_schema_of(req)
    if schema is None:
        return Prepared(req, None, build_prompt(req.question, None, lm.tokenizer), None)
    if decoding.infer_keys:
        schema = replace(schema, parsed=with_inferred_keys(schema.parsed))
    hits = value_hits(req, schema) if decoding.values and has_data(req, schema) else []
    linking = shown_tables(req, schema, decoding, hits)
    prompt, shown_hits = prompt_for(req.question, schema.parsed, lm.tokenizer, linking.tables, hits)
    linking = replace(linking, values=tuple(shown_hits))
    shown = Schema([t for t in schema.parsed.tables if t.name in linking.tables])
    names = names_or_none(shown, joins=decoding.follow_keys) if decoding.constrain and lm.can_constrain else None
    holders = Holders.of(value_index(req, schema)) if decoding.mend_literals and has_data(req, schema) else None
    return Prepared(req, schema, prompt, names, linking, holders)


__all__ = ["prepare", "prompt_for", "read_schema_of", "shown_tables", "value_hits"]
