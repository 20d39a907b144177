"""THE prompt format, used by training, serving and evaluation alike, so they can never drift apart.

A prompt is the question, preceded (optionally) by the schema rendered compactly: one line per
table, `table(col, col, fk_col->other.col)`, primary keys marked with `*`. On Spider this costs
about half the tokens of the DDL as written, and every prompt token costs at training and serving.

Models with a chat template get a short system message plus one user turn; models without one get a
plain-text template. The completion (training target) is the SQL, ended by ';' and the end token.
"""

from __future__ import annotations

from sqlglot import exp

from nl2sql.schema import Schema, Table, parse_schema

SYSTEM = "Write one SQLite query that answers the question."
PLAIN_TEMPLATE = "{user}\nSQL: "


def _ident(name: str) -> str:
    return exp.to_identifier(name).sql("sqlite")


def _literal(value: str) -> str:
    return exp.Literal.string(value).sql("sqlite")


def render_table(table: Table, values: dict[tuple[str, str], list[str]] | None = None) -> str:
    """`name(id*, col, fk->other.col, city ('Paris'))` for one table; `values`: {(table, column) lower-cased:
    values the question names that the column holds} (nl2sql.values)."""
    refs = {fk.column.lower(): fk for fk in table.foreign_keys}
    cols = []
    for c in table.columns:
        text = _ident(c.name) + ("*" if c.primary_key else "")
        fk = refs.get(c.name.lower())
        if fk:
            text += f"->{_ident(fk.ref_table)}.{_ident(fk.ref_column)}"
        hits = (values or {}).get((table.name.lower(), c.name.lower()))
        if hits:
            text += f" ({', '.join(map(_literal, hits))})"
        cols.append(text)
    return f"{_ident(table.name)}({', '.join(cols)})"


def render_schema(schema: str | Schema, dialect: str = "sqlite", tables: list[str] | None = None,
                  values: dict[tuple[str, str], list[str]] | None = None) -> str:
    """The compact schema text; `tables` keeps only those tables (in the schema's order); `values` as in
    render_table.

    Raises nl2sql.schema.SchemaError when a DDL string does not parse.
    """
    parsed = parse_schema(schema, dialect) if isinstance(schema, str) else schema
    keep = {t.lower() for t in tables} if tables is not None else None
    return "\n".join(render_table(t, values) for t in parsed.tables if keep is None or t.name.lower() in keep)


def user_text(question: str, schema: str | Schema | None = None, dialect: str = "sqlite",
              tables: list[str] | None = None, values: dict[tuple[str, str], list[str]] | None = None) -> str:
    """The user turn: compact schema (when given; only `tables` if set) and the question; else the bare question."""
    question = " ".join(question.split())
    if schema is None or (isinstance(schema, str) and not schema.strip()):
        return question
    return f"Tables:\n{render_schema(schema, dialect, tables, values)}\nQuestion: {question}"


def has_chat_template(tokenizer) -> bool:
    return bool(tokenizer is not None and getattr(tokenizer, "chat_template", None))


def build_prompt(question: str, schema: str | Schema | None = None, tokenizer=None, dialect: str = "sqlite",
                 tables: list[str] | None = None, values: dict[tuple[str, str], list[str]] | None = None) -> str:
    """The full prompt text for `question` (+ schema), in the tokenizer's chat template when it has one."""
    user = user_text(question, schema, dialect, tables, values)
    if not has_chat_template(tokenizer):
        return PLAIN_TEMPLATE.format(user=user)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def end_token(tokenizer=None) -> str:
    """The text that ends a completion: the chat turn's end (its eos) or the tokenizer's eos."""
    return (getattr(tokenizer, "eos_token", None) or "") if tokenizer is not None else ""


def completion(sql: str, tokenizer=None) -> str:
    """The training target for gold `sql`: the statement, one ';', then the end token."""
    return sql.strip().rstrip(";").strip() + ";" + end_token(tokenizer)
