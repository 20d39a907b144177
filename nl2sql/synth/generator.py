"""Generate gretel-format text-to-SQL rows: deterministic for a seed, split by domain, no duplicates."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator

from nl2sql.synth.domains import DOMAINS, Domain
from nl2sql.synth.templates import COMPLEXITY, REGISTRY, TASKS, Skip, Template
from nl2sql.synth.world import Db, build

# Domains whose rows form the test split; never generated for training.
TEST_DOMAINS = frozenset({"healthcare", "sports", "hotels", "insurance", "music", "legal", "veterinary",
                          "recruiting", "wildlife"})
SPLITS = ("train", "test", "all")
# Share of rows per complexity class (gretel's classes; skewed to the simple ones, as gretel is).
COMPLEXITY_WEIGHTS = {"basic SQL": 0.30, "aggregation": 0.20, "single join": 0.15, "multiple_joins": 0.07,
                      "subqueries": 0.10, "window functions": 0.07, "set operations": 0.04, "CTEs": 0.07}
QUESTIONS_PER_DB = 5  # each generated database hosts several questions, as real databases do
GRETEL_COLUMNS = ("id", "domain", "domain_description", "sql_complexity", "sql_complexity_description",
                  "sql_task_type", "sql_task_type_description", "sql_prompt", "sql_context", "sql",
                  "sql_explanation")


class _Slots(dict):
    def __missing__(self, key: str) -> str:
        return key


def domains_for(split: str) -> list[Domain]:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    return [d for d in DOMAINS if split == "all" or (d.name in TEST_DOMAINS) == (split == "test")]


def _by_complexity(split: str) -> dict[str, list[Template]]:
    """The templates of each class; the test split only draws on those it was made with (train_only ones
    came later), so its rows never change as templates are added."""
    groups = defaultdict(list)
    for t in REGISTRY:
        if not (t.train_only and split == "test"):
            groups[t.complexity].append(t)
    return groups


def class_weights(join_boost: float = 1.0) -> dict[str, float]:
    """Each complexity class's share of rows; `join_boost` multiplies the join classes' weights (training)."""
    if join_boost <= 0:
        raise ValueError(f"join_boost must be above 0, got {join_boost}")
    joins = ("single join", "multiple_joins")
    return {k: w * (join_boost if k in joins else 1.0) for k, w in COMPLEXITY_WEIGHTS.items()}


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text[:1].upper() + text[1:]


def _row(db: Db, tpl: Template, slots: dict, rng: random.Random, context: str) -> dict:
    s = _Slots({k: v for k, v in slots.items() if k != "sql"})
    return {
        "domain": db.domain.name,
        "domain_description": db.domain.description,
        "sql_complexity": tpl.complexity,
        "sql_complexity_description": COMPLEXITY[tpl.complexity],
        "sql_task_type": tpl.task,
        "sql_task_type_description": TASKS[tpl.task],
        "sql_prompt": _sentence(rng.choice(tpl.phrasings).format_map(s)),
        "sql_context": context,
        "sql": slots["sql"],
        "sql_explanation": _sentence(tpl.explanation.format_map(s)),
    }


def _host(templates: list[Template], db: Db, rng: random.Random, tries: int = 4):
    """(template, slots) for a template of the class that this database can host, or (None, None)."""
    for _ in range(tries):
        tpl = rng.choice(templates)
        try:
            return tpl, tpl.build(db, rng)
        except Skip:
            continue
    return None, None


def generate(n: int, seed: int = 0, split: str = "train", join_boost: float = 1.0) -> Iterator[dict]:
    """Yield `n` unique gretel-format rows from the split's domains, deterministically for `seed`;
    `join_boost` > 1 makes join questions that much more common (training data that teaches joins)."""
    domains = domains_for(split)
    rng = random.Random(seed)
    groups = _by_complexity(split)
    shares = class_weights(join_boost)
    classes, weights = list(shares), list(shares.values())
    seen: set[tuple[str, str]] = set()
    made, attempts = 0, 0
    while made < n:
        db = build(rng.choice(domains), rng)
        context = db.ddl() + "\n" + db.inserts()
        for _ in range(QUESTIONS_PER_DB):
            attempts += 1
            if attempts > 50 * n + 1000:
                raise RuntimeError(f"could only make {made} unique rows of {n}; the templates are exhausted")
            tpl, slots = _host(groups[rng.choices(classes, weights)[0]], db, rng)
            if tpl is None:
                continue
            row = _row(db, tpl, slots, rng, context)
            key = (row["sql_prompt"], row["sql"])
            if key in seen:
                continue
            seen.add(key)
            made += 1
            yield {"id": made, **row}
            if made >= n:
                return
