"""Pure metrics: compare a prediction with the gold and aggregate per model and category.

Execution match, by one of two named rule sets (RULES):
- `spider` (Spider's own): the same number of columns, matched up to permutation; the rows equal as a
  multiset (as a list when the gold query orders its output).
- `defog` (defog's sql-eval, how a person judges an answer): every gold column appears among the
  answer's (extra columns allowed, matched by values, not names); duplicate rows dropped; row order
  compared only when the question asks for one ("order", "sort", "arrange", also as "ordered", "sorted",
  ...) or the category is `order_by`, and the gold query orders its rows. Unlike sql-eval's code, an
  empty answer never matches a gold with rows.
Both: floats compared with a tolerance, NULLs equal to NULLs; for DML the databases' states after each
statement are compared.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from nl2sql.sandbox import RunResult

FLOAT_TOLERANCE = 1e-6
RATE_KEYS = ("parses", "grounded", "executes", "execution_accuracy", "exact_match", "judge_correct")


@dataclass
class ExampleResult:
    """One prediction, scored. None means 'not computed' (e.g. no database to execute on)."""

    id: str
    model: str
    question: str
    gold: str
    predicted: str
    category: str | None = None
    parses: bool = False
    grounded: bool | None = None
    executes: bool | None = None
    execution_match: bool | None = None
    exact_match: bool = False
    judge: dict | None = None  # {"verdict": "correct" | error type, "explanation": str}
    error: str | None = None
    latency_s: float = 0.0
    prompt_tokens: int = 0
    new_tokens: int = 0
    raw: str = ""
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _norm_value(v):
    if isinstance(v, Decimal):  # PostgreSQL's NUMERIC (AVG of integers): the same number as SQLite's REAL
        v = float(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return round(v, 6) if not v.is_integer() else int(v)
    if isinstance(v, bytes):
        return v.hex()
    return v


def _close(a, b) -> bool:
    a, b = (float(x) if isinstance(x, Decimal) else x for x in (a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
    return a == b


def _rows_equal(pred: list[tuple], gold: list[tuple], ordered: bool) -> bool:
    if len(pred) != len(gold):
        return False
    if ordered:
        return all(all(_close(x, y) for x, y in zip(p, g)) for p, g in zip(pred, gold))
    norm = lambda rows: Counter(tuple(_norm_value(v) for v in r) for r in rows)  # noqa: E731
    return norm(pred) == norm(gold)


def _column_orders(pred: list[tuple], gold: list[tuple], width: int):
    """Permutations of pred's columns whose value multisets match gold's, column by column."""
    col = lambda rows, i: sorted((repr(_norm_value(r[i])) for r in rows))  # noqa: E731
    gold_cols = [col(gold, i) for i in range(width)]
    pred_cols = [col(pred, i) for i in range(width)]
    candidates = [[j for j in range(width) if pred_cols[j] == gold_cols[i]] for i in range(width)]
    for perm in itertools.product(*candidates):
        if len(set(perm)) == width:
            yield perm


def _spider_match(pred: RunResult, gold: RunResult, ordered: bool) -> bool:
    width = len(gold.columns)
    if len(pred.columns) != width or len(pred.rows) != len(gold.rows):
        return False
    if width == 0 or not gold.rows:
        return True
    if _rows_equal(pred.rows, gold.rows, ordered):
        return True
    for perm in itertools.islice(_column_orders(pred.rows, gold.rows, width), 24):
        if _rows_equal([tuple(r[j] for j in perm) for r in pred.rows], gold.rows, ordered):
            return True
    return False


def _distinct(rows: list[tuple]) -> list[tuple]:
    """Rows without repeats, first occurrence kept (so an ordered answer keeps its order)."""
    seen, out = set(), []
    for r in rows:
        key = tuple(repr(_norm_value(v)) for v in r)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _column_picks(pred: list[tuple], gold: list[tuple], pred_width: int, gold_width: int):
    """Ways to pick one distinct answer column per gold column whose set of values equals the gold column's."""
    values = lambda rows, i: frozenset(repr(_norm_value(r[i])) for r in rows)  # noqa: E731
    pred_cols = [values(pred, j) for j in range(pred_width)]
    candidates = [[j for j in range(pred_width) if pred_cols[j] == values(gold, i)] for i in range(gold_width)]
    for pick in itertools.product(*candidates):
        if len(set(pick)) == gold_width:
            yield pick


def _defog_match(pred: RunResult, gold: RunResult, ordered: bool) -> bool:
    if not gold.rows or not pred.rows:
        return not gold.rows and not pred.rows  # an empty answer matches an empty gold only
    gold_rows = _distinct(gold.rows)
    for pick in itertools.islice(_column_picks(pred.rows, gold.rows, len(pred.columns), len(gold.columns)), 24):
        if _rows_equal(_distinct([tuple(r[j] for j in pick) for r in pred.rows]), gold_rows, ordered):
            return True
    return False


