"""Templates: basic SQL (data retrieval)."""

from __future__ import annotations

from nl2sql.synth.world import sql_literal
from nl2sql.synth.templates.base import (Skip, col, label_or_id, lit, pick, table_with, template, threshold,
                                         year_of)


@template("basic SQL", "data retrieval", [
    "What are the {L}s of all {T}?", "List the {L} of every {one}.", "all {one} {L}s"],
    "Selects the {L} column from the {T} table.")
def list_labels(db, rng):
    t = table_with(db, rng, label=True)
    return dict(T=t.spoken, one=t.spoken_one, L=t.label.spoken, sql=f"SELECT {t.label.name} FROM {t.name};")


@template("basic SQL", "data retrieval", [
    "Which {T} have a {C} of {V}?", "Show the {L}s of {T} whose {C} is {V}.", "{T} with {C} = {V}: {L}s"],
    "Filters {T} on {C} equal to {V}.")
def filter_category(db, rng):
    t = table_with(db, rng, "cat", label=True)
    c = col(t, rng, "cat")
    v, spoken = lit(t, c, rng)
    return dict(T=t.spoken, L=t.label.spoken, C=c.spoken, V=spoken,
                sql=f"SELECT {t.label.name} FROM {t.name} WHERE {c.name} = {v};")


@template("basic SQL", "data retrieval", [
    "Which {T} have a {C} above {V}?", "List {T} with {C} greater than {V}, showing {L} and {C}.",
    "{L} and {C} of {T} where {C} > {V}"],
    "Returns {T} whose {C} exceeds {V}.")
def filter_greater(db, rng):
    t = table_with(db, rng, "num", label=True)
    c = col(t, rng, "num")
    v, spoken = threshold(t, c, rng)
    return dict(T=t.spoken, L=t.label.spoken, C=c.spoken, V=spoken,
                sql=f"SELECT {t.label.name}, {c.name} FROM {t.name} WHERE {c.name} > {v};")


@template("basic SQL", "data retrieval", [
    "Which {T} have a {C} below {V}?", "Find the {T} whose {C} is less than {V}.", "{T} under {V} {C}"],
    "Returns every column of {T} whose {C} is below {V}.")
def filter_less_star(db, rng):
    t = table_with(db, rng, "num")
    c = col(t, rng, "num")
    v, spoken = threshold(t, c, rng)
    return dict(T=t.spoken, C=c.spoken, V=spoken, sql=f"SELECT * FROM {t.name} WHERE {c.name} < {v};")


@template("basic SQL", "data retrieval", [
    "Which {T} have a {C} between {A} and {B}?", "Get the {L} of {T} with {C} from {A} to {B}.",
    "{T}, {C} between {A} and {B}"],
    "Uses BETWEEN to keep {T} with {C} in a range.")
def filter_between(db, rng):
    t = table_with(db, rng, "num", label=True)
    c = col(t, rng, "num")
    (a, sa), (b, sb) = sorted([threshold(t, c, rng), threshold(t, c, rng)], key=lambda x: float(x[0]))
    if a == b:
        raise Skip
    return dict(T=t.spoken, L=t.label.spoken, C=c.spoken, A=sa, B=sb,
                sql=f"SELECT {t.label.name} FROM {t.name} WHERE {c.name} BETWEEN {a} AND {b};")


@template("basic SQL", "data retrieval", [
    "Which {T} have a {C} after {V}?", "List all {T} with {C} later than {V}.", "{T} since {V} ({C})"],
    "Compares the {C} date with {V}.")
def filter_after_date(db, rng):
    t = table_with(db, rng, "date")
    c = col(t, rng, "date")
    v, spoken = threshold(t, c, rng)
    return dict(T=t.spoken, C=c.spoken, V=spoken, sql=f"SELECT * FROM {t.name} WHERE {c.name} > {v};")


@template("basic SQL", "data retrieval", [
    "List the {L}s of {T} with a {C} after {Y}.", "Which {T} have a {C} later than the year {Y}?",
    "{T} {C} after {Y} - {L}s"],
    "A date after a whole year starts on January 1st of the next year: {C} >= 'Y+1-01-01'.", train_only=True)
def filter_after_year(db, rng):
    return _against_year(db, rng, ">=", 1)


