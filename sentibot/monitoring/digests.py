"""A channel digest for one period: every watched topic's volume, mood, change and top posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sentibot.monitoring import schedules
from sentibot.monitoring.share_fits import team_fit
from sentibot.report.aggregate import Breakdown, ScoredText, breakdown, top_posts
from sentibot.report.integrity import Weighing, weigh
from sentibot.report.masking import model_name
from sentibot.report.movers import Movement, movement, rows_of
from sentibot.report.quantify import Fit
from sentibot.report.themes import Embed, Theme, find_themes, member_labels
from sentibot.storage import digests as digest_store
from sentibot.storage import posts as post_store
from sentibot.storage import watches as watch_store
from sentibot.storage.models import Digest, DigestRun

MAX_TOPICS = 10
MAX_CHARTS = 5
# A run this late after its period ended says so.
LATE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class TopicDigest:
    topic: str
    current: Breakdown
    previous: Breakdown
    negative: Sequence[ScoredText]
    positive: Sequence[ScoredText]
    # (when, compound) of each post of the period, for the topic's chart
    points: Sequence[tuple[datetime, float]] = ()
    # Themes that grew against the period before (new ones first), at most two.
    grown: Sequence[Theme] = ()
    watch_id: int | None = None
    # The negative share's change against the period before, and what moved it.
    moved: Movement | None = None


@dataclass(frozen=True)
class DigestContent:
    """What one digest run reports; the Slack side renders it (bot/views/digest.py)."""

    cadence: str
    tz: str
    start: datetime
    end: datetime
    late: bool
    topics: Sequence[TopicDigest] = field(default_factory=tuple)
    omitted: int = 0  # watched topics past MAX_TOPICS, not shown


def _themes(
    topic: str,
    now_posts: list[post_store.WindowPost],
    found: Weighing,
    before: list[post_store.WindowPost],
    earlier: Weighing,
    embed: Embed | None,
) -> list[Theme]:
    if embed is None:
        return []
    return find_themes(
        [p.text for p in now_posts],
        [p.sentiment for p in now_posts],
        found,
        topic,
        embed,
        [p.text for p in before],
        earlier,
    )


def _grown(themes: list[Theme]) -> list[Theme]:
    grew = [t for t in themes if t.before is not None and t.count > t.before]
    return sorted(grew, key=lambda t: (t.before != 0, -(t.count - (t.before or 0))))[:2]


def build(session: Session, run: DigestRun, embed: Embed | None = None) -> DigestContent:
    """The run's content; with `embed` (scoring/embed.py), each topic's themes that grew."""
    digest = session.get(Digest, run.digest_id)
    start, end = run.period_start, run.period_end
    length = end - start
    topics = []
    watches = watch_store.channel_watches(session, run.team_id, run.channel_id)
    fits: dict[str, Fit | None] = {}  # the workspace's fit of each model, read once
    for watch in watches[:MAX_TOPICS]:
        now_posts = post_store.window_posts(session, watch, start, end)
        before = post_store.window_posts(session, watch, start - length, start)
        texts = [
            ScoredText(p.text, p.sentiment, p.engagement, p.url, p.source, p.post_id)
            for p in now_posts
        ]
        # Each message once, each author capped (report/integrity.py), as reports and alerts.
        found = weigh([p.text for p in now_posts], [p.author for p in now_posts])
        earlier = weigh([p.text for p in before], [p.author for p in before])
        model = model_name(watch.model)
        if model not in fits:
            fits[model] = team_fit(session, run.team_id, watch.model)
        fit = fits[model]
        current = breakdown([p.sentiment for p in now_posts], found.weights, watch.model, fit)
        previous = breakdown([p.sentiment for p in before], earlier.weights, watch.model, fit)
        themes = _themes(watch.topic, now_posts, found, before, earlier, embed)
        now_theme, before_theme = member_labels(themes)
        topics.append(
            TopicDigest(
                watch_id=watch.id,
                topic=watch.topic,
                current=current,
                previous=previous,
                moved=movement(
                    rows_of(now_posts, found.weights, now_theme),
                    rows_of(before, earlier.weights, before_theme),
                    watch.model,
                    current.shares,
                    previous.shares,
                    fit,
                )
                if before
                else None,
                negative=top_posts(texts, "negative", n=1),
                positive=top_posts(texts, "positive", n=1),
                points=[(p.when, p.sentiment.compound) for p in now_posts],
                grown=_grown(themes),
            )
        )
    return DigestContent(
        cadence=digest.cadence if digest else "daily",
        tz=digest.tz if digest else "UTC",
        start=start,
        end=end,
        late=run.late,
        topics=topics,
        omitted=max(0, len(watches) - MAX_TOPICS),
    )


def claim_due(session: Session, now: datetime) -> list[int]:
    """Runs for digests due at `now`: one per period, exactly once, however many dispatchers
    and restarts. After an outage only the latest period is sent, marked late."""
    runs = []
    for digest in digest_store.due_digests(session, now):
        old_due = digest.next_due_at
        new_due = schedules.next_occurrence(now, digest.local_time, digest.tz, digest.weekday)
        if not digest_store.move_digest(session, digest, old_due, new_due):
            continue  # another dispatcher moved it first
        end = schedules.latest_occurrence(now, digest.local_time, digest.tz, digest.weekday)
        start = schedules.period_start(end, digest.local_time, digest.tz, digest.weekday)
        run_id = digest_store.add_digest_run(
            session, digest, start, end, now - end > LATE_AFTER, now
        )
        if run_id is not None:
            runs.append(run_id)
    return runs
