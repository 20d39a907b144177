"""More join templates, for training only (train_only: the synthetic test split keeps the templates it
was made with, so its rows never change): aggregates over a join per parent, HAVING over a join,
parents filtered by their children, top-k parents, two-hop foreign-key paths counted and filtered, and
(session 12) child aggregates grouped by a category column of the parent and the parent with the highest
child average."""

from __future__ import annotations

from collections import Counter

from nl2sql.synth.templates.base import Skip, chain, col, join, label_or_id, lit, template
from nl2sql.synth.templates.joins import _aliases
from nl2sql.synth.world import sql_literal


def _group_sql(p: str, parent) -> str:
    return f"GROUP BY {p}.{parent.pk}, {p}.{parent.label.name}"


def _chain_join(g, fk1: str, c, fk2: str, p) -> str:
    """`FROM g JOIN c ON ... JOIN p ON ...`: a grandchild, its parent and its grandparent, aliased g, c, p."""
    return (f"FROM {g.name} AS g JOIN {c.name} AS c ON g.{fk1} = c.{c.pk} "
            f"JOIN {p.name} AS p ON c.{fk2} = p.{p.pk}")


def _parent_join(child, fk: str, parent) -> tuple[str, str, str]:
    """(child alias, parent alias, `FROM parent AS p JOIN child AS c ON c.fk = p.pk`)."""
    c, p = _aliases(child, parent)
    return c, p, f"FROM {parent.name} AS {p} JOIN {child.name} AS {c} ON {c}.{fk} = {p}.{parent.pk}"


@template("single join", "analytics and reporting", [
    "What is the average {X} of {C} for each {P1}?", "Show each {P1} {PL} with the average {X} of its {C}.",
    "avg {C} {X} per {P1}"],
    "Joins, groups by the parent and averages a child column.", train_only=True)
def join_avg_per_parent(db, rng):
    child, fk, parent = join(db, rng)
    x = col(child, rng, "num")
    c, p, joined = _parent_join(child, fk, parent)
    return dict(C=child.spoken, P1=parent.spoken_one, PL=parent.label.spoken, X=x.spoken,
                sql=f"SELECT {p}.{parent.label.name}, AVG({c}.{x.name}) AS avg_{x.name} {joined} "
                    f"{_group_sql(p, parent)};")


@template("single join", "analytics and reporting", [
    "What is the highest {X} among the {C} of each {P1}?", "For every {P1}, find the largest {X} of its {C}.",
    "max {C} {X} by {P1}"],
    "Joins, groups by the parent and takes the maximum of a child column.", train_only=True)
def join_max_per_parent(db, rng):
    child, fk, parent = join(db, rng)
    x = col(child, rng, "num")
    c, p, joined = _parent_join(child, fk, parent)
    return dict(C=child.spoken, P1=parent.spoken_one, X=x.spoken,
                sql=f"SELECT {p}.{parent.label.name}, MAX({c}.{x.name}) AS max_{x.name} {joined} "
                    f"{_group_sql(p, parent)};")


@template("single join", "analytics and reporting", [
    "Which {P} have more than {N} {C}?", "List the {P1} {PL}s with over {N} {C}.", "{P} with > {N} {C}"],
    "Joins, groups by the parent and keeps groups by a HAVING count.", train_only=True)
