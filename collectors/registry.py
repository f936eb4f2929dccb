"""Which sources exist, how each is built from settings, and collecting from several at once.

A source is a module in this package with a `SOURCE` (a `SourceSpec`); adding one touches no
other module.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import collectors as package
from collectors.base import (
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

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "count": self.count, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SourceReport:
        return cls(str(data["status"]), int(data.get("count") or 0), data.get("reason"))  # type: ignore[arg-type]


@dataclass
class Collection:
    posts: list[Post] = field(default_factory=list)
    reports: dict[str, SourceReport] = field(default_factory=dict)
    # The new cursor of each source that delivered (absent: keep the old one).
    cursors: dict[str, str] = field(default_factory=dict)
    billed: dict[str, int] = field(default_factory=dict)


def collect(
    query: Query,
    collectors: Mapping[str, Collector | SourceSkipped],
    limit: int,
    cursors: Mapping[str, str | None] | None = None,
) -> Collection:
    """Ask every source; one failing source never stops the others, and a failed source keeps
    its cursor so the next run asks again from the same place."""
    out = Collection()
    for name, collector in collectors.items():
        if isinstance(collector, SourceSkipped):
            out.reports[name] = SourceReport("skipped", reason=collector.reason)
            continue
        try:
            batch = collector.collect(query, limit, (cursors or {}).get(name))
        except SourceError as exc:
            log.warning("source %s failed for %r: %s", name, query.canonical(), exc.reason)
            out.reports[name] = SourceReport("failed", reason=exc.reason)
            continue
        now = datetime.now(UTC)
        kept = [c for c in (clean_post(p, now) for p in batch.posts) if c is not None]
        if len(kept) < len(batch.posts):
            log.warning(
                "source %s: %s of %s posts had nothing storable and were skipped",
                name,
                len(batch.posts) - len(kept),
                len(batch.posts),
            )
        out.posts.extend(kept)
        out.reports[name] = SourceReport("ok", count=len(kept), reason=batch.partial)
        out.billed[name] = batch.billed
        if batch.cursor is not None:
            out.cursors[name] = batch.cursor
    return out
