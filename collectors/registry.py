"""Which sources exist, how each is built from settings, and collecting from several at once.

A source is a module in this package with a `SOURCE` (a `SourceSpec`); adding one touches no
other module.
"""

from __future__ import annotations

import contextvars
import importlib
import logging
import pkgutil
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import collectors as package
from collectors.base import (
    Batch,
    Collector,
    Post,
    RetryPolicy,
    SourceError,
    SourceNotConfigured,
    SourceSkipped,
    SourceSpec,
)
from collectors.boundary import clean_post
from collectors.query import Query
from sentibot.config.settings import MissingSetting, Settings

log = logging.getLogger(__name__)


@cache
def sources() -> dict[str, SourceSpec]:
    """Every source module's spec, by canonical name, in display order."""
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        spec = getattr(module, "SOURCE", None)
        if isinstance(spec, SourceSpec):
            found.append(spec)
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


@dataclass(frozen=True)
class SourceReport:
    status: str  # "ok" (reason: what was missed, if partial), "skipped" or "failed"
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
        quota = data.get("quota")
        return cls(
            str(data["status"]),
            int(data.get("count") or 0),  # type: ignore[call-overload]
            data.get("reason"),  # type: ignore[arg-type]
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
            results[name] = (SourceReport("skipped", reason=collector.reason), None)
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
        return SourceReport("failed", reason=exc.reason), None
    except Exception as exc:  # a library's surprise (Mastodon.py's RecursionError): this source's
        log.exception("source %s failed unexpectedly for %r", name, query.canonical())
        reason = f"an unexpected error in its client ({type(exc).__name__}); see the worker log"
        return SourceReport("failed", reason=reason), None
    log.info("source %s: %s posts in %.2f s", name, len(batch.posts), time.monotonic() - started)
    now = datetime.now(UTC)
    kept = [c for c in (clean_post(p, now) for p in batch.posts) if c is not None]
    if len(kept) < len(batch.posts):
        log.warning(
            "source %s: %s of %s posts had nothing storable and were skipped",
            name,
            len(batch.posts) - len(kept),
            len(batch.posts),
        )
    report = SourceReport("ok", count=len(kept), reason=batch.partial, quota=batch.quota)
    return report, Batch(
        kept, batch.cursor, billed=batch.billed, partial=batch.partial, quota=batch.quota
    )
