"""Templates: data manipulation (INSERT, UPDATE, DELETE) and data definition (CREATE, ALTER, ...)."""

from __future__ import annotations

from nl2sql.synth.templates.base import Skip, col, join, lit, lit_linked, pick, table_with, template
from nl2sql.synth.values import value
from nl2sql.synth.world import sql_literal


@template("basic SQL", "data manipulation", [
    "Can you add a new {one} with {DESC}?", "Insert a new {one}: {DESC}.", "new {one} row: {DESC}"],
    "Inserts one row into {T} with explicit columns.")
def insert_row(db, rng):
    t = table_with(db, rng)
    if t.fks:
        raise Skip  # a new row would need valid parent ids; kept to parent tables
    cols = [c for c in t.columns if rng.random() < 0.8 or c is t.label][:4]
    vals = [value(c.spec.kind, c.spec.args, rng) for c in cols]
    new_id = max(r[t.pk] for r in t.rows) + 1
    desc = ", ".join(f"{c.spoken} {('yes' if v else 'no') if c.role == 'bool' else v}" for c, v in zip(cols, vals))
    names = ", ".join([t.pk] + [c.name for c in cols])
    return dict(T=t.spoken, one=t.spoken_one, DESC=f"id {new_id}, {desc}",
                sql=f"INSERT INTO {t.name} ({names}) VALUES ({', '.join(sql_literal(v) for v in [new_id] + vals)});")


@template("basic SQL", "data manipulation", [
    "How would I raise the {C} of all {T} with {G} {V} by {P} percent?", "Increase {C} by {P}% for {T} whose {G} is {V}.",
    "{C} +{P}% where {G} = {V}"],
    "Multiplies {C} by a factor for the matching rows.")
def update_percent(db, rng):
    t = table_with(db, rng, "num", "cat")
    c, g = col(t, rng, "num"), col(t, rng, "cat")
    v, sv = lit(t, g, rng)
    p = rng.choice([5, 10, 15, 20])
    return dict(T=t.spoken, C=c.spoken, G=g.spoken, V=sv, P=p,
                sql=f"UPDATE {t.name} SET {c.name} = {c.name} * {1 + p / 100} WHERE {g.name} = {v};")


@template("basic SQL", "data manipulation", [
    "Can you delete the {T} with {C} before {V}?", "Remove all {T} whose {C} is earlier than {V}.", "delete {T}, {C} < {V}"],
    "Deletes rows older than a date.")
def delete_before(db, rng):
    t = table_with(db, rng, "date")
    if any(db.children(t)):
        raise Skip  # deleting parents would orphan rows
    c = col(t, rng, "date")
    vals = t.values(c)
    v = pick(rng, [x for x in vals if x > min(vals)])  # at least one row is older
    return dict(T=t.spoken, C=c.spoken, V=v, sql=f"DELETE FROM {t.name} WHERE {c.name} < {sql_literal(v)};")


@template("basic SQL", "data manipulation", [
    "How do I mark the {one} {V} as {C}?", "Set {C} to true for the {one} named {V}.", "flag {V} as {C}"],
    "Updates a boolean flag for one row.")
def update_flag(db, rng):
    t = table_with(db, rng, "bool", label=True)
    c = col(t, rng, "bool")
    v, sv = lit(t, t.label, rng)
    return dict(one=t.spoken_one, C=c.spoken, V=sv, sql=f"UPDATE {t.name} SET {c.name} = 1 WHERE {t.label.name} = {v};")


@template("subqueries", "data manipulation", [
    "Can you delete all {C} of the {P1} {V}?", "Remove every {C1} that belongs to the {P1} named {V}.",
    "delete {C} for {P1} {V}"],
    "Deletes child rows found through a subquery on the parent.")
def delete_children(db, rng):
    child, fk, parent = join(db, rng)
    if any(db.children(child)):
        raise Skip
    v, sv = lit_linked(child, fk, parent, parent.label, rng)
    return dict(C=child.spoken, C1=child.spoken_one, P1=parent.spoken_one, V=sv,
                sql=f"DELETE FROM {child.name} WHERE {fk} IN (SELECT {parent.pk} FROM {parent.name} "
                    f"WHERE {parent.label.name} = {v});")


@template("basic SQL", "data manipulation", [
    "How can I fill in missing {C} values of {T} with {V}?", "Set {C} to {V} wherever it is empty in {T}.",
    "{T}: null {C} -> {V}"],
    "Replaces NULLs with a default.")
