"""python -m benchmarks.swamp [--at-once 8] [--timeout 120]

Eight queries that try to swamp the server, sent at once through gradio_client to a real app process
(`python app.py`, the packaged base on transformers; run_sql needs no model): a 300 MB printf, a 1 GB
randomblob, a 2 GB zeroblob, an endless stream of 900 KB rows. Measured twice in one run: with the
default limits (README: Limits and safety) and with the limits lifted (NL2SQL_MAX_VALUE_BYTES etc. set
to 2 GB, as before the limits existed). For each: the server's peak RSS (VmHWM) before and after, the
seconds until all eight answered (or the timeout), and the seconds a normal question takes afterwards.
The last line is the result as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = (ROOT / "examples" / "company.sql").read_text()
SWAMP = ["SELECT printf('%.*c', 300000000, 'x')", "SELECT length(randomblob(1000000000))",
         "SELECT zeroblob(2000000000)",
         "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT printf('%.*c', 900000, 'x') FROM c"]
LIFTED = {"NL2SQL_MAX_VALUE_BYTES": "2000000000", "NL2SQL_MAX_RESULT_BYTES": "2000000000",
          "NL2SQL_SQLITE_HEAP_MB": "16384"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _client(url: str, deadline: float):
    from gradio_client import Client

    while True:
        try:
            return Client(url, verbose=False)
        except Exception:  # noqa: BLE001 - the server is still starting
            if time.time() > deadline:
                raise
            time.sleep(1)


def measure(extra_env: dict, at_once: int, timeout: float) -> dict:
    port = _port()
    env = {**os.environ, "BASE_MODEL": "packaged", "FT_MODEL": "", "BACKEND": "transformers", **extra_env}
    server = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = _client(f"http://127.0.0.1:{port}/", time.time() + 300)
        client.predict("SELECT 1", "sqlite", SCHEMA, None, api_name="/run_sql")
        before = _peak_mb(server.pid)
        start = time.perf_counter()
        pool = ThreadPoolExecutor(max_workers=at_once)
        jobs = [pool.submit(client.predict, q, "sqlite", SCHEMA, None, api_name="/run_sql")
                for q in (SWAMP * at_once)[:at_once]]
        done, pending = wait(jobs, timeout=timeout)
        swamp_s = time.perf_counter() - start
        statuses = [j.result()[1] if not j.exception() else f"error: {j.exception()}"[:120] for j in done]
        t = time.perf_counter()
        fresh = _client(f"http://127.0.0.1:{port}/", time.time() + 60)
        _, status = fresh.predict("SELECT COUNT(*) FROM employees", "sqlite", SCHEMA, None, api_name="/run_sql")
        normal_s = time.perf_counter() - t
        pool.shutdown(wait=False, cancel_futures=True)
        return {"limits": "lifted" if extra_env else "default", "peak_rss_before_mb": round(before),
                "peak_rss_after_mb": round(_peak_mb(server.pid)), "answered": len(done), "unanswered": len(pending),
                "seconds_for_all": round(swamp_s, 1), "normal_query_after_s": round(normal_s, 2),
                "normal_status": status, "statuses": statuses}
    finally:
        server.kill()
        server.wait()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--at-once", type=int, default=8)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the eight answers")
    args = p.parse_args()
    results = [measure({}, args.at_once, args.timeout), measure(LIFTED, args.at_once, args.timeout)]
    for r in results:
        print(f"limits {r['limits']}: peak RSS {r['peak_rss_before_mb']} -> {r['peak_rss_after_mb']} MB; "
              f"{r['answered']}/{args.at_once} answered in {r['seconds_for_all']} s; a normal query afterwards "
              f"{r['normal_query_after_s']} s ({r['normal_status']})")
    print("RESULT " + json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
