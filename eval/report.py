"""summary.json (+ the scored predictions) -> report.md and PNG plots.

python -m eval.report DIR   rebuilds DIR/report.md and the plots from DIR/summary.json and predictions.jsonl.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from eval.metrics import RATE_KEYS, ExampleResult

FAILURE_ORDER = {"no SQL": 0, "parse": 1, "runtime": 2, "wrong result": 3}


def pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _code(text: str, limit: int = 300) -> str:
    """One line, no backticks: safe inside a Markdown code span."""
    return " ".join(str(text).split()).replace("`", "'")[:limit]


def failure_kind(r: ExampleResult) -> str | None:
    if not r.predicted:
        return "no SQL"
    if not r.parses:
        return "parse"
    if r.executes is False:
        return "runtime"
    if r.execution_match is False:
        return "wrong result"
    return None


def agreement(results: list[ExampleResult]) -> dict | None:
    """Judge vs execution accuracy: confusion counts and Cohen's kappa, over examples that have both."""
    pairs = [((r.judge or {}).get("verdict") == "correct", bool(r.execution_match)) for r in results
             if r.judge and r.judge.get("verdict") and r.execution_match is not None]
    if not pairs:
        return None
    n = len(pairs)
    table = Counter(pairs)
    observed = (table[(True, True)] + table[(False, False)]) / n
    judge_yes = sum(j for j, _ in pairs) / n
    exec_yes = sum(e for _, e in pairs) / n
    expected = judge_yes * exec_yes + (1 - judge_yes) * (1 - exec_yes)
    kappa = (observed - expected) / (1 - expected) if expected < 1 else 1.0
    return {"n": n, "both_correct": table[(True, True)], "judge_only": table[(True, False)],
            "execution_only": table[(False, True)], "both_wrong": table[(False, False)],
            "agreement": observed, "kappa": kappa}


def _models_table(summary: dict) -> list[str]:
    models = summary["models"]
    head = "| metric | " + " | ".join(m["name"] for m in models) + " |"
    lines = [head, "|---" * (len(models) + 1) + "|"]
    for key in RATE_KEYS:
        lines.append(f"| {key} | " + " | ".join(pct(m["overall"][key]) for m in models) + " |")
    for key, fmt in (("latency_p50_s", "{:.2f} s"), ("examples_per_s", "{:.2f}")):
        vals = [m["overall"][key] for m in models]
        lines.append(f"| {key} | " + " | ".join("–" if v is None else fmt.format(v) for v in vals) + " |")
    return lines


def _category_table(summary: dict, key: str = "execution_accuracy") -> list[str]:
    models = summary["models"]
    cats = sorted({c for m in models for c in m["by_category"]})
    lines = ["| category (n) | " + " | ".join(m["name"] for m in models) + " |", "|---" * (len(models) + 1) + "|"]
    for c in cats:
        n = max(m["by_category"].get(c, {}).get("n", 0) for m in models)
        vals = [pct(m["by_category"].get(c, {}).get(key)) for m in models]
        lines.append(f"| {c} ({n}) | " + " | ".join(vals) + " |")
    return lines


def _failures(results: list[ExampleResult], limit: int = 8) -> list[str]:
    failing = sorted((r for r in results if failure_kind(r)), key=lambda r: (FAILURE_ORDER[failure_kind(r)], r.id))
    lines = []
    for r in failing[:limit]:
        lines += [f"- **{r.id}** ({r.category}, {failure_kind(r)}): {r.question}",
                  f"  - gold: `{_code(r.gold)}`", f"  - predicted: `{_code(r.predicted or r.raw)}`"]
        if r.error:
            lines.append(f"  - error: {r.error[:200]}")
    return lines or ["(none)"]


