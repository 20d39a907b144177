"""python -m benchmarks.app [--calls 20] [--base-model packaged] [--ft-model DIR | --base-only] [--backend auto]

End-to-end latency of the app's generate_sql through gradio_client (p50/p95 over N calls, one at a
time, the company example schema), the cold start (from importing the app to the first answer:
models converted/loaded, server up), the answers' mean length in tokens and the process's peak RSS.
--base-only answers with the base model (FT_MODEL unset).
"""

from __future__ import annotations

import argparse
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
    args = p.parse_args()
    start = time.perf_counter()
    if args.ft_model or args.base_only:
        os.environ["FT_MODEL"] = "" if args.base_only else args.ft_model
    os.environ["BASE_MODEL"] = args.base_model
    os.environ["BACKEND"] = args.backend
    import app
    from gradio_client import Client

    app.demo.queue()
    _, url, _ = app.demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    client = Client(url, verbose=False)
    schema = app.SCHEMAS["company"]
    client.predict(QUESTIONS[0], schema, "sqlite", None, api_name="/generate_sql")
    cold = time.perf_counter() - start
    times, tokens = [], []
    for i in range(args.calls):
        t = time.perf_counter()
        sql, verdict = client.predict(QUESTIONS[i % len(QUESTIONS)], schema, "sqlite", None, api_name="/generate_sql")
        times.append(time.perf_counter() - t)
        tokens.append(int(verdict.split(" tokens in ")[0].split()[-1]))
    times.sort()
    print(f"model: {app.POOL.get('ft' if app.CONFIG.ft_model else 'base').label}")
    print(f"answer length: {statistics.mean(tokens):.0f} new tokens on average; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print(f"cold start to first answer: {cold:.1f} s")
    print(f"generate_sql over {args.calls} calls: p50 {statistics.median(times):.2f} s, "
          f"p95 {times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]:.2f} s")
    app.demo.close()


if __name__ == "__main__":
    main()