def join_having_count(db, rng):
    child, fk, parent = join(db, rng)
    counts = sorted(Counter(r[fk] for r in child.rows if r[fk] is not None).values())
    if len(counts) < 2 or counts[0] == counts[-1]:
        raise Skip  # every parent has as many children: the threshold would keep all or none
    n = counts[rng.randrange(len(counts) // 3, len(counts) - 1)]
    if n >= counts[-1]:
        raise Skip
    _, p, joined = _parent_join(child, fk, parent)
    return dict(C=child.spoken, P=parent.spoken, P1=parent.spoken_one, PL=parent.label.spoken, N=n,
                sql=f"SELECT {p}.{parent.label.name} {joined} {_group_sql(p, parent)} HAVING COUNT(*) > {n};")


@template("single join", "data retrieval", [
    "Which {P} have {C} with {G} {V}?", "List the {P1} {PL}s that have at least one {C1} whose {G} is {V}.",
    "{P} having {C} where {G} = {V}"],
    "Joins and filters on a child column; DISTINCT keeps each parent once.", train_only=True)
def join_parents_by_child(db, rng):
    child, fk, parent = join(db, rng)
    g = col(child, rng, "cat")
    v, sv = lit(child, g, rng)
    c, p, joined = _parent_join(child, fk, parent)
    return dict(C=child.spoken, C1=child.spoken_one, P=parent.spoken, P1=parent.spoken_one, PL=parent.label.spoken,
                G=g.spoken, V=sv, sql=f"SELECT DISTINCT {p}.{parent.label.name} {joined} WHERE {c}.{g.name} = {v};")


@template("single join", "analytics and reporting", [
    "Which {K} {P} have the highest total {X} of {C}?", "Show the top {K} {P} by the sum of their {C}' {X}.",
    "top {K} {P} by total {X}"],
    "Joins, sums per parent, orders descending and keeps the first K.", train_only=True)
def join_top_parents(db, rng):
    child, fk, parent = join(db, rng)
    x = col(child, rng, "num")
    k = rng.choice([2, 3, 5])
    c, p, joined = _parent_join(child, fk, parent)
    return dict(C=child.spoken, P=parent.spoken, X=x.spoken, K=k,
                sql=f"SELECT {p}.{parent.label.name}, SUM({c}.{x.name}) AS total {joined} {_group_sql(p, parent)} "
                    f"ORDER BY total DESC LIMIT {k};")


@template("multiple_joins", "analytics and reporting", [
    "How many {G} does each {P1} have through its {C}?", "Count the {G} of every {P1}, going through {C}.",
    "{G} count per {P1} (via {C})"],
    "Follows two foreign keys and counts per grandparent.", train_only=True)
def join_chain_count(db, rng):
    g, fk1, c, fk2, p = chain(db, rng)
    return dict(G=g.spoken, C=c.spoken, P1=p.spoken_one,
                sql=f"SELECT p.{p.label.name}, COUNT(*) AS n {_chain_join(g, fk1, c, fk2, p)} {_group_sql('p', p)};")


@template("multiple_joins", "data retrieval", [
    "Which {G} belong to a {C1} of the {P1} {V}?", "List the {G} whose {C1} belongs to the {P1} named {V}.",
    "{G} under {P1} {V}"],
    "Follows two foreign keys and filters on the grandparent.", train_only=True)
def join_chain_filter(db, rng):
    g, fk1, c, fk2, p = chain(db, rng)
    linked = {r[fk2] for r in c.rows if r[c.pk] in {x[fk1] for x in g.rows}}
    values = [r[p.label.name] for r in p.rows if r[p.pk] in linked and r[p.label.name] is not None]
    if not values:
        raise Skip
    value = rng.choice(values)
    name, _ = label_or_id(g)
    return dict(G=g.spoken, C1=c.spoken_one, P1=p.spoken_one, V=str(value),
                sql=f"SELECT g.{name} {_chain_join(g, fk1, c, fk2, p)} WHERE p.{p.label.name} = {sql_literal(value)};")


@template("multiple_joins", "analytics and reporting", [
    "What is the average {X} of {G} for each {P1}?", "For each {P1}, compute the mean {X} of its {G} through {C}.",
    "avg {G} {X} per {P1}"],
    "Follows two foreign keys and averages per grandparent.", train_only=True)
def join_chain_avg(db, rng):
    g, fk1, c, fk2, p = chain(db, rng)
    x = col(g, rng, "num")
    return dict(G=g.spoken, C=c.spoken, P1=p.spoken_one, X=x.spoken,
                sql=f"SELECT p.{p.label.name}, AVG(g.{x.name}) AS avg_{x.name} {_chain_join(g, fk1, c, fk2, p)} "
                    f"{_group_sql('p', p)};")


@template("single join", "analytics and reporting", [
    "What is the total {X} of {C} per {P1} {G}?", "For each {G} of {P}, sum the {X} of their {C}.",
    "total {C} {X} by {P1} {G}"],
    "Joins and sums a child column per category of the parent (GROUP BY a column of {P}, not its key).",
    train_only=True)
def join_sum_per_parent_category(db, rng):
    child, fk, parent = join(db, rng, parent_label=False)
    x, g = col(child, rng, "num"), col(parent, rng, "cat")
    c, p, joined = _parent_join(child, fk, parent)
    return dict(C=child.spoken, P=parent.spoken, P1=parent.spoken_one, X=x.spoken, G=g.spoken,
                sql=f"SELECT {p}.{g.name}, SUM({c}.{x.name}) AS total {joined} GROUP BY {p}.{g.name};")


@template("single join", "analytics and reporting", [
    "How many {C} are there for each {P1} {G}?", "Count the {C} per {G} of their {P1}.", "{C} count by {P1} {G}"],
    "Joins and counts child rows per category of the parent.", train_only=True)
def join_count_per_parent_category(db, rng):
    child, fk, parent = join(db, rng, parent_label=False)
    g = col(parent, rng, "cat")
    _, p, joined = _parent_join(child, fk, parent)
    return dict(C=child.spoken, P1=parent.spoken_one, G=g.spoken,
                sql=f"SELECT {p}.{g.name}, COUNT(*) AS n {joined} GROUP BY {p}.{g.name};")


@template("single join", "analytics and reporting", [
    "Which {P1} has the highest average {X} of {C}?", "Find the {P1} whose {C} have the largest mean {X}.",
    "{P1} with top avg {C} {X}"],
    "Joins, averages a child column per parent, orders by that average and keeps the top one.", train_only=True)
def join_top_parent_by_avg(db, rng):
    child, fk, parent = join(db, rng)
    x = col(child, rng, "num")
    c, p, joined = _parent_join(child, fk, parent)
    return dict(C=child.spoken, P1=parent.spoken_one, X=x.spoken,
                sql=f"SELECT {p}.{parent.label.name} {joined} GROUP BY {p}.{parent.pk} "
                    f"ORDER BY AVG({c}.{x.name}) DESC LIMIT 1;")


__all__ = ["join_avg_per_parent", "join_chain_avg", "join_chain_count", "join_chain_filter", "join_having_count",
           "join_count_per_parent_category", "join_max_per_parent", "join_parents_by_child", "join_sum_per_parent_category",
           "join_top_parent_by_avg", "join_top_parents"]