def update_nulls(db, rng):
    t = table_with(db, rng)
    c = next((c for c in t.columns if c is not t.label and c.role in ("num", "cat", "text")
              and any(r[c.name] is None for r in t.rows)), None)
    if c is None:
        raise Skip
    v, sv = lit(t, c, rng)
    return dict(T=t.spoken, C=c.spoken, V=sv, sql=f"UPDATE {t.name} SET {c.name} = {v} WHERE {c.name} IS NULL;")


@template("basic SQL", "data definition", [
    "How do I add a {NEW} column to the {T} table?", "Add a column named {COL} ({TYPE}) to {T}.", "alter {T}: add {COL} {TYPE}"],
    "ALTER TABLE ... ADD COLUMN.")
def add_column(db, rng):
    t = table_with(db, rng)
    new, typ = rng.choice([("notes", "TEXT"), ("updated_at", "DATE"), ("is_archived", "BOOLEAN"), ("priority", "INTEGER"),
                           ("discount", "DECIMAL(5,2)"), ("region", "VARCHAR(50)"), ("rating", "REAL")])
    colname = db.style.sql(new)
    if colname.lower() in {c.name.lower() for c in t.columns}:
        raise Skip
    return dict(T=t.spoken, NEW=new.replace("_", " "), COL=colname, TYPE=typ,
                sql=f"ALTER TABLE {t.name} ADD COLUMN {colname} {typ};")


@template("basic SQL", "data definition", [
    "How can I speed up lookups of {T} by {C}?", "Create an index on the {C} column of {T}.", "index {T}({C})"],
    "CREATE INDEX on a frequently filtered column.")
def create_index(db, rng):
    t = table_with(db, rng)
    c = rng.choice(t.columns)
    return dict(T=t.spoken, C=c.spoken, sql=f"CREATE INDEX idx_{t.spec.name}_{c.spec.name} ON {t.name} ({c.name});")


@template("aggregation", "data definition", [
    "Can you create a view that shows the number of {T} per {G}?", "Create a view named {V} with the count of {T} for each {G}.",
    "view {V}: {T} per {G}"],
    "CREATE VIEW over an aggregate.")
def create_view(db, rng):
    t = table_with(db, rng, "cat")
    g = col(t, rng, "cat")
    v = f"{t.spec.singular}_counts_by_{g.spec.name}"
    return dict(T=t.spoken, G=g.spoken, V=v,
                sql=f"CREATE VIEW {v} AS SELECT {g.name}, COUNT(*) AS n FROM {t.name} GROUP BY {g.name};")


@template("basic SQL", "data definition", [
    "How would I create a table for {WHAT} with {COLS}?", "Create a {NAME} table with columns {COLS}.",
    "DDL: {NAME}({COLS})"],
    "CREATE TABLE with typed columns and a primary key.")
def create_table_new(db, rng):
    name, spec = rng.choice([
        ("suppliers_contacts", [("contact_name", "TEXT"), ("phone", "VARCHAR(20)"), ("email", "VARCHAR(100)")]),
        ("price_history", [("item_name", "TEXT"), ("price", "DECIMAL(10,2)"), ("changed_on", "DATE")]),
        ("feedback", [("author", "TEXT"), ("rating", "INTEGER"), ("comment", "TEXT"), ("created_on", "DATE")]),
        ("budgets", [("year", "INTEGER"), ("amount", "DECIMAL(12,2)"), ("approved", "BOOLEAN")]),
        ("locations", [("city", "TEXT"), ("country", "TEXT"), ("opened_on", "DATE")]),
    ])
    table = db.style.sql(name)
    cols = ", ".join(f"{db.style.sql(c)} {typ}" for c, typ in spec)
    spoken = ", ".join(f"{c.replace('_', ' ')} ({typ.split('(')[0].lower()})" for c, typ in spec)
    return dict(WHAT=name.replace("_", " "), NAME=table, COLS=spoken,
                sql=f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, {cols});")


@template("basic SQL", "data definition", [
    "How do I remove the {T} table if it exists?", "Drop the table {NAME} if it exists.", "drop {NAME}"],
    "DROP TABLE IF EXISTS.")
def drop_table(db, rng):
    if not db.extra:
        raise Skip  # only the unrelated tables: dropping a domain table breaks its foreign keys
    t = rng.choice(db.extra)
    return dict(T=t.spoken, NAME=t.name, sql=f"DROP TABLE IF EXISTS {t.name};")

