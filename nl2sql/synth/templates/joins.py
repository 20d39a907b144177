"""Templates: single joins, multiple joins and subqueries."""

from __future__ import annotations

from nl2sql.synth.templates.base import (Skip, chain, col, join, label_or_id, linked_parent_rows, lit, lit_linked, table_with,
                                         template, threshold, two_parents)


def _alias(t, other=None) -> str:
    a = t.spec.name[0].lower()
    return a + "2" if other is not None and other == a else a


def _need_childless(child, fk, parent) -> None:
    if len(linked_parent_rows(child, fk, parent)) == len(parent.rows):
        raise Skip  # every parent has children: the question's answer would be empty


def _aliases(child, parent) -> tuple[str, str]:
    c = _alias(child)
    return c, _alias(parent, c)


@template("single join", "data retrieval", [
    "What is the {PL} of the {P1} for each {C1}?", "List every {C1} together with its {P1}'s {PL}.",
    "{C1}s + {P1} {PL}"],
    "Joins {C} to {P} on the foreign key.")
def join_list(db, rng):
    child, fk, parent = join(db, rng)
    c, p = _aliases(child, parent)
    name, spoken = label_or_id(child)
    return dict(C=child.spoken, C1=child.spoken_one, P=parent.spoken, P1=parent.spoken_one, PL=parent.label.spoken,
                sql=f"SELECT {c}.{name}, {p}.{parent.label.name} FROM {child.name} AS {c} "
                    f"JOIN {parent.name} AS {p} ON {c}.{fk} = {p}.{parent.pk};")


@template("single join", "data retrieval", [
    "Which {C} belong to {P} with {G} {V}?", "Show the {C} whose {P1} has a {G} of {V}.", "{C} for {P} where {G} = {V}"],
    "Joins and filters on a column of {P}.")
def join_filter_parent(db, rng):
    child, fk, parent = join(db, rng, parent_label=False)
    g = col(parent, rng, "cat")
    v, sv = lit_linked(child, fk, parent, g, rng)
    c, p = _aliases(child, parent)
    return dict(C=child.spoken, P=parent.spoken, P1=parent.spoken_one, G=g.spoken, V=sv,
                sql=f"SELECT {c}.* FROM {child.name} AS {c} JOIN {parent.name} AS {p} ON {c}.{fk} = {p}.{parent.pk} "
                    f"WHERE {p}.{g.name} = {v};")


@template("single join", "analytics and reporting", [
    "How many {C} does each {P1} have?", "Count the {C} per {P1}, showing the {P1} {PL}.", "{C} count by {P1}"],
    "Joins, groups by the parent and counts.")
def join_count(db, rng):
    child, fk, parent = join(db, rng)
    c, p = _aliases(child, parent)
    return dict(C=child.spoken, P1=parent.spoken_one, PL=parent.label.spoken,
                sql=f"SELECT {p}.{parent.label.name}, COUNT({c}.{child.pk}) AS n FROM {parent.name} AS {p} "
                    f"JOIN {child.name} AS {c} ON {c}.{fk} = {p}.{parent.pk} GROUP BY {p}.{parent.pk}, {p}.{parent.label.name};")


@template("single join", "analytics and reporting", [
    "What is the total {X} of {C} for each {P1}?", "Sum the {X} of {C} by {P1} {PL}.", "total {X} per {P1}"],
    "Joins and sums a child column per parent.")
def join_sum(db, rng):
    child, fk, parent = join(db, rng)
    x = col(child, rng, "num")
    c, p = _aliases(child, parent)
    return dict(C=child.spoken, P1=parent.spoken_one, PL=parent.label.spoken, X=x.spoken,
                sql=f"SELECT {p}.{parent.label.name}, SUM({c}.{x.name}) AS total FROM {child.name} AS {c} "
                    f"JOIN {parent.name} AS {p} ON {c}.{fk} = {p}.{parent.pk} GROUP BY {p}.{parent.pk}, {p}.{parent.label.name} "
                    f"ORDER BY total DESC;")


@template("single join", "analytics and reporting", [
    "Which {P1} has the most {C}?", "Find the {P1} with the largest number of {C}.", "{P1} w/ most {C}"],
    "Counts per parent, orders descending and keeps the top one.")
