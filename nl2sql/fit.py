"""Fitting the model's SQLite SQL to another database (used by sql.transpile with a schema).

SQLite forgives what other engines refuse, and the model writes SQLite: names in any case, double-quoted
strings, numbers compared with text columns, a grouped query's bare columns, a LIKE that ignores case.
`fit_to_schema` rewrites a parsed query so that it means on PostgreSQL, DuckDB or MySQL what it meant on
SQLite (docs/databases.md has the measurement: how many answers give the same result).
"""

from __future__ import annotations

import re

from sqlglot import exp

from nl2sql.grounding import query_tables
from nl2sql.schema import Schema, affinity


def _plain(name: str) -> bool:
    return re.fullmatch(r"[a-z_][a-z0-9_]*", name) is not None


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def _compared_literals(tree: exp.Expression):
    """(column, literal) for each literal compared with a column: `col = 3`, `3 < col`, `col IN (1, 2)`."""
    for node in tree.find_all(*_COMPARISONS):
        for a, b in ((node.left, node.right), (node.right, node.left)):
            if isinstance(a, exp.Column) and isinstance(b, exp.Literal):
                yield a, b
    for node in tree.find_all(exp.In):
        if isinstance(node.this, exp.Column):
            yield from ((node.this, v) for v in node.expressions if isinstance(v, exp.Literal))
    for node in tree.find_all(exp.Between):
        if isinstance(node.this, exp.Column):
            yield from ((node.this, v) for v in (node.args.get("low"), node.args.get("high"))
                        if isinstance(v, exp.Literal))


def _apply_affinity(literal: exp.Literal, column_type: str) -> None:
    """SQLite's comparison affinity, written out for dialects that do not have it: a number compared with
    a TEXT column is compared as text (`year = 2014` with year TEXT means year = '2014'), and a numeric
    string compared with a numeric column as a number (`age > '30'` means age > 30)."""
    kind = affinity(column_type or "")
    if kind == "TEXT" and not literal.is_string:
        literal.replace(exp.Literal.string(literal.this))
    elif kind in ("INTEGER", "REAL", "NUMERIC") and literal.is_string:
        try:
            float(literal.this)
        except ValueError:
            return
        literal.replace(exp.Literal.number(literal.this.strip()))


def _key(col: exp.Column) -> tuple[str, str]:
    return col.table.lower(), col.name.lower()


def _aggregate_bare_columns(tree: exp.Expression) -> None:
    """SQLite lets a grouped query select a column that is neither grouped nor aggregated (one row's
    value: in Spider, nearly always a column the group key determines, like a name grouped by its id);
    other dialects refuse it. Such a column becomes MIN(column) under its own name."""
    for select in list(tree.find_all(exp.Select)):
        group = select.args.get("group")
        if not group:
            continue
        keys, names = set(), set()
        by_alias = {e.alias.lower(): e.unalias() for e in select.expressions if isinstance(e, exp.Alias)}
        for k in group.expressions:
            if isinstance(k, exp.Literal) and k.is_int and 0 < int(k.this) <= len(select.expressions):
                k = select.expressions[int(k.this) - 1].unalias()
            elif isinstance(k, exp.Column) and not k.table and k.name.lower() in by_alias:
                k = by_alias[k.name.lower()]
            if isinstance(k, exp.Column):
                keys.add(_key(k))
                names.add(k.name.lower())
        for proj in list(select.expressions):
            col = proj.unalias()
            if not isinstance(col, exp.Column) or isinstance(col.this, exp.Star):
                continue
            low = col.name.lower()
            if _key(col) in keys or (not col.table and low in names) or ("", low) in keys:
                continue
            proj.replace(exp.alias_(exp.Min(this=col.copy()), proj.alias or col.name, quoted=True))


def fit_to_schema(tree: exp.Expression, schema: Schema, respell: bool = True) -> exp.Expression:
    """SQLite's double-quoted strings as strings (SQLite reads `"Paris"` as the string 'Paris' when no
    column has that name; every other dialect reads it as a column); and, with `respell` (a schema read
    from the database itself, so its names are exact), names spelled as the database spells them, for
    databases that fold case (PostgreSQL reads an unquoted `Name` as `name`, so a column made as "Name"
    must be written quoted). Literals compared with a column follow SQLite's affinity rules (text
    columns compare as text); a grouped query's bare columns are aggregated; LIKE ignores case, as in
    SQLite. Changes and returns `tree`."""
    tables = {t.name.lower(): t.name for t in schema.tables}
    refs, local = query_tables(tree)  # alias or name -> table name
    used = [t for t in (schema.table(n) for n in dict.fromkeys(refs.values())) if t] or schema.tables
    aliases = local | {t.alias.lower() for t in tree.find_all(exp.Table) if t.alias}
    aliases |= {a.alias.lower() for a in tree.find_all(exp.Alias) if a.alias}

    def columns_of(qualifier) -> dict:
        table = schema.table(refs.get(qualifier.name.lower(), qualifier.name)) if qualifier is not None else None
        pool = [table] if table else used
        return {c.name.lower(): c for t in reversed(pool) for c in t.columns}

    def spell(ident, known: dict) -> None:
        if respell and isinstance(ident, exp.Identifier) and ident.name.lower() in known:
            real = known[ident.name.lower()]
            real = real if isinstance(real, str) else real.name
            ident.set("this", real)
            ident.set("quoted", not _plain(real))

    for side, literal in _compared_literals(tree):  # before respelling: names are looked up as written
        column = columns_of(side.args.get("table")).get(side.name.lower())
        if column is not None:
            _apply_affinity(literal, column.type)
    _aggregate_bare_columns(tree)
    for like in list(tree.find_all(exp.Like)):  # SQLite's LIKE ignores case (ASCII); others' does not
        like.replace(exp.ILike(this=like.this, expression=like.expression))
    for table in tree.find_all(exp.Table):
        if table.name.lower() not in aliases:
            spell(table.this, tables)
    for col in list(tree.find_all(exp.Column)):
        ident, qualifier = col.this, col.args.get("table")
        if not isinstance(ident, exp.Identifier):
            continue
        low, columns = ident.name.lower(), columns_of(qualifier)  # {lower name: Column}
        if ident.quoted and not qualifier and low not in columns and low not in aliases and low not in tables:
            col.replace(exp.Literal.string(ident.name))
            continue
        spell(ident, columns)
        if qualifier is not None and qualifier.name.lower() not in aliases:
            spell(qualifier, tables)
    return tree


__all__ = ["fit_to_schema"]
