"""A channel digest for one period: every watched topic's volume, mood, change and top posts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sentibot.monitoring import schedules
from bot.views.chart import render_chart
from bot.views.digest import TopicDigest, render_digest
from scoring.aggregate import ScoredText, breakdown, top_posts
from sentibot.storage import alerts as aq
from sentibot.storage import watches as wq
from sentibot.storage.models import Digest, DigestRun

MAX_TOPICS = 10
MAX_CHARTS = 5
# A run this late after its period ended says so.
LATE_AFTER = timedelta(minutes=15)


@dataclass
class Built:
    text: str
    blocks: list[dict]
    charts: list[tuple[str, bytes]] = field(default_factory=list)


def build(session: Session, run: DigestRun) -> Built:
    digest = session.get(Digest, run.digest_id)
    start, end = run.period_start, run.period_end
    length = end - start
    topics = []
    charts = []
    for watch in wq.channel_watches(session, run.team_id, run.channel_id)[:MAX_TOPICS]:
        now_posts = aq.window_posts(session, watch, start, end)
        before = aq.window_posts(session, watch, start - length, start)
        texts = [ScoredText(p.text, p.sentiment, p.engagement, p.url, p.source) for p in now_posts]
        topics.append(
            TopicDigest(
                topic=watch.topic,
                current=breakdown(p.sentiment for p in now_posts),
                previous=breakdown(p.sentiment for p in before),
                negative=top_posts(texts, "negative", n=1),
                positive=top_posts(texts, "positive", n=1),
            )
        )
        if len(charts) < MAX_CHARTS:
            png = render_chart(
                [(p.when, p.sentiment.compound) for p in now_posts], f"{watch.topic}: this period"
            )
            if png:
                charts.append((f"{watch.topic}: sentiment and volume", png))
    cadence = digest.cadence if digest else "daily"
    tz = digest.tz if digest else "UTC"
    text, blocks = render_digest(cadence, start, end, tz, topics, run.late)
    return Built(text, blocks, charts)


def claim_due(session: Session, now: datetime) -> list[int]:
    """Runs for digests due at `now`: one per period, exactly once, however many dispatchers
    and restarts. After an outage only the latest period is sent, marked late."""
    runs = []
    for digest in aq.due_digests(session, now):
        old_due = digest.next_due_at
        new_due = schedules.next_occurrence(now, digest.local_time, digest.tz, digest.weekday)
        if not aq.move_digest(session, digest, old_due, new_due):
            continue  # another dispatcher moved it first
        end = schedules.latest_occurrence(now, digest.local_time, digest.tz, digest.weekday)
        start = schedules.period_start(end, digest.local_time, digest.tz, digest.weekday)
        run_id = aq.add_digest_run(session, digest, start, end, now - end > LATE_AFTER, now)
        if run_id is not None:
            runs.append(run_id)
    return runs
