"""python -m benchmarks.linking [--sweep] [--tokens 300] [--large] [--model-rank [--limit N]]

How well schema linking (nl2sql.link) keeps the tables a question needs: on Spider train, Spider dev and
the synthetic test split, the share of questions whose gold tables are all shown (recall), the share of
tables shown, overall and on schemas of 8+ tables; and prompt tokens with and without linking (first N
rows of each set, the packaged model's tokenizer). --sweep tries settings on Spider train only (dev
stays for the report) and prints one line per setting. --large times the shipped model as served on a
generated 60-table schema with linking on and off. --model-rank compares the word ranking with two
rankings by the shipped model on the Spider dev questions over 8+ tables (see model_rank). The last line
is the result as JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from nl2sql import link as linking
from nl2sql.data import golds, load_rows
from nl2sql.schema import SchemaError, prepare_schema
from training.sft import used_tables

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SETS = {"spider_train": str(SHARED / "spider_train" / "spider_train.jsonl"),
        "spider_dev": str(SHARED / "spider_dev" / "spider_dev.jsonl"), "synthetic_test": "synthetic:test"}


@dataclass
class Case:
    question: str
    schema: object  # PreparedSchema
    gold: set[str]


def cases(source: str) -> list[Case]:
    out = []
    for row in load_rows(source, split="test", limit=1000 if source.startswith("synthetic") else None, seed=0):
        gold_sql = golds(row)[0]
        try:
            schema = prepare_schema(row["schema"])
        except (SchemaError, KeyError, TypeError):
            continue
        names = {t.name.lower() for t in schema.parsed.tables}
        gold = used_tables(gold_sql) & names
        if gold:
            out.append(Case(row["question"], schema, gold))
    return out


def measure(rows: list[Case]) -> dict:
    def stats(subset: list[Case]) -> dict:
        if not subset:
            return {"n": 0}
        shown = [linking.link(c.question, c.schema.parsed) for c in subset]
        kept = [{t.lower() for t in s.tables} for s in shown]
        total = [len(c.schema.parsed.tables) for c in subset]
        return {"n": len(subset), "recall": round(sum(c.gold <= k for c, k in zip(subset, kept)) / len(subset), 4),
                "tables_kept": round(sum(len(k) for k in kept) / sum(total), 4),
                "mean_tables": round(statistics.mean(total), 1)}

    return {"all": stats(rows), "8+ tables": stats([c for c in rows if len(c.schema.parsed.tables) >= 8])}


def prompt_tokens(rows: list[Case], n: int) -> dict:
    """Mean prompt tokens without and with linking: the first n rows, and the first n on 8+ tables."""
    from nl2sql.models import load_tokenizer
    from nl2sql.prompt import build_prompt

    tok = load_tokenizer("packaged")
    size = lambda p: len(tok(p, add_special_tokens=False)["input_ids"])  # noqa: E731

    def means(subset: list[Case]) -> dict:
        if not subset:
            return {"n": 0}
        whole = [size(build_prompt(c.question, c.schema.parsed, tok)) for c in subset]
        linked = [size(build_prompt(c.question, c.schema.parsed, tok,
                                    tables=linking.link(c.question, c.schema.parsed).tables)) for c in subset]
        return {"n": len(subset), "mean_whole": round(statistics.mean(whole)),
                "mean_linked": round(statistics.mean(linked))}

    return {"all": means(rows[:n]), "8+ tables": means([c for c in rows if len(c.schema.parsed.tables) >= 8][:n])}


def large_schema(n_tables: int = 60, questions: int = 5) -> dict:
    """Seconds per answer of the shipped model as served on a generated schema of n_tables tables
    (about 10,000 characters at 60), with schema linking on and off."""
    import time

    from nl2sql.backends import open_backend
    from nl2sql.models import default_model
    from nl2sql.pipeline import Decoding, Request, answer

    def ddl(prefix: str) -> str:  # a new prefix per question: no prompt prefix is reused from the last one
        return "".join(f"CREATE TABLE {prefix}{i} (id INTEGER PRIMARY KEY, title_{i} TEXT, amount_{i} REAL, "
                       f"created_{i} DATE, status_{i} TEXT, {prefix}{max(i - 1, 0)}_id INTEGER REFERENCES "
                       f"{prefix}{max(i - 1, 0)}(id));\n" for i in range(n_tables))

    lm = open_backend(default_model())
    answer(lm, Request("How many?", "CREATE TABLE t (id INT);"))  # warm up
    out = {"tables": n_tables, "schema_chars": len(ddl("shop"))}
    for on in (False, True):
        times, stops = [], []
        for k in range(questions):
            prefix, i = f"{'ab'[on]}{k}shop", 3 + k
            start = time.perf_counter()
            ans = answer(lm, Request(f"What is the total amount_{i} of {prefix}{i}?", ddl(prefix)), Decoding(link=on))
            times.append(time.perf_counter() - start)
            stops.append(ans.generation.stop)
        out["link on" if on else "link off"] = {"mean_s": round(statistics.mean(times), 2),
                                                "max_s": round(max(times), 2), "stops": stops}
    return out


def _worst_rank(ranked: list[str], gold: set[str]) -> int:
    """How many of `ranked` must be kept for every gold table to be among them."""
    return max(ranked.index(g) for g in gold) + 1


def model_rank(rows: list[Case], limit: int | None = None) -> dict:
    """Does the model rank a schema's tables better than words do, and at what cost? On the questions of
    `rows` over 8+ tables, three rankings of the tables: the linker's word scores; the shipped model's
    likelihood of each table name right after `SELECT * FROM` under the whole-schema prompt (transformers,
    one pass over the prompt, then one short pass per table from its cache); and the tables of the
    shipped model's own answer as served with the whole schema (linking off). Reported: recall when the
    top k are kept (all gold tables among them, before foreign-key joins are added), the recall and share
    of tables shown when the linker's choice is widened by the model's answer, and seconds per question."""
    import copy
    import time

    import torch

    from nl2sql.backends import open_backend
    from nl2sql.models import default_model, load
    from nl2sql.pipeline import Decoding, Request, answer
    from nl2sql.prompt import build_prompt

    rows = [c for c in rows if len(c.schema.parsed.tables) >= 8][:limit]
    spec = default_model()
    lm, served = load(spec, dtype="float32"), open_backend(spec)
    tok, model = lm.tokenizer, lm.model
    words_k, like_k, shown_n, shown_hit, widened_n, widened_hit, answer_hit = [], [], [], [], [], [], []
    like_s, answer_s = [], []
    for c in rows:
        parsed = c.schema.parsed
        names = [t.name for t in parsed.tables]
        linked = linking.link(c.question, parsed)
        words_k.append(_worst_rank([n.lower() for n in sorted(names, key=lambda n: -linked.scores[n])], c.gold))
        start = time.perf_counter()
        prefix = tok(build_prompt(c.question, parsed, tok) + "SELECT * FROM", add_special_tokens=False,
                     return_tensors="pt")["input_ids"]
        with torch.no_grad():
            out = model(prefix, use_cache=True)
            first = torch.log_softmax(out.logits[0, -1].float(), -1)
            score = {}
            for n in names:
                ids = tok(" " + n, add_special_tokens=False)["input_ids"]
                total = float(first[ids[0]])
                if len(ids) > 1:
                    rest = model(torch.tensor([ids[:-1]]), past_key_values=copy.deepcopy(out.past_key_values))
                    logp = torch.log_softmax(rest.logits[0].float(), -1)
                    total += float(sum(logp[i, t] for i, t in enumerate(ids[1:])))
                score[n.lower()] = total
        like_s.append(time.perf_counter() - start)
        like_k.append(_worst_rank(sorted(score, key=lambda n: -score[n]), c.gold))
        start = time.perf_counter()
        own = used_tables(answer(served, Request(c.question, c.schema.text), Decoding(link=False)).model_sql)
        answer_s.append(time.perf_counter() - start)
        shown = {t.lower() for t in linked.tables}
        widened = linking.joined(shown | (own & set(score)), parsed)
        shown_n.append(len(shown) / len(names))
        shown_hit.append(c.gold <= shown)
        widened_n.append(len(widened) / len(names))
        widened_hit.append(c.gold <= widened)
        answer_hit.append(c.gold <= own)

    def recall_at(ks: list[int]) -> dict:
        return {f"top {k}": round(sum(r <= k for r in ks) / len(ks), 4) for k in (1, 2, 3, 4, 6)}

    n = len(rows)
    return {"n": n, "mean_tables": round(statistics.mean(len(c.schema.parsed.tables) for c in rows), 1),
            "words": {**recall_at(words_k), "linker recall": round(sum(shown_hit) / n, 4),
                      "linker tables shown": round(statistics.mean(shown_n), 4)},
            "likelihood": {**recall_at(like_k), "s_per_question": round(statistics.mean(like_s), 3)},
            "own answer": {"recall": round(sum(answer_hit) / n, 4), "s_per_question": round(statistics.mean(answer_s), 3)},
            "linker + own answer": {"recall": round(sum(widened_hit) / n, 4),
                                    "tables shown": round(statistics.mean(widened_n), 4)}}


def sweep(rows: list[Case]) -> None:
    for pass_through, relative, min_kept, hops in itertools.product((6,), (0.05, 0.1, 0.2, 0.3), (2, 3, 4), (3,)):
        linking.PASS_THROUGH, linking.RELATIVE, linking.MIN_KEPT, linking.MAX_HOPS = pass_through, relative, min_kept, hops
        m = measure(rows)
        print(f"pass_through {pass_through} relative {relative} min_kept {min_kept} hops {hops}: "
              f"recall {m['all']['recall']:.3f} kept {m['all']['tables_kept']:.3f} | 8+: recall "
              f"{m['8+ tables']['recall']:.3f} kept {m['8+ tables']['tables_kept']:.3f}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sweep", action="store_true", help="try settings on Spider train")
    p.add_argument("--tokens", type=int, default=300, help="rows per set for the prompt-token figures")
    p.add_argument("--large", action="store_true", help="time the shipped model on a 60-table schema, link on/off")
    p.add_argument("--model-rank", action="store_true",
                   help="compare word ranking with the shipped model's rankings on Spider dev, 8+ tables")
    p.add_argument("--limit", type=int, default=None, help="--model-rank: at most this many questions")
    args = p.parse_args()
    if args.model_rank:
        print("RESULT " + json.dumps(model_rank(cases(SETS["spider_dev"]), args.limit)), flush=True)
        return
    if args.large:
        print("RESULT " + json.dumps(large_schema()), flush=True)
        return
    data = {name: cases(src) for name, src in SETS.items()}
    if args.sweep:
        sweep(data["spider_train"])
        return
    result = {name: {**measure(rows), "prompt_tokens": prompt_tokens(rows, args.tokens)} for name, rows in data.items()}
    for name, r in result.items():
        print(f"{name}: recall {r['all']['recall']:.1%}, tables kept {r['all']['tables_kept']:.1%} "
              f"(n {r['all']['n']}); 8+ tables: recall {r['8+ tables'].get('recall', 0):.1%}, kept "
              f"{r['8+ tables'].get('tables_kept', 0):.1%} (n {r['8+ tables']['n']}); prompt tokens "
              f"{r['prompt_tokens']['all']} | 8+: {r['prompt_tokens']['8+ tables']}")
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