def _against_year(db, rng, op: str, shift: int) -> dict:
    """Labels of rows whose date compares by `op` with January 1st of a year in the data plus `shift`."""
    t = table_with(db, rng, "date", label=True)
    c = col(t, rng, "date")
    y = int(year_of(t, c, rng))
    return dict(T=t.spoken, C=c.spoken, Y=y, L=t.label.spoken,
                sql=f"SELECT {t.label.name} FROM {t.name} WHERE {c.name} {op} '{y + shift}-01-01';")


@template("basic SQL", "data retrieval", [
    "List the {L}s of {T} with a {C} before {Y}.", "Which {T} have a {C} earlier than the year {Y}?",
    "{T} {C} before {Y} - {L}s"],
    "A date before a whole year is before January 1st of it: {C} < 'Y-01-01'.", train_only=True)
def filter_before_year(db, rng):
    return _against_year(db, rng, "<", 0)


@template("basic SQL", "data retrieval", [
    "Which {T} are {C}?", "Show the {L} of each {one} that is {C}.", "{C} {T} - {L}s"],
    "Filters on the boolean {C} flag.")
def filter_bool(db, rng):
    t = table_with(db, rng, "bool", label=True)
    c = col(t, rng, "bool")
    return dict(T=t.spoken, one=t.spoken_one, L=t.label.spoken, C=c.spoken,
                sql=f"SELECT {t.label.name} FROM {t.name} WHERE {c.name} = 1;")


@template("basic SQL", "data retrieval", [
    "Which {T} are not {C}?", "Count how many {T} are not {C}.", "# of non-{C} {T}"],
    "Counts {T} whose {C} flag is false.")
def count_not_bool(db, rng):
    t = table_with(db, rng, "bool")
    c = col(t, rng, "bool")
    return dict(T=t.spoken, C=c.spoken, sql=f"SELECT COUNT(*) FROM {t.name} WHERE {c.name} = 0;")


@template("basic SQL", "data retrieval", [
    "What are the {L}s and {C}s of all {T}, from highest {C} to lowest?",
    "List {T} by {C} in descending order, with their {L}.", "{T} {L} + {C}, sorted by {C} desc"],
    "Orders {T} by {C} descending.")
def order_desc(db, rng):
    t = table_with(db, rng, "num", label=True)
    c = col(t, rng, "num")
    return dict(T=t.spoken, L=t.label.spoken, C=c.spoken,
                sql=f"SELECT {t.label.name}, {c.name} FROM {t.name} ORDER BY {c.name} DESC;")


@template("basic SQL", "data retrieval", [
    "What are the top {N} {T} by {C}?", "Show the {N} {T} with the highest {C}.", "top {N} {T} by {C}"],
    "Sorts by {C} descending and keeps the first {N} rows.")
def top_n(db, rng):
    t = table_with(db, rng, "num")
    c = col(t, rng, "num")
    name, spoken = label_or_id(t)
    n = rng.choice([3, 5, 10])
    return dict(T=t.spoken, C=c.spoken, N=n,
                sql=f"SELECT {name}, {c.name} FROM {t.name} ORDER BY {c.name} DESC LIMIT {n};")


@template("basic SQL", "data retrieval", [
    "Which {one} has the lowest {C}?", "Find the {one} with the smallest {C}.", "min {C} {one}"],
    "Sorts ascending by {C} and takes one row.")
def lowest_one(db, rng):
    t = table_with(db, rng, "num", label=True)
    c = col(t, rng, "num")
    return dict(one=t.spoken_one, C=c.spoken,
                sql=f"SELECT {t.label.name} FROM {t.name} WHERE {c.name} IS NOT NULL ORDER BY {c.name} ASC LIMIT 1;")


@template("basic SQL", "data retrieval", [
    "What are the distinct {C}s of {T}?", "List each different {C} found among {T}.", "unique {C} values in {T}"],
    "Uses DISTINCT to list each {C} once.")
def distinct_values(db, rng):
    t = table_with(db, rng, "cat")
    c = col(t, rng, "cat")
    return dict(T=t.spoken, C=c.spoken, sql=f"SELECT DISTINCT {c.name} FROM {t.name};")


@template("basic SQL", "data retrieval", [
    "Which {T} have a {L} starting with '{P}'?", "Find {T} whose {L} begins with {P}.", "{T} {L} like '{P}%'"],
    "Matches the start of {L} with LIKE.")
