"""python -m benchmarks.app [--calls 20] [--base-model packaged] [--ft-model DIR]

End-to-end latency of the app's generate_sql through gradio_client (p50/p95 over N calls, one at a
time, the company example schema), and the cold start: from importing the app to the first answer
(models converted/loaded, server up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

QUESTIONS = ["How many employees are there?", "What is the highest salary?", "List the names of all departments.",
             "Which employees were hired after 2020?", "What is the average salary in each department?"]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--base-model", default="packaged")
    p.add_argument("--ft-model", default=None, help="default: the shipped adapter")
    args = p.parse_args()
    start = time.perf_counter()
    if args.ft_model:
        os.environ["FT_MODEL"] = args.ft_model
    os.environ["BASE_MODEL"] = args.base_model
    import app
    from gradio_client import Client

    app.demo.queue()
    _, url, _ = app.demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    client = Client(url, verbose=False)
    schema = app.SCHEMAS["company"]
    client.predict(QUESTIONS[0], schema, "sqlite", None, api_name="/generate_sql")
    cold = time.perf_counter() - start
    times = []
    for i in range(args.calls):
        t = time.perf_counter()
        sql, verdict = client.predict(QUESTIONS[i % len(QUESTIONS)], schema, "sqlite", None, api_name="/generate_sql")
        times.append(time.perf_counter() - t)
    times.sort()
    model = app.POOL.get("ft" if app.CONFIG.ft_model else "base").name
    print(f"model: {model}")
    print(f"cold start to first answer: {cold:.1f} s")
    print(f"generate_sql over {args.calls} calls: p50 {statistics.median(times):.2f} s, "
          f"p95 {times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]:.2f} s")
    app.demo.close()


if __name__ == "__main__":
    main()