def join_most(db, rng):
    child, fk, parent = join(db, rng)
    c, p = _aliases(child, parent)
    return dict(C=child.spoken, P1=parent.spoken_one,
                sql=f"SELECT {p}.{parent.label.name}, COUNT(*) AS n FROM {child.name} AS {c} JOIN {parent.name} AS {p} "
                    f"ON {c}.{fk} = {p}.{parent.pk} GROUP BY {p}.{parent.pk}, {p}.{parent.label.name} ORDER BY n DESC LIMIT 1;")


@template("single join", "data retrieval", [
    "Which {P} have no {C}?", "List the {P} without any {C}.", "{P} with zero {C}"],
    "LEFT JOIN and keep parents with no matching child.")
def left_join_none(db, rng):
    child, fk, parent = join(db, rng)
    _need_childless(child, fk, parent)
    c, p = _aliases(child, parent)
    return dict(C=child.spoken, P=parent.spoken,
                sql=f"SELECT {p}.{parent.label.name} FROM {parent.name} AS {p} LEFT JOIN {child.name} AS {c} "
                    f"ON {c}.{fk} = {p}.{parent.pk} WHERE {c}.{child.pk} IS NULL;")


@template("single join", "analytics and reporting", [
    "What is the average {X} of {C} for {P} with {G} {V}?", "Compute the mean {X} of {C} whose {P1} has {G} {V}.",
    "avg {X} of {C}, {P1} {G} = {V}"],
    "Joins, filters on the parent and averages a child column.")
def join_avg_filter(db, rng):
    child, fk, parent = join(db, rng, parent_label=False)
    x, g = col(child, rng, "num"), col(parent, rng, "cat")
    v, sv = lit_linked(child, fk, parent, g, rng, where=lambda r: r[x.name] is not None)
    c, p = _aliases(child, parent)
    return dict(C=child.spoken, P=parent.spoken, P1=parent.spoken_one, X=x.spoken, G=g.spoken, V=sv,
                sql=f"SELECT AVG({c}.{x.name}) FROM {child.name} AS {c} JOIN {parent.name} AS {p} "
                    f"ON {c}.{fk} = {p}.{parent.pk} WHERE {p}.{g.name} = {v};")


@template("single join", "data retrieval", [
    "What {C} does the {P1} {V} have?", "List all {C} of the {P1} named {V}.", "{C} of {P1} {V}"],
    "Joins and filters on the parent's {PL}.")
def join_of_named(db, rng):
    child, fk, parent = join(db, rng)
    v, sv = lit_linked(child, fk, parent, parent.label, rng)
    c, p = _aliases(child, parent)
    return dict(C=child.spoken, P1=parent.spoken_one, PL=parent.label.spoken, V=sv,
                sql=f"SELECT {c}.* FROM {child.name} AS {c} JOIN {parent.name} AS {p} ON {c}.{fk} = {p}.{parent.pk} "
                    f"WHERE {p}.{parent.label.name} = {v};")


@template("multiple_joins", "data retrieval", [
    "For each {C1}, what are the {A1} {AL} and the {B1} {BL}?", "List every {C1} with its {A1}'s {AL} and its {B1}'s {BL}.",
    "{C1}s: {A1} {AL}, {B1} {BL}"],
    "Joins {C} to both of its parent tables.")
def join_both(db, rng):
    child, fk1, p1, fk2, p2 = two_parents(db, rng)
    return dict(C1=child.spoken_one, A1=p1.spoken_one, AL=p1.label.spoken, B1=p2.spoken_one, BL=p2.label.spoken,
                sql=f"SELECT c.{child.pk}, a.{p1.label.name}, b.{p2.label.name} FROM {child.name} AS c "
                    f"JOIN {p1.name} AS a ON c.{fk1} = a.{p1.pk} JOIN {p2.name} AS b ON c.{fk2} = b.{p2.pk};")


@template("multiple_joins", "analytics and reporting", [
    "What is the total {X} per {A1} for the {B1} {V}?", "Sum the {X} of {C} by {A1} where the {B1} is {V}.",
    "{X} by {A1}, {B1} = {V}"],
    "Two joins, a filter on one parent, grouped by the other.")
def join_both_sum(db, rng):
    child, fk1, p1, fk2, p2 = two_parents(db, rng)
    x = col(child, rng, "num")
    v, sv = lit_linked(child, fk2, p2, p2.label, rng, where=lambda r: r[fk1] is not None)
    return dict(C=child.spoken, A1=p1.spoken_one, B1=p2.spoken_one, X=x.spoken, V=sv,
                sql=f"SELECT a.{p1.label.name}, SUM(c.{x.name}) AS total FROM {child.name} AS c "
                    f"JOIN {p1.name} AS a ON c.{fk1} = a.{p1.pk} JOIN {p2.name} AS b ON c.{fk2} = b.{p2.pk} "
                    f"WHERE b.{p2.label.name} = {v} GROUP BY a.{p1.label.name};")