def plot(out: Path, summary: dict, results: list[ExampleResult]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    models = summary["models"]
    cats = sorted({c for m in models for c in m["by_category"]})
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(cats)), 4))
    width = 0.8 / max(1, len(models))
    for i, m in enumerate(models):
        vals = [100 * (m["by_category"].get(c, {}).get("execution_accuracy") or 0) for c in cats]
        ax.bar([x + i * width for x in range(len(cats))], vals, width, label=m["name"][:40])
    ax.set_xticks([x + width * (len(models) - 1) / 2 for x in range(len(cats))], cats, rotation=30, ha="right")
    ax.set_ylabel("execution accuracy (%)")
    ax.set_title(f"Execution accuracy by category: {summary['data']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "accuracy_by_category.png", dpi=110)
    files.append("accuracy_by_category.png")
    plt.close(fig)
    kinds = list(FAILURE_ORDER)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, m in enumerate(models):
        counts = Counter(failure_kind(r) for r in results if r.model == m["spec"])
        ax.bar([x + i * width for x in range(len(kinds))], [counts.get(k, 0) for k in kinds], width, label=m["name"][:40])
    ax.set_xticks([x + width * (len(models) - 1) / 2 for x in range(len(kinds))], kinds)
    ax.set_ylabel("examples")
    ax.set_title("Error types")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "error_types.png", dpi=110)
    files.append("error_types.png")
    plt.close(fig)
    return files


def _rules_line(summary: dict) -> str:
    """Which execution-match rules scored the run (eval.metrics.RULES), and rows that raised."""
    rules = {k: v for m in summary["models"] for k, v in (m.get("match") or {"spider": m["overall"]["n"]}).items()}
    errors = sum(m.get("errors", 0) for m in summary["models"])
    said = "Execution match by " + " and ".join(f"{k} rules" + (f" ({v} rows)" if len(rules) > 1 else "")
                                                for k, v in sorted(rules.items())) + "."
    return said + (f" {errors} rows raised during evaluation and count as wrong." if errors else "")


def render(summary: dict, results: list[ExampleResult], plots: list[str]) -> str:
    lines = [f"# Evaluation: {summary['data']}", "", f"{summary['n']} examples. Rates are over the examples where "
             "the metric could be computed (– where it could not). " + _rules_line(summary), "", "## Models", ""]
    lines += _models_table(summary)
    lines += ["", "## Execution accuracy by category", ""] + _category_table(summary)
    lines += [""] + [f"![{p}]({p})" for p in plots]
    for m in summary["models"]:
        mine = [r for r in results if r.model == m["spec"]]
        agree = agreement(mine)
        if agree:
            lines += ["", f"## Judge vs execution ({m['name']})", "",
                      "| | execution correct | execution wrong |", "|---|---|---|",
                      f"| judge correct | {agree['both_correct']} | {agree['judge_only']} |",
                      f"| judge wrong | {agree['execution_only']} | {agree['both_wrong']} |", "",
                      f"Agreement {pct(agree['agreement'])}, Cohen's kappa {agree['kappa']:.2f} over {agree['n']} examples."]
            dis = [r for r in mine if r.judge and r.judge.get("verdict") and r.execution_match is not None
                   and (r.judge["verdict"] == "correct") != r.execution_match][:10]
            lines += ["", "Disagreements:"] + [f"- {r.id}: judge {r.judge['verdict']}, execution "
                                              f"{'match' if r.execution_match else 'mismatch'}: `{_code(r.predicted)}`" for r in dis]
        lines += ["", f"## Worst failures ({m['name']})", ""] + _failures(mine)
    return "\n".join(lines) + "\n"


def write_report(out: Path, summary: dict, results: list[ExampleResult]) -> None:
    plots = plot(out, summary, results)
    (out / "report.md").write_text(render(summary, results, plots))


def main(argv: list[str] | None = None) -> int:
    out = Path((argv or sys.argv[1:])[0])
    summary = json.loads((out / "summary.json").read_text())
    results = [ExampleResult(**json.loads(line)) for line in (out / "predictions.jsonl").read_text().splitlines() if line]
    specs = {m["spec"] for m in summary["models"]}
    write_report(out, summary, [r for r in results if r.model in specs])
    return 0


if __name__ == "__main__":
    sys.exit(main())
