"""Bluesky posts through the atproto SDK's `app.bsky.feed.searchPosts` (sort latest, `since`
cursor), signed in with an app password (BLUESKY_HANDLE, BLUESKY_APP_PASSWORD): public search
without a session is often refused.

One signed-in client per process and account: the SDK refreshes its session before the access
token expires, so a watch running every minute signs in once, not once a run."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

from atproto import Client
from atproto_client.exceptions import (
    AtProtocolError,
    BadRequestError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)

from collectors.base import side_by_side, with_retries
from sentibot.config.settings import Settings
from sentibot.query import Query
from sentibot.sources import (
    Batch,
    Post,
    RateLimited,
    RetryPolicy,
    SourceAuthError,
    SourceBadResponse,
    SourceError,
    SourceSpec,
    SourceUnavailable,
)

PAGE_SIZE = 100
MAX_PAGES = 3

_clients: dict[tuple[str, str, str], Client] = {}
_clients_lock = threading.Lock()


class BlueskyCollector:
    name = "bluesky"

    def __init__(
        self, api_url: str, handle: str, app_password: str, retry: RetryPolicy | None = None
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.handle = handle
        self.app_password = app_password
        self.retry = retry or RetryPolicy()

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        """One search per OR alternative, side by side; the cursor is the newest post's time."""
        posts: dict[str, Post] = {}
        newest = cursor
        for found in side_by_side(
            query.alternatives(), lambda text: self._search(query, text, limit, cursor)
        ):
            if isinstance(found, SourceError):
                raise found
            for post, stamp in found:
                posts.setdefault(post.external_id, post)
                if newest is None or stamp > newest:
                    newest = stamp
        ordered = sorted(
            posts.values(),
            key=lambda p: p.created_at or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )
        return Batch(ordered[:limit], newest)

    def _search(
        self, query: Query, text: str, limit: int, since: str | None
    ) -> list[tuple[Post, str]]:
        """Matching posts after `since`, each with its sort time (the cursor's measure)."""
        found: list[tuple[Post, str]] = []
        page_cursor: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"q": text, "sort": "latest", "limit": PAGE_SIZE}
            if since:
                params["since"] = since
            if query.lang:
                params["lang"] = query.lang
            if page_cursor:
                params["cursor"] = page_cursor
            response = with_retries(partial(self._call, dict(params)), self.retry)
            for view in response.posts or []:
                post = _to_post(view)
                if post is None:
                    continue
                at = _sort_stamp(view)
                if since and at <= since:
                    continue
                if query.matches(post.text, post.lang):
                    found.append((post, at))
            page_cursor = response.cursor
            if not page_cursor or not response.posts or len(found) >= limit:
                break
        return found

    def _call(self, params: dict[str, Any]) -> Any:
        client = self._client()
        try:
            return client.app.bsky.feed.search_posts(params=params)
        except RateLimitExceededError as exc:
            raise RateLimited("Bluesky rate limit reached (429)", _reset_in(exc)) from exc
        except UnauthorizedError as exc:
            _forget(self._key())  # the session is gone: sign in again next time
            raise SourceUnavailable(f"Bluesky ended the session ({_detail(exc)})") from exc
        except NetworkError as exc:
            raise SourceUnavailable(f"Bluesky unreachable or busy ({_detail(exc)})") from exc
        except BadRequestError as exc:
            if _detail(exc) in ("ExpiredToken", "InvalidToken") or "token" in _detail(exc).lower():
                _forget(self._key())  # expired early or revoked: sign in again and retry
                raise SourceUnavailable(f"Bluesky session expired ({_detail(exc)})") from exc
            raise SourceBadResponse(f"Bluesky refused the search ({_detail(exc)})") from exc
        except RequestErrorBase as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status >= 500:
                raise SourceUnavailable(f"Bluesky server error ({status})") from exc
            raise SourceBadResponse(f"Bluesky answered {status} ({_detail(exc)})") from exc
        except (AtProtocolError, ValueError) as exc:
            raise SourceBadResponse(
                f"Bluesky sent a response not in the documented shape ({type(exc).__name__})"
            ) from exc

    def _key(self) -> tuple[str, str, str]:
        return (self.api_url, self.handle, self.app_password)

    def _client(self) -> Client:
        key = self._key()
        with _clients_lock:
            client = _clients.get(key)
        if client is not None:
            return client
        client = Client(base_url=self.api_url)
        try:
            client.login(self.handle, self.app_password, fetch_bsky_profile=False)
        except UnauthorizedError as exc:
            raise SourceAuthError(
                "Bluesky refused the sign-in: check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD "
                f"({_detail(exc)})"
            ) from exc
        except RateLimitExceededError as exc:
            raise RateLimited("Bluesky sign-in rate limit reached (429)", _reset_in(exc)) from exc
        except NetworkError as exc:
            raise SourceUnavailable(f"Bluesky unreachable ({_detail(exc)})") from exc
        except (AtProtocolError, ValueError) as exc:
            raise SourceAuthError(
                f"Bluesky sign-in failed ({_detail(exc)}); check BLUESKY_HANDLE"
            ) from exc
        with _clients_lock:
            _clients[key] = client
        return client


