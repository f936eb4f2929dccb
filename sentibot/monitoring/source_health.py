"""Source health per (watch, source): which run outcomes change it, and when to tell the channel.

Pure: given the state before a run and the run's outcome, the state after and the event (if
any) worth one message. Repeated failures or silences say nothing new, so they make no event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sentibot.sources import ReportStatus
from sentibot.storage.models import SourceHealth

# A source that used to deliver is "silent" after this long without a new post: a day, or 24
# intervals of a slow watch, whichever is longer.
SILENT_MIN = timedelta(hours=24)
SILENT_INTERVALS = 24


@dataclass(frozen=True)
class Before:
    health: str
    posts_total: int
    last_post_at: datetime | None
    last_error_at: datetime | None


@dataclass(frozen=True)
class Event:
    kind: str  # "failing", "silent" or "recovered"
    source: str
    reason: str | None = None
    since: datetime | None = None


def silent_after(interval_s: int) -> timedelta:
    return max(SILENT_MIN, timedelta(seconds=interval_s * SILENT_INTERVALS))


def after_run(
    source: str,
    before: Before,
    status: str,
    new_posts: int,
    reason: str | None,
    now: datetime,
    interval_s: int,
) -> tuple[str, Event | None]:
    """(health after the run, event to announce or None). `status` is the run's report for the
    source: "ok", "failed" or "skipped" (skipped changes nothing)."""
    if status == ReportStatus.SKIPPED:
        return before.health, None
    if status == ReportStatus.FAILED:
        if before.health == SourceHealth.FAILING:
            return SourceHealth.FAILING, None
        return SourceHealth.FAILING, Event("failing", source, reason)
    if new_posts > 0:
        if before.health == SourceHealth.OK:
            return SourceHealth.OK, None
        since = (
            before.last_error_at if before.health == SourceHealth.FAILING else before.last_post_at
        )
        return SourceHealth.OK, Event("recovered", source, since=since)
    if before.health == SourceHealth.FAILING:
        # Answers again, with nothing new: recovered from the failure, not yet silent.
        return SourceHealth.OK, Event("recovered", source, since=before.last_error_at)
    if (
        before.health == SourceHealth.OK
        and before.posts_total > 0
        and before.last_post_at is not None
        and now - before.last_post_at >= silent_after(interval_s)
    ):
        return SourceHealth.SILENT, Event("silent", source, since=before.last_post_at)
    return before.health, None
