"""The collector protocol, the `Post` every source returns, typed errors and retry policy."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

T = TypeVar("T")


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


class SourceNotConfigured(SourceError):
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


class Collector(Protocol):
    name: str

    def search(self, query: str, limit: int) -> list[Post]:
        """Recent posts matching `query`, newest first, at most `limit`."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_s: float = 1.0
    # A rate limit that asks for a longer wait than this fails the source instead of blocking.
    max_wait_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep


def with_retries(call: Callable[[], T], policy: RetryPolicy) -> T:
    """Run `call`; on 429 wait as told, on 5xx/network back off; give up after `attempts`."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except RateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else policy.backoff_s * attempt
            if attempt == policy.attempts or wait > policy.max_wait_s:
                raise
            policy.sleep(max(wait, 0.0))
        except SourceUnavailable:
            if attempt == policy.attempts:
                raise
            policy.sleep(policy.backoff_s * 2 ** (attempt - 1))
    raise AssertionError("unreachable")
