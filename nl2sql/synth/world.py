"""A concrete synthetic database: a domain rendered in one naming style, with rows, DDL and INSERTs."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass, field
from functools import lru_cache

import sqlglot

from nl2sql.synth.domains import UNRELATED, ColSpec, Domain, TableSpec
from nl2sql.synth.values import sql_type, value

ABBREVIATIONS = {"quantity": "qty", "number": "num", "amount": "amt", "date": "dt", "description": "desc",
                 "customer": "cust", "product": "prod", "department": "dept", "employee": "emp", "address": "addr",
                 "category": "cat", "minutes": "mins", "experience": "exp", "transaction": "txn",
                 "organization": "org", "average": "avg", "count": "cnt", "price": "prc", "revenue": "rev"}


@dataclass(frozen=True)
class Style:
    case: str = "snake"  # snake | camel | pascal
    plural_tables: bool = True
    pk_with_table: bool = False  # customer_id instead of id
    abbreviate: bool = False
    table_prefix: str = ""

    def words(self, canonical: str) -> list[str]:
        parts = canonical.split("_")
        return [ABBREVIATIONS.get(p, p) for p in parts] if self.abbreviate else parts

    def ident(self, canonical: str) -> str:
        w = self.words(canonical)
        if self.case == "camel":
            return w[0] + "".join(x.title() for x in w[1:])
        if self.case == "pascal":
            return "".join(x.title() for x in w)
        return "_".join(w)

    def sql(self, canonical: str) -> str:
        return quoted(self.ident(canonical))


@lru_cache(maxsize=None)
def quoted(name: str) -> str:
    """`name`, double-quoted when SQLite or sqlglot would read it as a keyword (order, group, ...)."""
    try:
        sqlite3.connect(":memory:").execute(f"CREATE TABLE {name} ({name} INT)")
        tree = sqlglot.parse_one(f"SELECT {name} FROM {name} WHERE {name} = 1", read="sqlite")
        if tree.sql("sqlite") == f"SELECT {name} FROM {name} WHERE {name} = 1":
            return name
    except (sqlite3.Error, sqlglot.errors.SqlglotError):
        pass
    return f'"{name}"'


def random_style(rng: random.Random) -> Style:
    return Style(case=rng.choices(["snake", "camel", "pascal"], [0.6, 0.2, 0.2])[0],
                 plural_tables=rng.random() < 0.75, pk_with_table=rng.random() < 0.4,
                 abbreviate=rng.random() < 0.25, table_prefix="tbl_" if rng.random() < 0.05 else "")


@dataclass
class Column:
    name: str  # as in the database
    spec: ColSpec
    sql_type: str

    @property
    def spoken(self) -> str:
        return self.spec.spoken

    @property
    def role(self) -> str:
        return self.spec.role


@dataclass
class DbTable:
    spec: TableSpec
    name: str
    pk: str
    columns: list[Column]
    fks: dict[str, str] = field(default_factory=dict)  # fk column name -> parent canonical table name
    rows: list[dict] = field(default_factory=list)  # column name -> value, pk included

    @property
    def spoken(self) -> str:
        return self.spec.name.replace("_", " ")

    @property
    def spoken_one(self) -> str:
        return self.spec.singular.replace("_", " ")

    @property
    def label(self) -> Column | None:
        lab = self.spec.label
        return next((c for c in self.columns if lab and c.spec is lab), None)

    def cols(self, role: str) -> list[Column]:
        return [c for c in self.columns if c.role == role]

    def values(self, col: Column) -> list:
        return [r[col.name] for r in self.rows if r[col.name] is not None]


@dataclass
class Db:
    domain: Domain
    style: Style
    tables: list[DbTable]
    extra: list[DbTable]  # unrelated tables present in the schema

    def table(self, canonical: str) -> DbTable:
        return next(t for t in self.tables if t.spec.name == canonical)

    def children(self, parent: DbTable) -> list[tuple[DbTable, str]]:
        """(child table, its fk column) for every table that references `parent`."""
        return [(t, fk) for t in self.tables for fk, p in t.fks.items() if p == parent.spec.name]

    def ddl(self) -> str:
        return "\n".join(create_table(t, self) for t in self.tables + self.extra)

    def inserts(self) -> str:
        return "\n".join(insert_rows(t) for t in self.tables + self.extra if t.rows)


def sql_literal(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def _table_name(spec: TableSpec, style: Style) -> str:
    return quoted(style.table_prefix + style.ident(spec.name if style.plural_tables else spec.singular))


def create_table(t: DbTable, db: Db) -> str:
    lines = [f"  {t.pk} INTEGER PRIMARY KEY"] + [f"  {fk} INTEGER" for fk in t.fks]
    lines += [f"  {c.name} {c.sql_type}" for c in t.columns]
    for fk, parent in t.fks.items():
        p = db.table(parent)
        lines.append(f"  FOREIGN KEY ({fk}) REFERENCES {p.name}({p.pk})")
    return f"CREATE TABLE {t.name} (\n" + ",\n".join(lines) + "\n);"


def insert_rows(t: DbTable) -> str:
    names = [t.pk] + list(t.fks) + [c.name for c in t.columns]
    body = ",\n".join("  (" + ", ".join(sql_literal(r[n]) for n in names) + ")" for r in t.rows)
    return f"INSERT INTO {t.name} ({', '.join(names)}) VALUES\n{body};"


def _fill(t: DbTable, n: int, parents: dict[str, list[int]], rng: random.Random) -> None:
    label = t.label
    used_labels: set = set()
    for i in range(1, n + 1):
        row = {t.pk: i}
        for fk, parent in t.fks.items():
            row[fk] = rng.choice(parents[parent])
        for c in t.columns:
            v = value(c.spec.kind, c.spec.args, rng)
            if c is label:
                for _ in range(5):  # labels name rows: keep them distinct where the pool allows
                    if v not in used_labels:
                        break
                    v = value(c.spec.kind, c.spec.args, rng)
                used_labels.add(v)
            elif rng.random() < 0.06:
                v = None  # real data has gaps
            row[c.name] = v
        t.rows.append(row)


def build(domain: Domain, rng: random.Random, style: Style | None = None) -> Db:
    """Render `domain` in a (random) style, with 4-9 rows per table and 0-2 unrelated tables."""
    style = style or random_style(rng)
    tables: list[DbTable] = []
    specs = list(domain.tables) + rng.sample(UNRELATED, k=rng.choice([0, 0, 1, 2]))
    for spec in specs:
        name = _table_name(spec, style)
        pk = style.sql(f"{spec.singular}_id") if style.pk_with_table else "id"
        cols = [Column(style.sql(c.name), c, sql_type(c.kind, rng)) for c in spec.cols]
        fks = {style.sql(f"{domain.table(p).singular}_id"): p for p in spec.parents}
        tables.append(DbTable(spec, name, pk, cols, fks))
    own, extra = tables[: len(domain.tables)], tables[len(domain.tables):]
    db = Db(domain, style, own, extra)
    ids: dict[str, list[int]] = {}
    for t in own + extra:  # parents come first in every domain spec
        _fill(t, rng.randint(4, 9), ids, rng)
        ids[t.spec.name] = [r[t.pk] for r in t.rows]
    return db
