"""python -m benchmarks.app [--calls 20] [--base-model packaged] [--ft-model DIR | --base-only] [--backend auto]
                           [--workload company|spider]

End-to-end latency of the app's generate_sql through gradio_client (p50/p95 over N calls, one at a
time), the cold start (from importing the app to the first answer: models converted/loaded, server
up), the answers' mean length in tokens and the process's peak RSS. --base-only answers with the
base model (FT_MODEL unset). Workloads: the company example schema, or the Spider dev schema whose
prompt is about 300 tokens with its own questions. The last line is the result as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time

QUESTIONS = ["How many employees are there?", "What is the highest salary?", "List the names of all departments.",
             "Which employees were hired after 2020?", "What is the average salary in each department?"]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--base-model", default="packaged")
    p.add_argument("--ft-model", default=None, help="default: the shipped adapter")
    p.add_argument("--base-only", action="store_true", help="answer with the base model")
    p.add_argument("--backend", default="auto")
    p.add_argument("--workload", choices=("company", "spider"), default="company")
    args = p.parse_args()
    start = time.perf_counter()
    if args.ft_model or args.base_only:
        os.environ["FT_MODEL"] = "" if args.base_only else args.ft_model
    os.environ["BASE_MODEL"] = args.base_model
    os.environ["BACKEND"] = args.backend
    import app
    from gradio_client import Client

    from benchmarks.generate import pct

    ui = app.App(app.ServiceConfig.from_env())
    page = app.build(ui)
    page.queue()
    _, url, _ = page.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    client = Client(url, verbose=False)
    schema, questions = workload(args.workload, app)
    client.predict(questions[0], schema, "sqlite", None, api_name="/generate_sql")
    cold = time.perf_counter() - start
    times, tokens = [], []
    for i in range(args.calls):
        t = time.perf_counter()
        sql, verdict = client.predict(questions[(i + 1) % len(questions)], schema, "sqlite", None,
                                      api_name="/generate_sql")
        times.append(time.perf_counter() - t)
        tokens.append(int(verdict.split(" tokens in ")[0].split()[-1]))
    result = {"model": ui.pool.get("ft" if ui.config.ft_model else "base").label, "workload": args.workload,
              "calls": args.calls, "cold_start_s": cold, "p50_s": pct(times, 0.5), "p95_s": pct(times, 0.95),
              "new_tokens_mean": statistics.mean(tokens),
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print(f"model: {result['model']}")
    print(f"answer length: {result['new_tokens_mean']:.0f} new tokens on average; "
          f"peak RSS {result['peak_rss_mb']:.0f} MB")
    print(f"cold start to first answer: {cold:.1f} s")
    print(f"generate_sql over {args.calls} calls: p50 {result['p50_s']:.2f} s, p95 {result['p95_s']:.2f} s")
    print("RESULT " + json.dumps(result), flush=True)
    page.close()


def workload(name: str, app) -> tuple[str, list[str]]:
    """(schema with rows, questions): the company example, or the ~300-token Spider dev schema."""
    if name == "company":
        return app.SCHEMAS["company"], QUESTIONS
    from benchmarks.generate import pick_workload
    from nl2sql.data import SPIDER_DEV, shared_data
    from nl2sql.models import load_tokenizer

    rows = [json.loads(line) for line in shared_data(SPIDER_DEV).open()]
    return pick_workload(rows, load_tokenizer("packaged"))


if __name__ == "__main__":
    main()
