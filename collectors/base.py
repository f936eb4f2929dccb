"""What the collectors share: reading an API's error body, cursors, retries, calls side by side.

The vocabulary they speak (`Post`, `Batch`, the errors, `RetryPolicy`) is the core's:
`sentibot/sources.py`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from sentibot.sources import RateLimited, RetryPolicy, SourceError, SourceUnavailable

T = TypeVar("T")


def error_message(response: Any, limit: int = 160) -> str | None:
    """The `message` of an API's JSON error body (GitHub's, Algolia's), on one line; "" where
    the object has none, None where the body is not a JSON object."""
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    return " ".join(str(message).split())[:limit] if message else ""


def malformed(source: str, exc: Exception) -> str:
    """A reason for a body that could not be read, saying how: cut short, not JSON, or not the
    shape the API documents."""
    if isinstance(exc, json.JSONDecodeError):
        size = len(exc.doc or "")
        if size and exc.pos >= len(exc.doc.rstrip()) - 8:  # the error is where the body ends
            return f"{source} sent a truncated body (cut off after {size} bytes)"
        excerpt = " ".join((exc.doc or "")[:60].split())
        return f"{source} sent a body that is not JSON ({exc.msg}): {excerpt!r}"
    detail = (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:80]
    return f"{source} sent a response not in the documented shape ({detail})"


def unix_cursor(when: datetime) -> str:
    """`cursor_at` of the sources whose cursor is a Unix time."""
    return str(int(when.timestamp()))


def newer(cursor: str | None, candidate: float | int | None) -> str | None:
    """The larger of a numeric cursor and a candidate, as a cursor string."""
    if candidate is None:
        return cursor
    if cursor is not None and float(cursor) >= float(candidate):
        return cursor
    return str(candidate)


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


# Independent calls within one source (one per feed, one per Algolia alternative) run this many
# at a time: side by side, yet gentle with one host.
CALLS_AT_ONCE = 4
Item = TypeVar("Item")


def side_by_side(
    items: Sequence[Item], call: Callable[[Item], T], workers: int = CALLS_AT_ONCE
) -> list[T | SourceError]:
    """`call` on every item, a few at a time; results (or the SourceError each raised) in the
    items' order."""
    if len(items) <= 1:
        return [_caught(call, item) for item in items]
    with ThreadPoolExecutor(min(workers, len(items)), thread_name_prefix="call") as pool:
        return list(pool.map(lambda item: _caught(call, item), items))


def _caught(call: Callable[[Item], T], item: Item) -> T | SourceError:
    try:
        return call(item)
    except SourceError as exc:
        return exc


Place = TypeVar("Place")


def per_place(
    places: Sequence[Place],
    results: Sequence[T | SourceError],
    shown: Callable[[Place], str],
    what: str,
) -> tuple[list[tuple[Place, T]], str | None]:
    """Results of the places one source reads side by side (Mastodon instances, Stack Exchange
    sites): those that delivered, and what could not be read (None: everything was). One place
    alone failing raises its own error; every place failing raises SourceUnavailable."""
    delivered: list[tuple[Place, T]] = []
    errors: list[str] = []
    for place, result in zip(places, results, strict=True):
        if isinstance(result, SourceError):
            if len(places) == 1:
                raise result
            errors.append(f"{shown(place)}: {result.reason}")
        else:
            delivered.append((place, result))
    if errors and not delivered:
        raise SourceUnavailable(f"every {what} failed: " + "; ".join(errors))
    return delivered, "; ".join(errors) if errors else None


class Allowance:
    """What an API says is left of its allowance, for source health; calls run side by side,
    so the lowest figure of one collection is the latest. `text` as in "298 of 300 {per}"."""

    def __init__(self, per: str) -> None:
        self.per = per
        self._lowest: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def saw(self, left: int, most: int) -> None:
        with self._lock:
            if self._lowest is None or left < self._lowest[0]:
                self._lowest = (left, most)

    @property
    def text(self) -> str | None:
        return f"{self._lowest[0]:,} of {self._lowest[1]:,} {self.per}" if self._lowest else None
