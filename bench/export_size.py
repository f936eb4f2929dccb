"""What an export of a big period costs: seconds and the process's peak memory.

    .venv/bin/python bench/export_size.py [--posts 30000] [--model vader]

A watch on SQLite holds `--posts` scored posts of one week (five kinds of opinion, one in five
a copy of another post), and `sentibot/monitoring/export.py`'s `build` makes its CSV, themes
included (the shipped MiniLM), as `/sentiment export` does. The task's soft limit is 240 s.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring import get_scorer  # noqa: E402
from scoring.embed import embed  # noqa: E402
from sentibot.monitoring import export  # noqa: E402
from sentibot.sources import Post
from sentibot.storage import posts as post_store  # noqa: E402
from sentibot.storage import watches as watch_store  # noqa: E402
from sentibot.storage.migrate import upgrade  # noqa: E402
from sentibot.storage.session import make_engine, make_sessionmaker  # noqa: E402

OPINIONS = [
    "acme support fixed my problem in minutes, great service from {who} on ticket {i}",
    "acme crashed again and I lost my work on the {what}, terrible, case {i}",
    "acme shipping took three weeks and the {what} box was crushed, order {i}",
    "honestly the acme {what} is the best thing I bought this year, {who} agrees #{i}",
    "still waiting for acme billing to refund the {what} charge, ticket {i}, so frustrating",
]
WHO = ["my partner", "the kids", "our office", "a friend", "my dad"]
WHAT = ["phone", "laptop", "tablet", "watch", "router", "camera"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=30_000)
    parser.add_argument("--model", default="vader")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        sessions = make_sessionmaker(make_engine(url))
        end = datetime(2026, 12, 7, tzinfo=UTC)
        start = end - timedelta(days=7)
        texts = [
            OPINIONS[i % 5].format(i=i // 5 if i % 5 else i, who=WHO[i % 7 % 5], what=WHAT[i % 6])
            for i in range(args.posts)
        ]
        scores = get_scorer(args.model).score(texts)
        with sessions.begin() as s:
            watch, _ = watch_store.upsert_watch(
                s, team_id="TBENCH", channel_id="CBENCH", topic="acme", sources=["hn"],
                every_s=900, model=args.model, user_id=None, now=end,
            )  # fmt: skip
            posts = [
                Post("hn", str(i), t, f"user{i % 4999}", None,
                     start + timedelta(seconds=i * 7 * 86400 / args.posts))
                for i, t in enumerate(texts)
            ]  # fmt: skip
            ids = post_store.store_posts(s, posts)
            watch_store.link_watch_posts(s, watch.id, ids)
            # Stored under the watch's key (its model, scoped to its topic), as the workers do.
            post_store.store_scores(s, watch.model, list(zip(ids, scores, strict=True)))
            watch_id = watch.id
        before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        with sessions() as s:
            made = export.build(s, watch_store.get_watch(s, watch_id), start, end, embed)
        seconds = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(
        f"export of {made.rows:,} posts ({len(made.csv) / 1e6:.1f} MB of CSV, "
        f"{made.themed:,} themed): {seconds:.1f} s; peak memory {peak_kb / 1024:.0f} MB "
        f"({(peak_kb - before_kb) / 1024:.0f} MB more than before the export)"
    )


if __name__ == "__main__":
    main()