@template("multiple_joins", "analytics and reporting", [
    "How many different {B} has each {A1} been linked to through {C}?", "Count the distinct {B} per {A1} across {C}.",
    "distinct {B} per {A1}"],
    "Joins both parents and counts distinct values.")
def join_both_distinct(db, rng):
    child, fk1, p1, fk2, p2 = two_parents(db, rng)
    return dict(C=child.spoken, A1=p1.spoken_one, B=p2.spoken,
                sql=f"SELECT a.{p1.label.name}, COUNT(DISTINCT b.{p2.pk}) AS n FROM {p1.name} AS a "
                    f"JOIN {child.name} AS c ON c.{fk1} = a.{p1.pk} JOIN {p2.name} AS b ON c.{fk2} = b.{p2.pk} "
                    f"GROUP BY a.{p1.label.name};")


@template("multiple_joins", "data retrieval", [
    "Which {A} are connected to {B} with {G} {V}?", "List the {A1} {AL}s linked via {C} to {B} whose {G} is {V}.",
    "{A} <- {C} -> {B} ({G} = {V})"],
    "Joins through {C} and filters on the second parent.")
def join_both_filter(db, rng):
    child, fk1, p1, fk2, p2 = two_parents(db, rng)
    g = col(p2, rng, "cat")
    v, sv = lit_linked(child, fk2, p2, g, rng, where=lambda r: r[fk1] is not None)
    return dict(A=p1.spoken, A1=p1.spoken_one, AL=p1.label.spoken, B=p2.spoken, C=child.spoken, G=g.spoken, V=sv,
                sql=f"SELECT DISTINCT a.{p1.label.name} FROM {p1.name} AS a JOIN {child.name} AS c ON c.{fk1} = a.{p1.pk} "
                    f"JOIN {p2.name} AS b ON c.{fk2} = b.{p2.pk} WHERE b.{g.name} = {v};")


@template("multiple_joins", "data retrieval", [
    "For each {G1}, which {P1} does it belong to through its {C1}?", "List every {G1} with the {PL} of the {P1} behind its {C1}.",
    "{G} -> {C1} -> {P1} {PL}"],
    "Follows two foreign keys: {G} to {C} to {P}.")
def join_chain(db, rng):
    g, fk1, c, fk2, p = chain(db, rng)
    name, _ = label_or_id(g)
    return dict(G=g.spoken, G1=g.spoken_one, C=c.spoken, C1=c.spoken_one, P=p.spoken, P1=p.spoken_one, PL=p.label.spoken,
                sql=f"SELECT g.{name}, p.{p.label.name} FROM {g.name} AS g JOIN {c.name} AS c ON g.{fk1} = c.{c.pk} "
                    f"JOIN {p.name} AS p ON c.{fk2} = p.{p.pk};")


@template("multiple_joins", "analytics and reporting", [
    "What is the total {X} of {G} for each {P1}?", "Sum the {X} of all {G} per {P1}, going through {C}.",
    "total {G} {X} by {P1}"],
    "Joins {G} to {C} to {P} and sums per {P1}.")
def join_chain_sum(db, rng):
    g, fk1, c, fk2, p = chain(db, rng)
    x = col(g, rng, "num")
    return dict(G=g.spoken, C=c.spoken, P=p.spoken, P1=p.spoken_one, X=x.spoken,
                sql=f"SELECT p.{p.label.name}, SUM(g.{x.name}) AS total FROM {g.name} AS g JOIN {c.name} AS c "
                    f"ON g.{fk1} = c.{c.pk} JOIN {p.name} AS p ON c.{fk2} = p.{p.pk} GROUP BY p.{p.pk}, p.{p.label.name} "
                    f"ORDER BY total DESC;")


@template("subqueries", "data retrieval", [
    "Which {T} have a {C} above the average?", "List {T} whose {C} is higher than the average {C}.", "{T} with above-avg {C}"],
    "Compares with a scalar subquery of AVG.")
def above_average(db, rng):
    t = table_with(db, rng, "num")
    c = col(t, rng, "num")
    name, _ = label_or_id(t)
    return dict(T=t.spoken, C=c.spoken,
                sql=f"SELECT {name}, {c.name} FROM {t.name} WHERE {c.name} > (SELECT AVG({c.name}) FROM {t.name});")


