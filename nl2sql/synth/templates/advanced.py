"""Templates: window functions, set operations and CTEs."""

from __future__ import annotations

from nl2sql.synth.templates.base import Skip, col, join, label_or_id, lit, table_with, template, threshold
from nl2sql.synth.world import sql_literal


@template("window functions", "analytics and reporting", [
    "How do the {T} rank by {C}?", "Rank all {T} by {C}, highest first.", "{T} ranked by {C}"],
    "RANK() over {C} descending.")
def rank_all(db, rng):
    t = table_with(db, rng, "num")
    c = col(t, rng, "num")
    name, _ = label_or_id(t)
    return dict(T=t.spoken, C=c.spoken,
                sql=f"SELECT {name}, {c.name}, RANK() OVER (ORDER BY {c.name} DESC) AS rnk FROM {t.name};")


@template("window functions", "analytics and reporting", [
    "How does each {one} rank by {C} within its {G}?", "Rank {T} by {C} inside each {G}.", "{C} rank per {G}"],
    "RANK() partitioned by {G}.")
def rank_partition(db, rng):
    t = table_with(db, rng, "num", "cat")
    c, g = col(t, rng, "num"), col(t, rng, "cat")
    name, _ = label_or_id(t)
    return dict(T=t.spoken, one=t.spoken_one, C=c.spoken, G=g.spoken,
                sql=f"SELECT {name}, {g.name}, {c.name}, RANK() OVER (PARTITION BY {g.name} ORDER BY {c.name} DESC) "
                    f"AS rnk FROM {t.name};")


@template("window functions", "analytics and reporting", [
    "What is the running total of {C} over time by {D}?", "Show the cumulative {C} of {T} ordered by {D}.",
    "cumulative {C} by {D}"],
    "SUM() OVER an ordering by date.")
def running_total(db, rng):
    t = table_with(db, rng, "num", "date")
    c, d = col(t, rng, "num"), col(t, rng, "date")
    return dict(T=t.spoken, C=c.spoken, D=d.spoken,
                sql=f"SELECT {d.name}, {c.name}, SUM({c.name}) OVER (ORDER BY {d.name}, {t.pk}) AS running_total "
                    f"FROM {t.name} ORDER BY {d.name}, {t.pk};")


@template("window functions", "analytics and reporting", [
    "Which {one} has the highest {C} in each {G}?", "For every {G}, find the {one} with the top {C}.",
    "top {one} by {C} per {G}"],
    "ROW_NUMBER() per {G} in a subquery, keeping the first row.")
def top_per_group(db, rng):
    t = table_with(db, rng, "num", "cat")
    c, g = col(t, rng, "num"), col(t, rng, "cat")
    name, _ = label_or_id(t)
    return dict(T=t.spoken, one=t.spoken_one, C=c.spoken, G=g.spoken,
                sql=f"SELECT {g.name}, {name}, {c.name} FROM (SELECT {g.name}, {name}, {c.name}, ROW_NUMBER() OVER "
                    f"(PARTITION BY {g.name} ORDER BY {c.name} DESC) AS rn FROM {t.name}) AS ranked WHERE rn = 1;")


@template("window functions", "analytics and reporting", [
    "How did {C} change from one {one} to the next by {D}?", "Show each {one}'s {C} and the previous {C}, ordered by {D}.",
    "{C} vs previous (by {D})"],
    "LAG() gives the previous row's value.")
def lag_change(db, rng):
    t = table_with(db, rng, "num", "date")
    c, d = col(t, rng, "num"), col(t, rng, "date")
    return dict(one=t.spoken_one, C=c.spoken, D=d.spoken,
                sql=f"SELECT {d.name}, {c.name}, {c.name} - LAG({c.name}) OVER (ORDER BY {d.name}, {t.pk}) AS change "
                    f"FROM {t.name};")


@template("window functions", "analytics and reporting", [
    "What share of the total {C} does each {one} account for?", "Compute each {one}'s {C} as a percentage of all {T}.",
    "{C} % of total per {one}"],
    "Divides by SUM() OVER () for a share of the total.")
def share_of_total(db, rng):
    t = table_with(db, rng, "num")
    c = col(t, rng, "num")
    name, _ = label_or_id(t)
    return dict(T=t.spoken, one=t.spoken_one, C=c.spoken,
                sql=f"SELECT {name}, {c.name}, 100.0 * {c.name} / SUM({c.name}) OVER () AS pct_of_total FROM {t.name};")


