"""Templates: aggregation (analytics and reporting)."""

from __future__ import annotations

from nl2sql.synth.templates.base import Skip, col, lit, table_with, template, year_of


@template("aggregation", "analytics and reporting", [
    "How many {T} are there?", "Count the {T}.", "total # of {T}"], "Counts the rows of {T}.")
def count_all(db, rng):
    t = table_with(db, rng)
    return dict(T=t.spoken, sql=f"SELECT COUNT(*) FROM {t.name};")


@template("aggregation", "analytics and reporting", [
    "How many {T} have a {C} of {V}?", "Count the {T} whose {C} is {V}.", "# {T} with {C} {V}"],
    "Counts {T} with {C} = {V}.")
def count_where(db, rng):
    t = table_with(db, rng, "cat")
    c = col(t, rng, "cat")
    v, sv = lit(t, c, rng)
    return dict(T=t.spoken, C=c.spoken, V=sv, sql=f"SELECT COUNT(*) FROM {t.name} WHERE {c.name} = {v};")


@template("aggregation", "analytics and reporting", [
    "What is the average {C} of {T}?", "Calculate the mean {C} across all {T}.", "avg {C} of {T}"],
    "Uses AVG over {C}.")
def avg_all(db, rng):
    t = table_with(db, rng, "num")
    c = col(t, rng, "num")
    return dict(T=t.spoken, C=c.spoken, sql=f"SELECT AVG({c.name}) FROM {t.name};")


@template("aggregation", "analytics and reporting", [
    "What is the total {C} of {T} with {C2} {V}?", "Sum the {C} of all {T} whose {C2} is {V}.",
    "total {C}, {T}, {C2} = {V}"],
    "Adds up {C} for the matching rows.")
def sum_where(db, rng):
    t = table_with(db, rng, "num", "cat")
    c, c2 = col(t, rng, "num"), col(t, rng, "cat")
    v, sv = lit(t, c2, rng)
    return dict(T=t.spoken, C=c.spoken, C2=c2.spoken, V=sv,
                sql=f"SELECT SUM({c.name}) FROM {t.name} WHERE {c2.name} = {v};")


@template("aggregation", "analytics and reporting", [
    "What are the highest and lowest {C} among {T}?", "Find the maximum and minimum {C} of {T}.", "max/min {C} for {T}"],
    "Uses MAX and MIN together.")
def max_min(db, rng):
    t = table_with(db, rng, "num")
    c = col(t, rng, "num")
    return dict(T=t.spoken, C=c.spoken, sql=f"SELECT MAX({c.name}), MIN({c.name}) FROM {t.name};")


@template("aggregation", "analytics and reporting", [
    "How many {T} are there for each {C}?", "Count the {T} per {C}.", "{T} count by {C}"],
    "Groups by {C} and counts.")
def count_by(db, rng):
    t = table_with(db, rng, "cat")
    c = col(t, rng, "cat")
    return dict(T=t.spoken, C=c.spoken, sql=f"SELECT {c.name}, COUNT(*) FROM {t.name} GROUP BY {c.name};")


@template("aggregation", "analytics and reporting", [
    "What is the average {C} for each {G}?", "Show the average {C} of {T} grouped by {G}.", "avg {C} per {G}"],
    "Groups {T} by {G} and averages {C}.")
def avg_by(db, rng):
    t = table_with(db, rng, "cat", "num")
    g, c = col(t, rng, "cat"), col(t, rng, "num")
    return dict(T=t.spoken, C=c.spoken, G=g.spoken,
                sql=f"SELECT {g.name}, AVG({c.name}) AS avg_value FROM {t.name} GROUP BY {g.name};")


@template("aggregation", "analytics and reporting", [
    "Which {G}s have more than {K} {T}?", "List each {G} with over {K} {T}, with the count.",
    "{G} having > {K} {T}"],
    "Filters groups with HAVING COUNT(*).")
def having_count(db, rng):
    t = table_with(db, rng, "cat")
    g = col(t, rng, "cat")
    vals = t.values(g)
    top = max(vals.count(v) for v in set(vals)) if vals else 0
    if top < 2:
        raise Skip
    k = rng.randrange(1, top)
    return dict(T=t.spoken, G=g.spoken, K=k,
                sql=f"SELECT {g.name}, COUNT(*) AS n FROM {t.name} GROUP BY {g.name} HAVING COUNT(*) > {k};")


