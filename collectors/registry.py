"""The collectors' specs, for the core's `sentibot.sources` entry point.

A source is a module in this package with a `SOURCE` (a `SourceSpec`); adding one touches no
other module. Every collector the core builds hands on only posts that can be stored
(`collectors/boundary.py`).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import collectors as package
from collectors.boundary import clean_post
from sentibot.config.settings import Settings
from sentibot.query import Query
from sentibot.sources import Batch, Collector, RetryPolicy, SourceSpec

log = logging.getLogger(__name__)


def specs() -> list[SourceSpec]:
    """Every source module's spec, its collector cleaning what it returns."""
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        spec = getattr(module, "SOURCE", None)
        if isinstance(spec, SourceSpec):
            found.append(replace(spec, build=_cleaning(spec.build)))
    return found


Build = Callable[[Settings, RetryPolicy | None], Collector]


def _cleaning(build: Build) -> Build:
    def built(settings: Settings, retry: RetryPolicy | None) -> Collector:
        return Cleaned(build(settings, retry))

    return built


class Cleaned:
    """A collector whose posts pass the boundary: control characters, entities, unpaired
    surrogates, overlong fields and future dates dealt with; nothing storable, dropped."""

    def __init__(self, inner: Collector) -> None:
        self.inner = inner
        self.name = inner.name

    def __getattr__(self, attr: str) -> object:
        return getattr(self.inner, attr)  # X's `estimate`, a collector's own helpers

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        batch = self.inner.collect(query, limit, cursor)
        now = datetime.now(UTC)
        kept = [c for c in (clean_post(p, now) for p in batch.posts) if c is not None]
        if len(kept) < len(batch.posts):
            log.warning(
                "source %s: %s of %s posts had nothing storable and were skipped",
                self.name,
                len(batch.posts) - len(kept),
                len(batch.posts),
            )
        return replace(batch, posts=kept)