@template("window functions", "analytics and reporting", [
    "Into which quartile of {C} does each {one} fall?", "Split {T} into four {C} quartiles.", "{C} quartiles, {T}"],
    "NTILE(4) over {C}.")
def ntile_quartile(db, rng):
    t = table_with(db, rng, "num")
    c = col(t, rng, "num")
    name, _ = label_or_id(t)
    return dict(T=t.spoken, one=t.spoken_one, C=c.spoken,
                sql=f"SELECT {name}, {c.name}, NTILE(4) OVER (ORDER BY {c.name}) AS quartile FROM {t.name};")


@template("set operations", "data retrieval", [
    "Which {T} have a {C} of {V} or a {X} above {N}?", "List {T} with {C} {V}, plus those with {X} over {N}.",
    "{T}: {C} = {V} UNION {X} > {N}"],
    "UNION of two filters (duplicates removed).")
def union_filters(db, rng):
    t = table_with(db, rng, "cat", "num")
    c, x = col(t, rng, "cat"), col(t, rng, "num")
    v, sv = lit(t, c, rng)
    n, sn = threshold(t, x, rng)
    name, _ = label_or_id(t)
    return dict(T=t.spoken, C=c.spoken, V=sv, X=x.spoken, N=sn,
                sql=f"SELECT {name} FROM {t.name} WHERE {c.name} = {v} UNION SELECT {name} FROM {t.name} WHERE {x.name} > {n};")


def _two_values(child, fk, parent, g, rng, combine):
    """Two values of child column `g` whose parent-label sets, combined (EXCEPT or INTERSECT), are non-empty."""
    labels = {}
    pl = {r[parent.pk]: r[parent.label.name] for r in parent.rows}
    for r in child.rows:
        if r[g.name] is not None and r[fk] in pl:
            labels.setdefault(r[g.name], set()).add(pl[r[fk]])
    pairs = [(v, w) for v in labels for w in labels if v != w and combine(labels[v], labels[w])]
    if not pairs:
        raise Skip
    return rng.choice(sorted(pairs))


def _two_labelled(db, rng):
    with_city = [(t, c) for t in db.tables + db.extra for c in t.columns if c.spec.kind in ("city", "country", "person")]
    if len(with_city) < 2:
        raise Skip
    (t1, c1), (t2, c2) = rng.sample(with_city, 2)
    if c1.spec.kind != c2.spec.kind or t1 is t2:
        raise Skip
    return t1, c1, t2, c2


@template("set operations", "data retrieval", [
    "Which {K}s appear among both {A} and {B}?", "Find the {K} values that {A} and {B} have in common.",
    "common {K}s: {A} ∩ {B}"],
    "INTERSECT of the same kind of value from two tables.")
def intersect_values(db, rng):
    t1, c1, t2, c2 = _two_labelled(db, rng)
    return dict(K=c1.spec.kind if c1.spec.kind != "person" else "name", A=t1.spoken, B=t2.spoken,
                sql=f"SELECT {c1.name} FROM {t1.name} INTERSECT SELECT {c2.name} FROM {t2.name};")


@template("set operations", "data retrieval", [
    "Which {K}s of {A} do not appear among {B}?", "List {A} {K}s that are missing from {B}.", "{A} {K}s except {B}"],
    "EXCEPT removes the values found in the second table.")
def except_values(db, rng):
    t1, c1, t2, c2 = _two_labelled(db, rng)
    return dict(K=c1.spec.kind if c1.spec.kind != "person" else "name", A=t1.spoken, B=t2.spoken,
                sql=f"SELECT {c1.name} FROM {t1.name} EXCEPT SELECT {c2.name} FROM {t2.name};")


@template("set operations", "data retrieval", [
    "Which {P} have {C} with {G} {V} but none with {G} {W}?",
    "List {P} that have {C} of {G} {V} and no {C} of {G} {W}.", "{P}: {G} {V} yes, {W} no"],
    "EXCEPT between two sets of parents.")
def except_parents(db, rng):
    child, fk, parent = join(db, rng)
    g = col(child, rng, "cat")
    v, w = _two_values(child, fk, parent, g, rng, lambda a, b: a - b)
    base = f"SELECT p.{parent.label.name} FROM {parent.name} AS p JOIN {child.name} AS c ON c.{fk} = p.{parent.pk}"
    return dict(P=parent.spoken, C=child.spoken, G=g.spoken, V=v, W=w,
                sql=f"{base} WHERE c.{g.name} = {sql_literal(v)} EXCEPT {base} WHERE c.{g.name} = {sql_literal(w)};")