def like_prefix(db, rng):
    t = table_with(db, rng, label=True)
    v = str(pick(rng, t.values(t.label)))
    p = v[: rng.choice([1, 2, 3])].replace("'", "")
    if not p.strip():
        raise Skip
    return dict(T=t.spoken, L=t.label.spoken, P=p,
                sql=f"SELECT {t.label.name} FROM {t.name} WHERE {t.label.name} LIKE '{p}%';")


@template("basic SQL", "data retrieval", [
    "Which {T} have no {C} recorded?", "List the {T} where the {C} is missing.", "{T} with null {C}"],
    "Uses IS NULL to find missing {C} values.")
def is_null(db, rng):
    t = table_with(db, rng)
    c = pick(rng, [c for c in t.columns if c is not t.label and any(r[c.name] is None for r in t.rows)])
    name, _ = label_or_id(t)
    return dict(T=t.spoken, C=c.spoken, sql=f"SELECT {name} FROM {t.name} WHERE {c.name} IS NULL;")


@template("basic SQL", "data retrieval", [
    "Which {T} have a {C} of {A} or {B}?", "Show {T} whose {C} is either {A} or {B}.", "{T} where {C} in ({A}, {B})"],
    "Uses IN with two {C} values.")
def filter_in(db, rng):
    t = table_with(db, rng, "cat")
    c = col(t, rng, "cat")
    vals = sorted(set(t.values(c)))
    if len(vals) < 2:
        raise Skip
    a, b = rng.sample(vals, 2)
    return dict(T=t.spoken, C=c.spoken, A=a, B=b,
                sql=f"SELECT * FROM {t.name} WHERE {c.name} IN ({sql_literal(a)}, {sql_literal(b)});")


@template("basic SQL", "data retrieval", [
    "Which {T} have a {C} of {V} and a {C2} over {X}?", "Find {T} with {C} {V} and {C2} above {X}.",
    "{T}: {C}={V}, {C2}>{X}"],
    "Combines two conditions with AND.")
def filter_and(db, rng):
    t = table_with(db, rng, "cat", "num")
    c, c2 = col(t, rng, "cat"), col(t, rng, "num")
    row = pick(rng, [r for r in t.rows if r[c.name] is not None and r[c2.name] is not None])
    v, sv = sql_literal(row[c.name]), str(row[c.name])
    below = [x for x in t.values(c2) if x < row[c2.name]]
    x = max(below) if below and rng.random() < 0.5 else (min(below) if below else int(row[c2.name]) - 1)
    x, sx = sql_literal(x), str(x)
    name, _ = label_or_id(t)
    return dict(T=t.spoken, C=c.spoken, V=sv, C2=c2.spoken, X=sx,
                sql=f"SELECT {name} FROM {t.name} WHERE {c.name} = {v} AND {c2.name} > {x};")


@template("basic SQL", "data retrieval", [
    "Which {T} have a {C} in {Y}?", "List the {T} whose {C} falls in the year {Y}.", "{T} from {Y} (by {C})"],
    "Extracts the year with strftime('%Y', ...).")
def filter_year(db, rng):
    t = table_with(db, rng, "date")
    c = col(t, rng, "date")
    y = year_of(t, c, rng)
    return dict(T=t.spoken, C=c.spoken, Y=y, sql=f"SELECT * FROM {t.name} WHERE strftime('%Y', {c.name}) = '{y}';")


@template("basic SQL", "data retrieval", [
    "What are the {L}s of {T} in alphabetical order?", "Sort the {T} by {L} from A to Z.", "{T} {L}s A-Z"],
    "Orders by {L} ascending.")
def order_alpha(db, rng):
    t = table_with(db, rng, label=True)
    return dict(T=t.spoken, L=t.label.spoken, sql=f"SELECT {t.label.name} FROM {t.name} ORDER BY {t.label.name} ASC;")


@template("basic SQL", "data retrieval", [
    "What are the details of the {one} whose {L} is {V}?", "Show everything about the {one} named {V}.",
    "{one} {V} - all fields"],
    "Selects all columns for one {one}.")
def details_of(db, rng):
    t = table_with(db, rng, label=True)
    v, spoken = lit(t, t.label, rng)
    return dict(one=t.spoken_one, L=t.label.spoken, V=spoken, sql=f"SELECT * FROM {t.name} WHERE {t.label.name} = {v};")
