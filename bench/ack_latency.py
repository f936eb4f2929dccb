"""Slash-command acknowledgement latency through the production path.

`sentibot serve` (gunicorn, gthread) receives signed `/sentiment analyze` requests over HTTP;
each one stores a Job row and enqueues its id on Redis before the bot answers. Reports p50,
p95, p99 and max per setting of Bolt's `process_before_response`.

    .venv/bin/python bench/ack_latency.py [--requests 500] [--concurrency 1,8]

Uses REDIS_URL and DATABASE_URL when set, else the embedded redis-server and a SQLite file.
No worker runs, so the numbers are the bot's own.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devtools.stack import ServiceStack
from sentibot.embedded import drop_broker_keys, redis_client_url


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(stack: ServiceStack, n: int, concurrency: int) -> list[float]:
    def one(i: int) -> float:
        started = time.perf_counter()
        response = stack.command(f"analyze bench{i} --sources x", channel="CBENCH")
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or "Analyzing" not in response.text:
            raise RuntimeError(f"bad ack: {response.status_code} {response.text[:200]}")
        return elapsed * 1000

    for i in range(20):  # warm up connections and caches
        one(-i - 1)
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, range(n)))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", default="1,8")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    print(f"database: {os.environ.get('DATABASE_URL') or 'SQLite file (embedded default)'}")
    print(f"broker: {os.environ.get('REDIS_URL') or 'embedded redis-server (unix socket)'}")
    columns = ("conc", "n", "p50", "p95", "p99", "max")
    print(f"{'process_before_response':>24} " + " ".join(f"{c:>8}" for c in columns) + "  (ms)")
    for before in (True, False):
        with tempfile.TemporaryDirectory(prefix="sentibot-bench-") as tmp:
            stack = ServiceStack(
                data_dir=Path(tmp),
                database_url=os.environ.get("DATABASE_URL"),
                redis_url=os.environ.get("REDIS_URL"),
                broker_prefix=f"sentibot-bench-{os.getpid()}:",
                start_worker_process=False,
                extra_env={"SLACK_PROCESS_BEFORE_RESPONSE": str(before).lower()},
            )
            with stack:
                for conc in levels:
                    ms = measure(stack, args.requests, conc)
                    print(
                        f"{before!s:>24} {conc:>8} {len(ms):>8} {statistics.median(ms):8.1f} "
                        f"{percentile(ms, 95):8.1f} {percentile(ms, 99):8.1f} {max(ms):8.1f}"
                    )
                # No worker ran: remove the benchmark's messages from the broker.
                drop_broker_keys(redis_client_url(stack.settings()), stack.broker_prefix)


if __name__ == "__main__":
    main()
