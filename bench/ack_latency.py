"""Slash-command acknowledgement latency through the production path, beside its floor.

`sentibot serve` (gunicorn, gthread, one worker process) receives signed `/sentiment analyze`
requests over HTTP; each one checks the person's quota, stores a Job row and enqueues its id
on Redis before the bot answers. The floor is a bare Bolt app whose listener only acks, on the
same server settings (bench/bare_bolt.py). Reports p50, p95, p99 and max of each.

    .venv/bin/python bench/ack_latency.py [--requests 500] [--concurrency 1,8]
        [--also-without-process-before-response]

Uses REDIS_URL and DATABASE_URL when set, else the embedded redis-server and a SQLite file.
No worker runs, so the numbers are the bot's own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from devtools.stack import SIGNING_SECRET, ServiceStack, cpu_model, free_port
from sentibot.embedded import drop_broker_keys, redis_client_url


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def measure(stack: ServiceStack, n: int, concurrency: int) -> list[float]:
    run = uuid.uuid4().hex[:8].upper()

    def one(i: int) -> float:
        started = time.perf_counter()
        # Many people, as in a real workspace: each one's quota is checked, none is met.
        response = stack.command(
            f"analyze bench{i} --sources x", channel="CBENCH", user=f"U{run}{i + 100}"
        )
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or "Analyzing" not in response.text:
            raise RuntimeError(f"bad ack: {response.status_code} {response.text[:200]}")
        return elapsed * 1000

    for i in range(20):  # warm up connections and caches
        one(-i - 1)
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, range(n)))


def bare_floor(n: int, levels: list[int]) -> list[tuple[int, list[float]]]:
    """The same requests against a Bolt app that only acks, on the same gunicorn settings."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("bare_bolt.py")), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url + "/healthz", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        bare = ServiceStack(data_dir=Path(tempfile.mkdtemp()), start_worker_process=False)
        bare.bot_url = url
        with bare.slack:  # only for the response_url each command carries
            assert bare.command("analyze warm", secret=SIGNING_SECRET).status_code == 200
            return [(conc, measure(bare, n, conc)) for conc in levels]
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--also-without-process-before-response", action="store_true")
    parser.add_argument("--json", action="store_true", help="one JSON line (bench/goals.py)")
    args = parser.parse_args()
    found: dict[str, dict[int, float]] = {"bare": {}, "sentibot": {}}
    levels = [int(c) for c in args.concurrency.split(",")]
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    print(f"database: {os.environ.get('DATABASE_URL') or 'SQLite file (embedded default)'}")
    print(f"broker: {os.environ.get('REDIS_URL') or 'embedded redis-server (unix socket)'}")
    columns = ("conc", "n", "p50", "p95", "p99", "max")
    print(f"{'server':>34} " + " ".join(f"{c:>8}" for c in columns) + "  (ms)")

    def row(name: str, conc: int, ms: list[float]) -> None:
        print(
            f"{name:>34} {conc:>8} {len(ms):>8} {statistics.median(ms):8.1f} "
            f"{percentile(ms, 95):8.1f} {percentile(ms, 99):8.1f} {max(ms):8.1f}"
        )

    for conc, ms in bare_floor(args.requests, levels):
        found["bare"][conc] = percentile(ms, 99)
        row("bare Bolt app (the floor)", conc, ms)
    for before in (True, False) if args.also_without_process_before_response else (True,):
        with tempfile.TemporaryDirectory(prefix="sentibot-bench-") as tmp:
            stack = ServiceStack(
                data_dir=Path(tmp),
                database_url=os.environ.get("DATABASE_URL"),
                redis_url=os.environ.get("REDIS_URL"),
                broker_prefix=f"sentibot-bench-{os.getpid()}:",
                start_worker_process=False,
                extra_env={
                    "SLACK_PROCESS_BEFORE_RESPONSE": str(before).lower(),
                },
            )
            with stack:
                for conc in levels:
                    ms = measure(stack, args.requests, conc)
                    if before:
                        found["sentibot"][conc] = percentile(ms, 99)
                    row(f"sentibot, process_before_response={before}".lower(), conc, ms)
                # No worker ran: remove the benchmark's messages from the broker.
                drop_broker_keys(redis_client_url(stack.settings()), stack.broker_prefix)
    if args.json:
        print(json.dumps({"p99_ms": found}))


if __name__ == "__main__":
    main()