@template("aggregation", "analytics and reporting", [
    "How many different {C}s do the {T} have?", "Count the distinct {C} values among {T}.", "# unique {C} in {T}"],
    "Uses COUNT(DISTINCT ...).")
def count_distinct(db, rng):
    t = table_with(db, rng, "cat")
    c = col(t, rng, "cat")
    return dict(T=t.spoken, C=c.spoken, sql=f"SELECT COUNT(DISTINCT {c.name}) FROM {t.name};")


@template("aggregation", "analytics and reporting", [
    "What is the total {C} per month, by {D}?", "Report the monthly total of {C} for {T} based on {D}.",
    "monthly {C} totals ({D})"],
    "Groups by month with strftime('%Y-%m', ...).")
def monthly_sum(db, rng):
    t = table_with(db, rng, "num", "date")
    c, d = col(t, rng, "num"), col(t, rng, "date")
    return dict(T=t.spoken, C=c.spoken, D=d.spoken,
                sql=f"SELECT strftime('%Y-%m', {d.name}) AS month, SUM({c.name}) AS total FROM {t.name} "
                    f"GROUP BY month ORDER BY month;")


@template("aggregation", "analytics and reporting", [
    "Which {G} has the highest total {C}?", "Find the {G} with the largest sum of {C}.", "top {G} by total {C}"],
    "Groups, orders by SUM descending, keeps one.")
def top_group(db, rng):
    t = table_with(db, rng, "cat", "num")
    g, c = col(t, rng, "cat"), col(t, rng, "num")
    return dict(G=g.spoken, C=c.spoken,
                sql=f"SELECT {g.name}, SUM({c.name}) AS total FROM {t.name} GROUP BY {g.name} ORDER BY total DESC LIMIT 1;")


@template("aggregation", "analytics and reporting", [
    "How many {T} were there in each year, by {D}?", "Count {T} per year of {D}.", "yearly {T} count ({D})"],
    "Groups by the year of {D}.")
def count_per_year(db, rng):
    t = table_with(db, rng, "date")
    d = col(t, rng, "date")
    return dict(T=t.spoken, D=d.spoken,
                sql=f"SELECT strftime('%Y', {d.name}) AS year, COUNT(*) FROM {t.name} GROUP BY year ORDER BY year;")


@template("aggregation", "analytics and reporting", [
    "What percentage of {T} are {C}?", "Calculate the share of {T} that are {C}, as a percentage.",
    "% {C} {T}"],
    "Averages a CASE expression and scales it to a percentage.")
def percent_bool(db, rng):
    t = table_with(db, rng, "bool")
    c = col(t, rng, "bool")
    return dict(T=t.spoken, C=c.spoken,
                sql=f"SELECT 100.0 * SUM(CASE WHEN {c.name} = 1 THEN 1 ELSE 0 END) / COUNT(*) AS pct FROM {t.name};")


@template("aggregation", "analytics and reporting", [
    "What is the average {C} of {T} with {D} in {Y}?", "Compute the mean {C} for {T} whose {D} is in {Y}.",
    "avg {C}, {T}, {Y}"],
    "Averages {C} over one year of {D}.")
def avg_in_year(db, rng):
    t = table_with(db, rng, "num", "date")
    c, d = col(t, rng, "num"), col(t, rng, "date")
    y = year_of(t, d, rng)
    return dict(T=t.spoken, C=c.spoken, D=d.spoken, Y=y,
                sql=f"SELECT AVG({c.name}) FROM {t.name} WHERE strftime('%Y', {d.name}) = '{y}';")


@template("aggregation", "analytics and reporting", [
    "What is the difference between the highest and lowest {C} of {T}?", "Compute the range of {C} across {T}.",
    "{C} spread (max - min), {T}"],
    "Subtracts MIN from MAX.")
def value_range(db, rng):
    t = table_with(db, rng, "num")
    c = col(t, rng, "num")
    return dict(T=t.spoken, C=c.spoken, sql=f"SELECT MAX({c.name}) - MIN({c.name}) AS value_range FROM {t.name};")