@template("set operations", "data retrieval", [
    "Which {P} have both {C} with {G} {V} and {C} with {G} {W}?", "Find {P} with {G} {V} {C} as well as {G} {W} ones.",
    "{P}: {G} {V} AND {W}"],
    "INTERSECT between two sets of parents.")
def intersect_parents(db, rng):
    child, fk, parent = join(db, rng)
    g = col(child, rng, "cat")
    v, w = _two_values(child, fk, parent, g, rng, lambda a, b: a & b)
    base = f"SELECT p.{parent.label.name} FROM {parent.name} AS p JOIN {child.name} AS c ON c.{fk} = p.{parent.pk}"
    return dict(P=parent.spoken, C=child.spoken, G=g.spoken, V=v, W=w,
                sql=f"{base} WHERE c.{g.name} = {sql_literal(v)} INTERSECT {base} WHERE c.{g.name} = {sql_literal(w)};")


@template("CTEs", "analytics and reporting", [
    "Which {P} have a total {X} of {C} above the average total?",
    "Using per-{P1} totals of {X}, list the {P} above the average total.", "{P} w/ above-avg total {X}"],
    "A CTE computes totals per parent; the outer query compares them with their average.")
def cte_above_avg_total(db, rng):
    child, fk, parent = join(db, rng)
    x = col(child, rng, "num")
    return dict(P=parent.spoken, P1=parent.spoken_one, C=child.spoken, X=x.spoken,
                sql=f"WITH totals AS (SELECT p.{parent.label.name} AS label, SUM(c.{x.name}) AS total FROM {child.name} AS c "
                    f"JOIN {parent.name} AS p ON c.{fk} = p.{parent.pk} GROUP BY p.{parent.pk}, p.{parent.label.name}) "
                    f"SELECT label, total FROM totals WHERE total > (SELECT AVG(total) FROM totals);")


@template("CTEs", "analytics and reporting", [
    "What is the largest {G} by number of {T}, computed with a CTE?", "With a CTE of counts per {G}, find the biggest {G}.",
    "biggest {G} (count of {T}) via CTE"],
    "A CTE counts per {G}; the outer query picks the maximum.")
def cte_max_group(db, rng):
    t = table_with(db, rng, "cat")
    g = col(t, rng, "cat")
    return dict(T=t.spoken, G=g.spoken,
                sql=f"WITH counts AS (SELECT {g.name}, COUNT(*) AS n FROM {t.name} GROUP BY {g.name}) "
                    f"SELECT {g.name}, n FROM counts ORDER BY n DESC LIMIT 1;")


@template("CTEs", "analytics and reporting", [
    "In which months was the total {C} above the monthly average?", "Find the months whose total {C} of {T} beats the average month.",
    "months w/ above-avg {C}"],
    "A CTE totals {C} per month of {D}; the outer query keeps months above the average.")
def cte_monthly(db, rng):
    t = table_with(db, rng, "num", "date")
    c, d = col(t, rng, "num"), col(t, rng, "date")
    return dict(T=t.spoken, C=c.spoken, D=d.spoken,
                sql=f"WITH monthly AS (SELECT strftime('%Y-%m', {d.name}) AS month, SUM({c.name}) AS total FROM {t.name} "
                    f"WHERE {d.name} IS NOT NULL GROUP BY month) SELECT month, total FROM monthly "
                    f"WHERE total >= (SELECT AVG(total) FROM monthly) ORDER BY month;")


@template("CTEs", "analytics and reporting", [
    "For each {G}, which {one} has the highest {C}, using a CTE?", "Use a CTE with ROW_NUMBER to get the top {one} by {C} per {G}.",
    "CTE: best {one} per {G} by {C}"],
    "A CTE numbers rows per {G}; the outer query keeps the first.")
def cte_top_per_group(db, rng):
    t = table_with(db, rng, "num", "cat")
    c, g = col(t, rng, "num"), col(t, rng, "cat")
    name, _ = label_or_id(t)
    return dict(one=t.spoken_one, C=c.spoken, G=g.spoken,
                sql=f"WITH ranked AS (SELECT {g.name}, {name}, {c.name}, ROW_NUMBER() OVER (PARTITION BY {g.name} "
                    f"ORDER BY {c.name} DESC) AS rn FROM {t.name}) SELECT {g.name}, {name}, {c.name} FROM ranked WHERE rn = 1;")