@template("subqueries", "data retrieval", [
    "Which {P} have at least one {C1} with {G} {V}?", "Find the {P} that have {C} whose {G} is {V}.",
    "{P} having {C} w/ {G} {V}"],
    "Uses IN with a subquery on {C}.")
def in_subquery(db, rng):
    child, fk, parent = join(db, rng)
    g = col(child, rng, "cat")
    v, sv = lit(child, g, rng)
    return dict(P=parent.spoken, C=child.spoken, C1=child.spoken_one, G=g.spoken, V=sv,
                sql=f"SELECT {parent.label.name} FROM {parent.name} WHERE {parent.pk} IN "
                    f"(SELECT {fk} FROM {child.name} WHERE {g.name} = {v});")


@template("subqueries", "data retrieval", [
    "Which {P} have never had any {C}?", "List {P} that do not appear in {C}.", "{P} not in {C}"],
    "Uses NOT IN with a subquery.")
def not_in_subquery(db, rng):
    child, fk, parent = join(db, rng)
    _need_childless(child, fk, parent)
    return dict(P=parent.spoken, C=child.spoken,
                sql=f"SELECT {parent.label.name} FROM {parent.name} WHERE {parent.pk} NOT IN "
                    f"(SELECT {fk} FROM {child.name} WHERE {fk} IS NOT NULL);")


@template("subqueries", "data retrieval", [
    "Which {one} has the highest {C}?", "Find the {one} whose {C} equals the maximum {C}.", "{one} with max {C}"],
    "Matches the MAX from a subquery.")
def equals_max(db, rng):
    t = table_with(db, rng, "num", label=True)
    c = col(t, rng, "num")
    return dict(one=t.spoken_one, C=c.spoken,
                sql=f"SELECT {t.label.name} FROM {t.name} WHERE {c.name} = (SELECT MAX({c.name}) FROM {t.name});")


@template("subqueries", "data retrieval", [
    "Which {P} have {C} with a {X} over {V}?", "List {P} for which some {C1} has {X} greater than {V}.",
    "{P} w/ any {C1} {X} > {V}"],
    "Uses a correlated EXISTS subquery.")
def exists_subquery(db, rng):
    child, fk, parent = join(db, rng)
    x = col(child, rng, "num")
    v, sv = threshold(child, x, rng)
    return dict(P=parent.spoken, C=child.spoken, C1=child.spoken_one, X=x.spoken, V=sv,
                sql=f"SELECT p.{parent.label.name} FROM {parent.name} AS p WHERE EXISTS (SELECT 1 FROM {child.name} AS c "
                    f"WHERE c.{fk} = p.{parent.pk} AND c.{x.name} > {v});")


@template("subqueries", "analytics and reporting", [
    "Which {T} have a {C} above the average for their {G}?", "List {T} whose {C} beats the mean {C} of the same {G}.",
    "{T} above their {G} avg {C}"],
    "A correlated subquery computes the average per {G}.")
def correlated_avg(db, rng):
    t = table_with(db, rng, "num", "cat")
    c, g = col(t, rng, "num"), col(t, rng, "cat")
    name, _ = label_or_id(t)
    return dict(T=t.spoken, C=c.spoken, G=g.spoken,
                sql=f"SELECT t.{name}, t.{g.name}, t.{c.name} FROM {t.name} AS t WHERE t.{c.name} > "
                    f"(SELECT AVG(x.{c.name}) FROM {t.name} AS x WHERE x.{g.name} = t.{g.name});")


@template("subqueries", "analytics and reporting", [
    "How many {C} belong to the {P1} with the highest {X}?", "Count the {C} of the {P1} that has the largest {X}.",
    "# {C} for top-{X} {P1}"],
    "Nests a subquery that finds the parent with the largest value.")
def count_for_top_parent(db, rng):
    child, fk, parent = join(db, rng, parent_label=False)
    x = col(parent, rng, "num")
    if len(set(parent.values(x))) < len(parent.values(x)):
        raise Skip  # a tie would make "the" parent ambiguous
    return dict(C=child.spoken, P1=parent.spoken_one, X=x.spoken,
                sql=f"SELECT COUNT(*) FROM {child.name} WHERE {fk} = (SELECT {parent.pk} FROM {parent.name} "
                    f"ORDER BY {x.name} DESC LIMIT 1);")

