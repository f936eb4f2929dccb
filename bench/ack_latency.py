"""Slash-command acknowledgement latency through the production path, beside its floor.

`sentibot serve` (gunicorn, gthread, one worker process) receives signed `/sentiment analyze`
requests over HTTP; each one checks the person's quota, stores a Job row and enqueues its id
on Redis before the bot answers. The floor is a bare Bolt app whose listener only acks, on the
same server settings (bench/bare_bolt.py), both up at once and asked in alternating turns
(`--rounds`), so drift in the machine's speed weighs on both alike. Reports p50, p95, p99
and max of each.

    .venv/bin/python bench/ack_latency.py [--requests 500] [--concurrency 1,8] [--rounds 5]
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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

from devtools.stack import SIGNING_SECRET, ServiceStack, cpu_model, free_port
from sentibot.embedded import drop_broker_keys, redis_client_url

SENTIBOT = "sentibot, process_before_response=true"


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


@contextmanager
def bare_server() -> Iterator[ServiceStack]:
    """A Bolt app that only acks, on the same gunicorn settings, addressed like a stack."""
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
            yield bare
    finally:
        server.terminate()
        server.wait()


def side_by_side(
    stacks: dict[str, ServiceStack], n: int, conc: int, rounds: int
) -> dict[str, list[float]]:
    """`n` requests to each server in `rounds` alternating turns, so a machine that speeds up
    or slows down during the run (a shared two-core VM does) weighs on both alike."""
    found: dict[str, list[float]] = {name: [] for name in stacks}
    for _ in range(rounds):
        for name, stack in stacks.items():
            found[name] += measure(stack, max(1, n // rounds), conc)
    return found


def _sentibot(before: bool, tmp: str) -> ServiceStack:
    return ServiceStack(
        data_dir=Path(tmp),
        database_url=os.environ.get("DATABASE_URL"),
        redis_url=os.environ.get("REDIS_URL"),
        broker_prefix=f"sentibot-bench-{os.getpid()}-{before}:",
        start_worker_process=False,
        extra_env={"SLACK_PROCESS_BEFORE_RESPONSE": str(before).lower()},
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--rounds", type=int, default=5, help="alternating turns per level")
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

    with ExitStack() as running, tempfile.TemporaryDirectory(prefix="sentibot-bench-") as tmp:
        bare = running.enter_context(bare_server())
        ours = running.enter_context(_sentibot(True, tmp))
        for conc in levels:
            ms = side_by_side({"bare": bare, "sentibot": ours}, args.requests, conc, args.rounds)
            for name, label in (("bare", "bare Bolt app (the floor)"), ("sentibot", SENTIBOT)):
                found[name][conc] = percentile(ms[name], 99)
                row(label, conc, ms[name])
        # No worker ran: remove the benchmark's messages from the broker.
        drop_broker_keys(redis_client_url(ours.settings()), ours.broker_prefix)
    if args.also_without_process_before_response:
        with (
            tempfile.TemporaryDirectory(prefix="sentibot-bench-") as tmp,
            _sentibot(False, tmp) as stack,
        ):
            for conc in levels:
                row(
                    "sentibot, process_before_response=false",
                    conc,
                    measure(stack, args.requests, conc),
                )
            drop_broker_keys(redis_client_url(stack.settings()), stack.broker_prefix)
    if args.json:
        print(json.dumps({"p99_ms": found}))


if __name__ == "__main__":
    main()
