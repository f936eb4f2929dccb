"""Fair scheduling: a quiet workspace's one-minute watch beside a busy workspace's thousands.

    .venv/bin/python bench/fair_schedule.py [--busy 2000] [--minutes 10] [--database-url URL]

Runs the dispatcher's real claim (sentibot.storage.watches.claim_due_watches, 100 per tick)
against a real database, on a simulated clock ticking every 15 s as Beat does, and prints how
late the quiet watch's runs were. Every claimed run is assumed to finish at once, so lateness
comes from the claim order alone.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sentibot.storage import watches as watch_store  # noqa: E402
from sentibot.storage.migrate import upgrade  # noqa: E402
from sentibot.storage.session import make_engine, make_sessionmaker  # noqa: E402

TICK = timedelta(seconds=15)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--busy", type=int, default=2000)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/fair.db"
    upgrade(url)
    sessions = make_sessionmaker(make_engine(url))
    start = datetime(2026, 11, 26, 12, tzinfo=UTC)
    with sessions.begin() as s:
        for i in range(args.busy):
            watch_store.upsert_watch(
                s,
                team_id="TBUSY",
                channel_id="C1",
                topic=f"topic {i}",
                sources=["hn"],
                every_s=60,
                model="vader",
                user_id="U1",
                now=start,
            )
        quiet, _ = watch_store.upsert_watch(
            s,
            team_id="TQUIET",
            channel_id="C1",
            topic="acme",
            sources=["hn"],
            every_s=60,
            model="vader",
            user_id="U1",
            now=start,
        )
        quiet_id = quiet.id
    late: list[float] = []
    busy_runs = 0
    now = start
    while now < start + timedelta(minutes=args.minutes):
        now += TICK
        with sessions.begin() as s:
            due_at = watch_store.get_watch(s, quiet_id).next_run_at
            claimed = watch_store.claim_due_watches(s, now)
        if quiet_id in claimed:
            late.append((now - due_at).total_seconds())
        busy_runs += len(claimed) - (quiet_id in claimed)
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(f"database: {url.split(':', 1)[0]}; {args.busy} busy one-minute watches, 1 quiet one")
    print(f"{args.minutes} simulated minutes, a tick every 15 s, 100 claims per tick")
    print(f"quiet watch: {len(late)} runs (one per minute is on time)")
    print(f"quiet watch lateness: max {max(late):.0f} s, mean {sum(late) / len(late):.0f} s")
    print(f"busy workspace: {busy_runs} runs ({busy_runs / args.minutes:.0f} per minute)")


if __name__ == "__main__":
    main()
