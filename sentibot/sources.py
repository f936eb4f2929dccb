"""The sources' vocabulary: the `Post` every source returns, its typed errors, the `Collector`
protocol and a source's `SourceSpec`, and collecting from several sources side by side.

The collectors themselves live in `collectors/`; the core finds their specs through the
`sentibot.sources` entry points (pyproject.toml), so it never imports them.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib.metadata import entry_points
from typing import Protocol

from sentibot.config.settings import MissingSetting, Settings
from sentibot.query import Query

log = logging.getLogger(__name__)
ENTRY_POINTS = "sentibot.sources"


@dataclass(frozen=True)
class Post:
    source: str
    external_id: str
    text: str
    author: str | None = None
    url: str | None = None
    created_at: datetime | None = None
    engagement: int = 0
    lang: str | None = None


class SourceError(Exception):
    """A source could not deliver; `reason` is short and fit to show a user."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class SourceSkipped(SourceError):
    """The source is not asked this time (not configured, or over a budget)."""


class SourceNotConfigured(SourceSkipped):
    pass


class SourceAuthError(SourceError):
    pass


class SourceBadResponse(SourceError):
    pass


class SourceUnavailable(SourceError):
    """Network failure or 5xx: worth retrying with backoff."""


class RateLimited(SourceError):
    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Batch:
    """What one collection returns: posts, and the cursor the next run starts from.

    A cursor is opaque to everyone but its source (an X since_id, a Unix time for Reddit, Hacker
    News and feeds); `None` means the source learned nothing new and the old cursor stands.
    """

    posts: list[Post]
    cursor: str | None = None
    # Units the source bills for this batch (X charges per post read); 0 where reading is free.
    billed: int = 0
    # What could not be read while the rest was (a removed thread, one feed of several), with
    # the true reason; None when everything asked for was read.
    partial: str | None = None
    # What the source says is left of its allowance ("2,980 of 10,000 requests left today").
    quota: str | None = None


class Collector(Protocol):
    name: str

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        """Posts matching `query` newer than `cursor`, newest first, at most `limit`."""
        ...


@dataclass(frozen=True)
class SourceSpec:
    """A source module's `SOURCE`: the registry finds it; no other module names the source."""

    name: str
    display: str
    build: Callable[[Settings, RetryPolicy | None], Collector]
    aliases: tuple[str, ...] = ()
    order: int = 100  # position in listings and the default source list
    needs: str = ""  # what a team needs to use it, for help texts
    # How far back its search reaches (None: as far back as asked), and the cursor that starts
    # a read at a time (None: a backfill reads newest first and keeps what is recent enough).
    reach: timedelta | None = None
    cursor_at: Callable[[datetime], str] | None = None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_s: float = 1.0
    # A rate limit that asks for a longer wait than this fails the source instead of blocking.
    max_wait_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep


@cache
def sources() -> dict[str, SourceSpec]:
    """Every installed source's spec, by canonical name, in display order."""
    found: list[SourceSpec] = []
    for point in entry_points(group=ENTRY_POINTS):
        found.extend(point.load()())
    return {s.name: s for s in sorted(found, key=lambda s: (s.order, s.name))}


def source_names() -> tuple[str, ...]:
    return tuple(sources())


def display_name(name: str) -> str:
    spec = sources().get(name)
    return spec.display if spec else name


def canonical_source(name: str) -> str | None:
    wanted = name.strip().lower()
    for spec in sources().values():
        if wanted == spec.name or wanted in spec.aliases:
            return spec.name
    return None


def build_collectors(
    settings: Settings, names: Sequence[str], retry: RetryPolicy | None = None
) -> dict[str, Collector | SourceSkipped]:
    """A collector per requested source, or the reason it is not configured."""
    built: dict[str, Collector | SourceSkipped] = {}
    for name in names:
        try:
            built[name] = sources()[name].build(settings, retry)
        except MissingSetting as exc:
            built[name] = SourceNotConfigured(f"not configured ({exc.variable} is not set)")
    return built


