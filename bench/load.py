"""A burst of slash commands against one bot process: ack latency, then time to drain.

    .venv/bin/python bench/load.py [--commands 1000] [--clients 50] [--database sqlite|postgresql]
        [--workers 2] [--text "analyze load{i} --sources x --limit 20"]

Starts the service stack (stand-ins for Slack, X, Reddit and Hacker News; gunicorn bot with one
worker process; Celery worker; real Redis on 127.0.0.1:6379 if one answers, else the embedded
one), sends `--commands` signed slash commands from `--clients` threads at once (each to its own
channel), and reports: acknowledgement latency (p50, p99, max), how many took 3 s or more,
the time until every job was answered, and whether each channel got exactly one answer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from devtools.stack import ServiceStack, local_redis_url  # noqa: E402
from sentibot.embedded import drop_broker_keys  # noqa: E402
from sentibot.storage.models import UNFINISHED, Job  # noqa: E402
from sentibot.storage.session import sessionmaker_for  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run(stack: ServiceStack, commands: int, clients: int, text: str, timeout_s: float) -> dict:
    channels = [f"CLOAD{i:05d}" for i in range(commands)]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        started = time.perf_counter()
        try:
            resp = stack.command(text.format(i=i), channel=channels[i])
            ok = resp.status_code == 200 and "job" in resp.json().get("text", "")
        except Exception as exc:  # noqa: BLE001 - a failed request is a result here
            ok, resp = False, exc
        elapsed = time.perf_counter() - started
        with lock:
            latencies.append(elapsed)
            if not ok:
                failures.append(str(resp))

    burst_started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(send, range(commands)))
    sent_s = time.perf_counter() - burst_started
    sessions = sessionmaker_for(stack.effective_database_url)
    deadline = time.monotonic() + timeout_s
    while True:
        with sessions() as session:
            pending = session.scalar(
                select(func.count()).select_from(Job).where(Job.state.in_(UNFINISHED))
            )
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    drained_s = time.perf_counter() - burst_started
    time.sleep(1.0)  # anything posted twice would arrive now
    final = [[m for m in stack.slack.messages_in(c) if "hourglass" not in m.text] for c in channels]
    return {
        "latencies": latencies,
        "failures": failures,
        "sent_s": sent_s,
        "drained_s": drained_s,
        "pending": pending,
        "answered_once": sum(1 for f in final if len(f) == 1),
        "answered_twice": sum(1 for f in final if len(f) > 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/sentibot_bench"
    )
    parser.add_argument("--workers", type=int, default=2, help="Celery worker concurrency")
    parser.add_argument("--text", default="analyze load{i} --sources x --limit 20")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="sentibot-load-"))
    database_url = None
    if args.database == "postgresql":
        from bench.ingest import ensure_database  # noqa: PLC0415
        from sentibot.storage.migrate import downgrade  # noqa: PLC0415

        ensure_database(args.postgres_url)
        downgrade(args.postgres_url)
        database_url = args.postgres_url
    broker = local_redis_url()
    prefix = f"sentibot-load-{uuid.uuid4().hex[:6]}:"
    stack = ServiceStack(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=broker,
        broker_prefix=prefix,
        worker_concurrency=args.workers,
    )
    print(f"command: {' '.join(sys.argv)}")
    print(
        f"machine: {os.cpu_count()} cores; {args.database}; "
        f"{'Redis on 127.0.0.1:6379' if broker else 'embedded redis-server'}; "
        f"bot: 1 gunicorn worker; Celery concurrency {args.workers}"
    )
    with stack:
        r = run(stack, args.commands, args.clients, args.text, args.timeout)
    if broker:
        drop_broker_keys(broker, prefix)
    lat = r["latencies"]
    print(f"{args.commands} commands from {args.clients} clients, sent in {r['sent_s']:.1f} s")
    print(
        f"ack latency: p50 {statistics.median(lat) * 1000:.0f} ms · p99 "
        f"{percentile(lat, 99) * 1000:.0f} ms · max {max(lat) * 1000:.0f} ms · "
        f"{sum(1 for x in lat if x >= 3.0)} at 3 s or more · {len(r['failures'])} failed"
    )
    print(
        f"drained (every job answered) {r['drained_s']:.1f} s after the burst began; "
        f"{r['pending']} still pending"
    )
    print(
        f"answered exactly once: {r['answered_once']} of {args.commands} channels; "
        f"answered twice: {r['answered_twice']}"
    )
    ok = not r["failures"] and not r["pending"] and r["answered_once"] == args.commands
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