RULES = {"spider": _spider_match, "defog": _defog_match}
# sql-eval's words, with their verb forms ("ordered by age", "sorted"); "orders" (the noun) is not among them
_ORDER_WORDS = re.compile(r"\b(order|ordered|ordering|sort|sorted|sorting|arrange|arranged|arranging)\b", re.IGNORECASE)


def results_match(pred: RunResult, gold: RunResult, ordered: bool = False, rules: str = "spider") -> bool:
    """Whether two query results are the same answer by a rule set of RULES (see the module docstring);
    `ordered`: whether row order is part of the answer (order_matters decides it per rule set)."""
    if rules not in RULES:
        raise ValueError(f"unknown match rules {rules!r}: use one of {', '.join(RULES)}")
    if not (pred.ok and gold.ok):
        return False
    if gold.snapshot is not None or pred.snapshot is not None:
        return pred.snapshot == gold.snapshot
    return RULES[rules](pred, gold, ordered)


def order_matters(rules: str, golds: list[str], question: str = "", category: str | None = None) -> bool:
    """Whether row order is part of the answer: Spider's rules follow the gold query (an outermost ORDER BY);
    defog's ask the question too (it asks for an order, or the category is `order_by`): an order the
    question does not ask for is not held against the answer, and a gold that orders nothing has no order
    to compare with."""
    gold_orders = any(orders_output(g) for g in golds)
    if rules == "defog":
        return gold_orders and (category == "order_by" or bool(_ORDER_WORDS.search(question)))
    return gold_orders


def orders_output(sql: str, dialect: str = "sqlite") -> bool:
    """Whether the query's outermost SELECT has an ORDER BY (then row order is part of the answer)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except (SqlglotError, RecursionError):
        return False
    return isinstance(tree, exp.Query) and tree.args.get("order") is not None


def normalize(sql: str, dialect: str = "sqlite") -> str | None:
    """Canonical text for exact match: identifiers lowercased, keywords and spacing uniform, no ';'."""
    try:
        tree = sqlglot.parse_one(sql.strip().rstrip(";"), read=dialect)
        return normalize_identifiers(tree, dialect=dialect).sql(dialect=dialect, normalize=True)
    except (SqlglotError, ValueError, AttributeError, RecursionError):
        return None


def exact_match(pred: str, golds: list[str], dialect: str = "sqlite") -> bool:
    p = normalize(pred, dialect)
    return p is not None and any(p == normalize(g, dialect) for g in golds)


def _rate(values: list) -> float | None:
    known = [bool(v) for v in values if v is not None]
    return sum(known) / len(known) if known else None


def summarize(results: list[ExampleResult], seconds: float | None = None) -> dict:
    """The metric block M of summary.json for a list of scored examples (rates are fractions 0..1)."""
    judge = [(r.judge or {}).get("verdict") == "correct" if r.judge else None for r in results]
    latencies = [r.latency_s for r in results]
    return {
        "n": len(results),
        "parses": _rate([r.parses for r in results]),
        "grounded": _rate([r.grounded for r in results]),
        "executes": _rate([r.executes for r in results]),
        "execution_accuracy": _rate([r.execution_match for r in results]),
        "exact_match": _rate([r.exact_match for r in results]),
        "judge_correct": _rate(judge),
        "latency_p50_s": statistics.median(latencies) if latencies else None,
        "examples_per_s": (len(results) / seconds) if seconds else None,
    }


def by_category(results: list[ExampleResult]) -> dict[str, dict]:
    groups: dict[str, list[ExampleResult]] = {}
    for r in results:
        groups.setdefault(r.category or "all", []).append(r)
    return {k: summarize(v) for k, v in sorted(groups.items())}


def sql_category(sql: str, dialect: str = "sqlite") -> str:
    """Gretel's complexity class of a query, read from its structure (for data sets without one)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except (SqlglotError, RecursionError):
        return "unparsed"
    if not isinstance(tree, exp.Query):
        return "data manipulation" if isinstance(tree, (exp.Insert, exp.Update, exp.Delete)) else "data definition"
    checks = (("CTEs", lambda t: t.find(exp.CTE)), ("set operations", lambda t: t.find(exp.SetOperation)),
              ("window functions", lambda t: t.find(exp.Window)),
              ("subqueries", lambda t: any(s is not t for s in t.find_all(exp.Select))),
              ("multiple_joins", lambda t: len(list(t.find_all(exp.Join))) >= 2),
              ("single join", lambda t: t.find(exp.Join)),
              ("aggregation", lambda t: t.find(exp.AggFunc) or t.args.get("group")))
    return next((name for name, test in checks if test(tree)), "basic SQL")