def _forget(key: tuple[str, str, str]) -> None:
    with _clients_lock:
        _clients.pop(key, None)


def _stamp(created: datetime | None) -> str:
    moment = created or datetime(1970, 1, 1, tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sort_stamp(view: Any) -> str:
    """When Bluesky sorts the post (and `since` compares): `createdAt` is set by the client and
    may run ahead, so the earlier of it and `indexedAt`, and never past now. A cursor taken from
    a future `createdAt` would skip every newer post after it."""
    times = [
        t
        for t in (
            _parse_time(getattr(getattr(view, "record", None), "created_at", None)),
            _parse_time(getattr(view, "indexed_at", None)),
        )
        if t is not None
    ]
    return _stamp(min([*times, datetime.now(UTC)]))


def _detail(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    message = getattr(content, "message", None) or getattr(content, "error", None)
    return str(message or type(exc).__name__)[:120]


def _reset_in(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        if "retry-after" in headers:
            return float(headers["retry-after"])
        if "ratelimit-reset" in headers:
            return max(0.0, float(headers["ratelimit-reset"]) - time.time())
    except (TypeError, ValueError):
        pass
    return None


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def with_links(text: str, facets: Any) -> str:
    """`text` with each link facet's shortened text ("example.com/long…") replaced by the
    facet's full URL; facets index the text's UTF-8 bytes."""
    raw = text.encode("utf-8")
    spans = []
    for facet in facets if isinstance(facets, list) else []:
        index = _field(facet, "index")
        start, end = _field(index, "byte_start"), _field(index, "byte_end")
        if start is None and isinstance(index, dict):
            start, end = index.get("byteStart"), index.get("byteEnd")
        for feature in _field(facet, "features") or []:
            uri = _field(feature, "uri")
            kind = _field(feature, "py_type") or _field(feature, "$type") or ""
            if isinstance(uri, str) and kind.endswith("#link") and uri.startswith("http"):
                if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(raw):
                    spans.append((start, end, uri))
    for start, end, uri in sorted(spans, reverse=True):  # from the end: offsets stay true
        if not any(s < end and start < e for s, e, _ in spans if (s, e) != (start, end)):
            raw = raw[:start] + uri.encode("utf-8") + raw[end:]
    return raw.decode("utf-8", errors="replace")


def _to_post(view: Any) -> Post | None:
    record = getattr(view, "record", None)
    text = _field(record, "text")
    if not isinstance(text, str) or not text.strip():
        return None
    text = with_links(text, _field(record, "facets"))
    created = _parse_time(getattr(record, "created_at", None)) or _parse_time(
        getattr(view, "indexed_at", None)
    )
    author = getattr(view, "author", None)
    handle = getattr(author, "handle", None)
    uri = str(getattr(view, "uri", ""))
    rkey = uri.rsplit("/", 1)[-1]
    langs = getattr(record, "langs", None) or []
    return Post(
        source="bluesky",
        external_id=uri,
        text=text,
        author=handle,
        url=f"https://bsky.app/profile/{handle}/post/{rkey}" if handle else None,
        created_at=created,
        engagement=sum(
            int(getattr(view, field, 0) or 0)
            for field in ("like_count", "reply_count", "repost_count", "quote_count")
        ),
        lang=langs[0] if langs else None,
    )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _build(settings: Settings, retry: RetryPolicy | None) -> BlueskyCollector:
    handle = settings.require("bluesky_handle", "the Bluesky source")
    password = settings.require("bluesky_app_password", "the Bluesky source")
    return BlueskyCollector(settings.bluesky_api_url, handle, password, retry)


SOURCE = SourceSpec(
    name="bluesky",
    display="Bluesky",
    build=_build,
    aliases=("bsky",),
    order=50,
    needs="BLUESKY_HANDLE and BLUESKY_APP_PASSWORD (a free app password)",
    cursor_at=_stamp,
)
