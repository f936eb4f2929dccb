"""An analysis across slow sources: command to final report beside the sources' call chains.

    .venv/bin/python bench/source_latency.py [--latency 0.6] [--runs 5] [--sources x,reddit]

Starts the service stack (stand-ins, gunicorn bot, a Celery worker), makes every call to the X
and Reddit stand-ins answer `--latency` seconds late, sends `/sentiment analyze acme --sources
…` `--runs` times, and prints the median time from the command to the final report, beside
what every call to the sources waits in all (reading them one call after another), the sum of
the sources' own times and the slowest source's own time (each measured by the worker, from
its `source … in N s` log line): the floor when sources are read side by side.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.stack import ServiceStack, local_redis_url  # noqa: E402
from sentibot.embedded import drop_broker_keys  # noqa: E402
from sentibot.storage.models import Job  # noqa: E402
from sentibot.storage.session import sessionmaker_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.6)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sources", default="x,reddit")
    parser.add_argument("--json", action="store_true", help="one JSON line (bench/goals.py)")
    args = parser.parse_args()
    prefix = f"sentibot-bench-{uuid.uuid4().hex[:8]}:"
    url = local_redis_url()
    with ServiceStack(
        data_dir=Path(tempfile.mkdtemp()), redis_url=url, broker_prefix=prefix
    ) as stack:
        standins = {"x": stack.x, "reddit": stack.reddit, "hn": stack.hn}
        sessions = sessionmaker_for(stack.effective_database_url)
        stack.command("analyze warmup --sources hn", channel="CWARM")
        stack.slack.wait_for(lambda s: s.messages_in("CWARM") and _done(sessions, "CWARM"), 60)
        totals, waits, sums, slowest = [], [], [], []
        for run in range(args.runs):
            for standin in standins.values():
                standin.latency = args.latency
                standin.calls.clear()
            channel = f"CLAT{run:03d}"
            started = time.monotonic()
            stack.command(f"analyze acme --sources {args.sources}", channel=channel)
            while not _done(sessions, channel):
                time.sleep(0.02)
            totals.append(time.monotonic() - started)
            waits.append(
                sum(len(standins[n].calls) for n in args.sources.split(",")) * args.latency
            )
            own = _source_seconds(stack, sessions, channel)
            sums.append(sum(own.values()))
            slowest.append(max(own.values()))
            for standin in standins.values():
                standin.latency = 0.0
    if url:
        drop_broker_keys(url, prefix)
    if args.json:
        summary = {
            "total_s": statistics.median(totals),
            "sum_s": statistics.median(sums),
            "floor_s": statistics.median(slowest),
        }
        print(json.dumps(summary))
        return
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(f"sources {args.sources}, every call {args.latency} s late, {args.runs} runs")
    print(f"command to final report, median: {statistics.median(totals):.2f} s")
    print(f"every call's wait, one after another: {statistics.median(waits):.2f} s")
    print(f"sum of the sources' own times: {statistics.median(sums):.2f} s")
    print(f"slowest source's own time (the floor): {statistics.median(slowest):.2f} s")
    print(f"report after the floor: {statistics.median(totals) - statistics.median(slowest):.2f} s")


def _source_seconds(stack: ServiceStack, sessions, channel: str) -> dict[str, float]:
    """Each source's own time for the channel's job, from the worker's JSON log lines."""
    import re

    from sqlalchemy import select

    with sessions() as s:
        job_id = s.scalars(select(Job.id).where(Job.channel_id == channel)).one()
    found: dict[str, float] = {}
    for line in (stack.data_dir / "worker.log").read_text().splitlines():
        if '"collectors.registry"' not in line:
            continue
        entry = json.loads(line)
        hit = re.match(r"source (\w+): \d+ posts in ([\d.]+) s", entry.get("msg", ""))
        if hit and entry.get("job_id") == job_id:
            found[hit.group(1)] = float(hit.group(2))
    return found


def _done(sessions, channel: str) -> bool:
    from sqlalchemy import select

    with sessions() as s:
        job = s.scalars(select(Job).where(Job.channel_id == channel)).first()
        return job is not None and job.state in ("done", "failed")


if __name__ == "__main__":
    main()
