"""python -m benchmarks.load [--backend llama.cpp|remote | --url URL [--pid PID]] [--users 1,8] [--seconds 60]
                           [--requests R] [--threads 2] [--constrain] [--out runs/load.json]

Many users at once: N simultaneous gradio_client users, each asking the app's generate_sql one question
after another (the company schema's questions of `benchmarks.app`, each user starting at another one), for
`--seconds` per level (or until `--requests` answers). Per level: answers per second, p50/p95/p99 latency,
errors, and the peak RSS of the app process and of the model server during the level.

Without --url the app is started here (`python app.py` in a subprocess, the shipped fine-tuned model):
`--backend llama.cpp` answers in the app's own process; `--backend remote` first starts llama.cpp's
OpenAI-compatible server (`benchmarks.llama_server`, `--threads` threads) and points the app at it
(BACKEND=remote, NL2SQL_REMOTE_URL). The app's model calls at once follow the backend (1 local, 8 remote;
CONCURRENCY overrides). Decoding is unconstrained on both unless --constrain (a server cannot be
constrained), so the two engines do the same work. The last line is the result as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from benchmarks.app import QUESTIONS
from benchmarks.generate import pct

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = (ROOT / "examples" / "company.sql").read_text()


def rss_mb(pid: int | None, field: str = "VmRSS") -> float | None:
    """A process's resident set (VmRSS) or its peak so far (VmHWM) in MB, from /proc; None if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, TypeError, ValueError):
        pass
    return None


class Peaks:
    """Samples the RSS of some processes every `every` seconds in a thread; `peaks` holds each one's highest."""

    def __init__(self, pids: dict[str, int | None], every: float = 0.25):
        self.pids, self.every = {k: v for k, v in pids.items() if v}, every
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                mb = rss_mb(pid)
                if mb is not None:
                    self.peaks[name] = max(self.peaks.get(name, 0.0), mb)
            self._stop.wait(self.every)

    def __enter__(self) -> "Peaks":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def wait_for(url: str, proc: subprocess.Popen | None, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            raise RuntimeError(f"the app at {url} did not come up")
        time.sleep(0.5)


def start_app(backend: str, port: int, constrain: bool, env_more: dict, log: Path) -> subprocess.Popen:
    env = {**os.environ, "CONSTRAIN": "1" if constrain else "0", **env_more}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port), "--backend",
                                 backend], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc


def user_loop(url: str, first: int, deadline: float, budget: list[int], lock: threading.Lock,
              latencies: list[float], errors: list[str]) -> None:
    """One user: its own gradio_client, asking until the deadline or until the shared budget of answers is spent."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    i = first
    while time.monotonic() < deadline:
        with lock:
            if budget[0] <= 0:
                return
            budget[0] -= 1
        t = time.perf_counter()
        try:
            _, verdict = client.predict(QUESTIONS[i % len(QUESTIONS)], SCHEMA, "sqlite", None,
                                        api_name="/generate_sql")[:2]
            if "tokens/s" not in verdict:
                raise RuntimeError(f"no answer: {verdict[:200]}")
            latencies.append(time.perf_counter() - t)
        except Exception as e:  # noqa: BLE001 - every failure counts as an error of the run
            errors.append(f"{type(e).__name__}: {str(e)[:200]}")
        i += 1


def level(url: str, users: int, seconds: float, requests: int | None, pids: dict) -> dict:
    """`users` users at once for `seconds` (or `requests` answers): throughput, latency, errors, peak RSS."""
    latencies, errors, lock = [], [], threading.Lock()
    budget = [requests or 10**9]
    load_before = os.getloadavg()[0]
    with Peaks(pids) as peaks:
        start = time.monotonic()
        threads = [threading.Thread(target=user_loop, args=(url, u, start + seconds, budget, lock, latencies, errors))
                   for u in range(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - start
    out = {"users": users, "seconds": round(wall, 1), "answers": len(latencies), "errors": len(errors),
           "answers_per_s": round(len(latencies) / wall, 3), "load_avg_1m": [round(load_before, 2),
                                                                              round(os.getloadavg()[0], 2)]}
    if latencies:
        out.update({f"p{q}_s": round(pct(latencies, q / 100), 2) for q in (50, 95, 99)})
    out.update({f"peak_rss_{name}_mb": round(mb) for name, mb in peaks.peaks.items()})
    if errors:
        out["first_error"] = errors[0]
    return out


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[1])
    p.add_argument("--backend", choices=("llama.cpp", "remote"), default="llama.cpp",
                   help="the app's backend when it is started here")
    p.add_argument("--url", help="a running app instead (its RSS only with --pid)")
    p.add_argument("--pid", type=int, help="the running app's process id, for its RSS")
    p.add_argument("--users", default="1,8", help="comma-separated levels of simultaneous users")
    p.add_argument("--seconds", type=float, default=60, help="per level")
    p.add_argument("--requests", type=int, help="stop a level after this many answers")
    p.add_argument("--threads", type=int, default=2, help="the llama.cpp server's threads (--backend remote)")
    p.add_argument("--constrain", action="store_true", help="schema-constrained decoding (local engines only)")
    p.add_argument("--out", type=Path, help="also write the result as JSON here")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from benchmarks.llama_server import FT_NAME, LlamaServer, free_port
    from nl2sql.models import cpu_name

    result = {"backend": "url" if args.url else args.backend, "cpu": cpu_name(), "cores": len(os.sched_getaffinity(0)),
              "date": time.strftime("%Y-%m-%d"), "command": "python -m benchmarks.load " + " ".join(sys.argv[1:]),
              "constrain": args.constrain, "levels": []}
    with ExitStack() as stack:
        url, pids, server = args.url, {"app": args.pid}, None
        if not url:
            env = {}
            if args.backend == "remote":
                server = stack.enter_context(LlamaServer(threads=args.threads))
                env = {"NL2SQL_REMOTE_URL": server.url, "NL2SQL_REMOTE_MODEL": FT_NAME}
                pids["server"] = server.pid
            port = free_port()
            log = Path(os.environ.get("TMPDIR", "/tmp")) / f"nl2sql-load-app-{port}.log"
            proc = start_app(args.backend, port, args.constrain, env, log)
            stack.callback(lambda: (proc.terminate(), proc.wait(timeout=30)))
            url, pids["app"] = f"http://127.0.0.1:{port}/", proc.pid
            wait_for(url, proc)
        first = level(url, 1, 600, 1, pids)  # the first answer loads the model: not measured
        if first["errors"]:
            raise SystemExit(f"the app does not answer: {first.get('first_error')}")
        for users in [int(u) for u in args.users.split(",")]:
            row = level(url, users, args.seconds, args.requests, pids)
            result["levels"].append(row)
            print(json.dumps(row), flush=True)
        result["peak_rss_mb"] = {name: round(rss_mb(pid, "VmHWM") or 0) for name, pid in pids.items() if pid}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
