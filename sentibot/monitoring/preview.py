"""A preview before a watch is saved: per source, the matches of the last 24 h, three samples,
the posts a day to expect (and what X would bill for them), and what the source does with each
part of the query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sentibot.query import Query
from sentibot.sources import Post, ReportStatus, SourceReport, display_name

# Posts read per source for a preview: enough to estimate a rate, quick to read.
PREVIEW_LIMIT = 100
DAY = timedelta(days=1)


@dataclass(frozen=True)
class SourcePreview:
    name: str
    display: str
    status: str  # "ok", "skipped" or "failed"
    reason: str | None
    matches_24h: int
    per_day: float | None  # None: nothing to go by
    x_cost_per_day: float | None  # posts X would bill a day (X only)
    samples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def preview(
    query: Query,
    posts: Sequence[Post],
    reports: Mapping[str, SourceReport],
    now: datetime | None = None,
) -> list[SourcePreview]:
    """One preview per reported source, from what a collection of PREVIEW_LIMIT found."""
    now = now or datetime.now(UTC)
    by_source: dict[str, list[Post]] = {}
    for post in posts:
        by_source.setdefault(post.source, []).append(post)
    out = []
    for name, report in reports.items():
        found = sorted(by_source.get(name, []), key=_when, reverse=True)
        recent = [p for p in found if _when(p) > now - DAY]
        per_day = _per_day(found, now) if report.status == ReportStatus.OK else None
        out.append(
            SourcePreview(
                name=name,
                display=display_name(name),
                status=report.status,
                reason=report.reason,
                matches_24h=len(recent),
                per_day=per_day,
                x_cost_per_day=per_day if name == "x" and per_day is not None else None,
                samples=[_clip(p.text) for p in found[:3]],
                notes=explain(name, query),
            )
        )
    return out


def _when(post: Post) -> datetime:
    return post.created_at or datetime.min.replace(tzinfo=UTC)


def _per_day(posts: list[Post], now: datetime) -> float:
    """Under the read limit, the last day's count is the rate; at the limit, the rate is how
    many posts came how fast (the newest `PREVIEW_LIMIT` span less than a day)."""
    if len(posts) < PREVIEW_LIMIT:
        return float(sum(1 for p in posts if _when(p) > now - DAY))
    span = (now - _when(posts[-1])).total_seconds()
    return len(posts) * 86400 / max(span, 60.0)


def _clip(text: str, size: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def explain(name: str, query: Query) -> list[str]:
    """What a source does with the query's parts: searched there, or filtered here after."""
    notes = []
    alternatives = len(query.alternatives())
    if query.lang and name in ("reddit", "hn", "github", "stackexchange", "rss", "news"):
        notes.append(f"{display_name(name)} has no language filter: lang:{query.lang} is "
                     "applied to what it returns, where the post says its language")  # fmt: skip
    if name == "mastodon":
        tags = ", ".join(f"#{t}" for t in query.hashtags())
        notes.append(f"reads the hashtag timelines {tags}; posts without the tag are found only "
                     "with MASTODON_ACCESS_TOKEN (full-text search)")  # fmt: skip
    if name in ("hn", "bluesky", "github", "stackexchange") and alternatives > 1:
        notes.append(f"has no OR: {alternatives} searches, one per alternative")
    if query.exclude and name in ("hn", "bluesky", "github", "stackexchange", "mastodon", "rss"):
        words = ", ".join(t.quoted() for t in query.exclude)
        notes.append(f"exclusions ({words}) are applied to what it returns")
    if name == "x":
        notes.append("retweets left out (-is:retweet); X bills every post read")
    return notes