class ReportStatus(StrEnum):
    OK = "ok"  # delivered (its reason: what was missed, if partial)
    SKIPPED = "skipped"  # not asked (not configured, over a budget)
    FAILED = "failed"


@dataclass(frozen=True)
class SourceReport:
    status: str  # a ReportStatus
    count: int = 0
    reason: str | None = None
    quota: str | None = None  # what the source said is left of its allowance

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {"status": self.status, "count": self.count}
        found["reason"] = self.reason
        if self.quota:
            found["quota"] = self.quota
        return found

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SourceReport:
        count, reason, quota = data.get("count"), data.get("reason"), data.get("quota")
        return cls(
            str(data["status"]),
            int(count) if isinstance(count, int | float | str) and count != "" else 0,
            str(reason) if reason is not None else None,
            str(quota) if quota else None,
        )


@dataclass
class Collection:
    posts: list[Post] = field(default_factory=list)
    reports: dict[str, SourceReport] = field(default_factory=dict)
    # The new cursor of each source that delivered (absent: keep the old one).
    cursors: dict[str, str] = field(default_factory=dict)
    billed: dict[str, int] = field(default_factory=dict)


OnReport = Callable[[str, SourceReport], None]


def collect(
    query: Query,
    collectors: Mapping[str, Collector | SourceSkipped],
    limit: int,
    cursors: Mapping[str, str | None] | None = None,
    on_report: OnReport | None = None,
) -> Collection:
    """Ask every source, side by side (one thread each: they wait on the network), so the
    answer takes as long as the slowest source, not the sum. One failing source never stops
    the others, and a failed source keeps its cursor so the next run asks again from the same
    place. `on_report(name, report)` hears each source as it finishes."""
    out = Collection()
    results: dict[str, tuple[SourceReport, Batch | None]] = {}
    waiting = {n: c for n, c in collectors.items() if not isinstance(c, SourceSkipped)}
    for name, collector in collectors.items():
        if isinstance(collector, SourceSkipped):
            results[name] = (SourceReport(ReportStatus.SKIPPED, reason=collector.reason), None)
            if on_report:
                on_report(name, results[name][0])
    if waiting:
        with ThreadPoolExecutor(len(waiting), thread_name_prefix="source") as pool:
            # Each thread runs in a copy of this context: its log lines keep the task's ids.
            futures = {
                pool.submit(
                    contextvars.copy_context().run,
                    _one,
                    name,
                    c,
                    query,
                    limit,
                    (cursors or {}).get(name),
                ): name
                for name, c in waiting.items()
            }
            for future in as_completed(futures):
                name = futures[future]
                results[name] = future.result()
                if on_report:
                    on_report(name, results[name][0])
    for name in collectors:  # in the sources' order, whatever order they finished in
        report, batch = results[name]
        out.reports[name] = report
        if batch is None:
            continue
        out.posts.extend(batch.posts)
        out.billed[name] = batch.billed
        if batch.cursor is not None:
            out.cursors[name] = batch.cursor
    return out


def _one(
    name: str, collector: Collector, query: Query, limit: int, cursor: str | None
) -> tuple[SourceReport, Batch | None]:
    started = time.monotonic()
    try:
        batch = collector.collect(query, limit, cursor)
    except SourceError as exc:
        log.warning("source %s failed for %r: %s", name, query.canonical(), exc.reason)
        return SourceReport(ReportStatus.FAILED, reason=exc.reason), None
    except Exception as exc:  # a library's surprise (Mastodon.py's RecursionError): this source's
        log.exception("source %s failed unexpectedly for %r", name, query.canonical())
        reason = f"an unexpected error in its client ({type(exc).__name__}); see the worker log"
        return SourceReport(ReportStatus.FAILED, reason=reason), None
    log.info("source %s: %s posts in %.2f s", name, len(batch.posts), time.monotonic() - started)
    report = SourceReport(
        ReportStatus.OK, count=len(batch.posts), reason=batch.partial, quota=batch.quota
    )
    return report, batch
