"""Ingest throughput: posts per second fetched, stored (with dedupe) and scored.

    .venv/bin/python bench/ingest.py [--posts 100000] [--database sqlite|postgresql|both]
        [--model vader] [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/sentibot_bench]

A local Hacker News stand-in serves `--posts` posts (a tenth of them twice, as sources do);
the real collector pages through them over HTTP, `watch_runs.finish_run` stores them with
INSERT … ON CONFLICT DO NOTHING and links them to a watch, and the sentiment processor's
queries feed the scorer in batches, as the workers do. The goal (ADR 003): one 2-core machine
ingests and scores 1 million posts a day, 11.6 posts/s on average.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collectors.hackernews import HackerNewsCollector  # noqa: E402
from devtools.corpus import CorpusPost  # noqa: E402
from devtools.hn_standin import HackerNewsStandIn  # noqa: E402
from scoring import get_scorer  # noqa: E402
from sentibot.monitoring import watch_runs  # noqa: E402
from sentibot.query import Query, parse_query
from sentibot.sources import collect
from sentibot.storage import posts as post_store  # noqa: E402
from sentibot.storage import score_queue  # noqa: E402
from sentibot.storage import watches as watch_store  # noqa: E402
from sentibot.storage.migrate import downgrade, upgrade  # noqa: E402
from sentibot.storage.session import make_engine, make_sessionmaker  # noqa: E402

PER_DAY = 1_000_000
TEMPLATES = [
    "acme support fixed my problem in minutes, great service {i}",
    "acme crashed again and I lost my work, terrible {i}",
    "acme announced version {i} today",
    "honestly acme is the best thing I bought this year #{i}",
    "still waiting for acme billing to answer ticket {i}, so frustrating",
]


class BenchCorpus:
    """Many posts about one topic, newest first; the search result is computed once."""

    def __init__(self, n: int) -> None:
        start = datetime(2026, 11, 1, tzinfo=UTC)
        unique = [
            CorpusPost(
                id=str(10_000_000 + i),
                text=TEMPLATES[i % len(TEMPLATES)].format(i=i),
                author=f"user{i % 997}",
                created_at=start + timedelta(seconds=i),
                likes=i % 50,
                replies=i % 7,
            )
            for i in range(n)
        ]
        repeats = unique[::10]
        self.posts = sorted(unique + repeats, key=lambda p: p.created_at, reverse=True)

    def search(self, query: Query) -> list[CorpusPost]:
        return self.posts


def bench_watch(session, channel: str, model: str, now: datetime) -> int:
    watch, _ = watch_store.upsert_watch(
        session,
        team_id="TBENCH",
        channel_id=channel,
        topic="acme",
        sources=["hn"],
        every_s=900,
        model=model,
        user_id=None,
        now=now,
    )
    return watch.id


def run(database_url: str, n: int, model: str) -> dict[str, float]:
    upgrade(database_url)
    sessions = make_sessionmaker(make_engine(database_url))
    now = datetime.now(UTC)
    with sessions.begin() as s:
        watch_id = bench_watch(s, "CBENCH", model, now)
    with HackerNewsStandIn(BenchCorpus(n)) as standin:
        collector = HackerNewsCollector(standin.url)
        with sessions.begin() as s:
            begun = watch_runs.begin_run(s, watch_id, limit=2 * n, x_cap=0, now=now)
        started = time.perf_counter()
        collection = collect(parse_query("acme"), {"hn": collector}, 2 * n, begun.cursors)
        fetched = time.perf_counter()
        with sessions.begin() as s:
            watch_runs.finish_run(s, begun, collection, now)
        stored = time.perf_counter()
        # A second watch matching the same posts: every insert meets ON CONFLICT DO NOTHING.
        with sessions.begin() as s:
            other = bench_watch(s, "CBENCH2", model, now)
            again = watch_runs.begin_run(s, other, limit=2 * n, x_cap=0, now=now)
        restarted = time.perf_counter()
        with sessions.begin() as s:
            watch_runs.finish_run(s, again, collection, now)
        restored = time.perf_counter()
    scorer = get_scorer(model)
    scored_n = 0
    with sessions.begin() as s:
        batches = score_queue.claim_unscored(
            s, now, timedelta(minutes=5), batch=512, max_batches=10**6, max_attempts=5
        )
    score_started = time.perf_counter()
    for batch_model, ids in batches:
        with sessions.begin() as s:
            rows = score_queue.posts_to_score(s, batch_model, ids)
        results = scorer.score([text for _, text in rows])
        with sessions.begin() as s:
            post_store.store_scores(
                s, batch_model, list(zip([r[0] for r in rows], results, strict=True))
            )
            score_queue.finish_score_requests(s, batch_model, ids)
        scored_n += len(rows)
    scored = time.perf_counter()
    with sessions() as s:
        distinct = len(watch_store.channel_watches(s, "TBENCH", "CBENCH"))
        linked = watch_store.watch_post_counts(s, [watch_id], now - timedelta(days=1)).get(
            watch_id, 0
        )
    assert distinct == 1 and linked == n, (distinct, linked)  # noqa: PT018
    assert scored_n == n, scored_n
    return {
        "served": len(collection.posts),
        "fetch_per_s": len(collection.posts) / (fetched - started),
        "store_per_s": len(collection.posts) / (stored - fetched),
        "restore_per_s": len(collection.posts) / (restored - restarted),
        "score_per_s": scored_n / (scored - score_started),
        "end_to_end_per_s": n / ((stored - started) + (scored - score_started)),
    }


def ensure_database(url: str) -> None:
    """Create the bench's PostgreSQL database if the server has none by that name."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        ).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--model", default="vader")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/sentibot_bench"
        ),
        help="a database of its own: the bench drops its tables before and after",
    )
    args = parser.parse_args()
    print(f"command: {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} cores; {args.posts:,} posts (+10% repeats); {args.model}")
    targets = []
    if args.database in ("sqlite", "both"):
        targets.append(("SQLite", f"sqlite:///{tempfile.mkdtemp()}/ingest.db"))
    if args.database in ("postgresql", "both"):
        targets.append(("PostgreSQL", args.postgres_url))
    print(
        f"{'database':<11} {'fetch/s':>9} {'store/s':>9} {'again/s':>9} {'score/s':>9} "
        f"{'all/s':>9} {'posts/day':>12} {'x goal':>7}"
    )
    for name, url in targets:
        if name == "PostgreSQL":
            ensure_database(url)
            downgrade(url)  # a clean schema: the bench measures inserts, not dedupe of old runs
        r = run(url, args.posts, args.model)
        per_day = r["end_to_end_per_s"] * 86_400
        print(
            f"{name:<11} {r['fetch_per_s']:9,.0f} {r['store_per_s']:9,.0f} "
            f"{r['restore_per_s']:9,.0f} "
            f"{r['score_per_s']:9,.0f} {r['end_to_end_per_s']:9,.0f} {per_day:12,.0f} "
            f"{per_day / PER_DAY:6.1f}x"
        )
        if name == "PostgreSQL":
            downgrade(url)
    print("fetch: HTTP + JSON through the collector; store: dedupe insert + watch links;")
    print("again: the same posts for a second watch (all conflicts); score: processor batches")
    print("through the scorer; all: fetch, store and score one after another")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
