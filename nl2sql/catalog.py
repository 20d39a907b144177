"""A database's catalog as SQLAlchemy's inspector reads it (tables, columns, types, primary and foreign keys,
comments), rendered as the CREATE TABLE text the prompt shows.
"""

from __future__ import annotations

from nl2sql.schema import quote_ident

MAX_TABLES = 500  # tables read into the prompt's schema (linking then keeps what a question needs)


def _type_name(column: dict, dialect) -> str:
    try:
        return column["type"].compile(dialect=dialect)
    except Exception:  # noqa: BLE001 - a type the dialect cannot render (NullType, arrays): its class name
        return type(column["type"]).__name__.upper()


def render_ddl(tables: dict[str, dict]) -> str:
    """CREATE TABLE text for {name: {"columns", "pk", "fks", "comment"}} as the inspector read them."""
    out = []
    for name, t in tables.items():
        parts = [f"{quote_ident(c['name'])} {c['type_name']}".rstrip() for c in t["columns"]]
        if t["pk"]:
            parts.append(f"PRIMARY KEY ({', '.join(map(quote_ident, t['pk']))})")
        for fk in t["fks"]:
            if fk.get("referred_table") and len(fk["constrained_columns"]) == len(fk["referred_columns"]):
                parts.append(f"FOREIGN KEY ({', '.join(map(quote_ident, fk['constrained_columns']))}) REFERENCES "
                             f"{quote_ident(fk['referred_table'])} ({', '.join(map(quote_ident, fk['referred_columns']))})")
        comment = " ".join((t.get("comment") or "").split())
        out.append((f"-- {comment}\n" if comment else "") + f"CREATE TABLE {quote_ident(name)} ({', '.join(parts)});\n")
    return "".join(out)


def read_tables(engine) -> dict[str, dict]:
    """{name: {"columns", "pk", "fks", "comment"}} for the first MAX_TABLES tables (by name) of `engine`'s
    database; the driver's own errors propagate (nl2sql.database turns them into one line)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        insp = sa.inspect(conn)
        names = sorted(insp.get_table_names())[:MAX_TABLES]
        tables = {}
        for name in names:
            cols = insp.get_columns(name)
            for c in cols:
                c["type_name"] = _type_name(c, engine.dialect)
            pk = [c for c in (insp.get_pk_constraint(name) or {}).get("constrained_columns") or []]
            try:
                comment = (insp.get_table_comment(name) or {}).get("text")
            except NotImplementedError:
                comment = None
            tables[name] = {"columns": cols, "pk": pk, "fks": insp.get_foreign_keys(name), "comment": comment}
    return tables


__all__ = ["MAX_TABLES", "read_tables", "render_ddl"]
