"""GitHub issues and pull requests matching the query, through the REST search API
(`/search/issues`, newest first). GITHUB_TOKEN is optional: GitHub allows 10 searches a minute
without one and 30 with; GITHUB_API_URL points it at GitHub Enterprise (…/api/v3)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

import requests

from collectors.base import (
    Allowance,
    error_message,
    malformed,
    newer,
    side_by_side,
    unix_cursor,
    with_retries,
)
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
# GitHub's secondary limit (403 "You have exceeded a secondary rate limit", requests still left,
# often no Retry-After): its documentation says wait at least a minute, then longer each time.
SECONDARY_WAIT_S = 60.0
MAX_SECONDARY_WAIT_S = 3600.0
# api_url -> (monotonic time before which no search is sent, secondary limits in a row).
_paused: dict[str, tuple[float, int]] = {}
_paused_lock = threading.Lock()


class GitHubCollector:
    name = "github"

    def __init__(
        self,
        token: str | None = None,
        api_url: str = "https://api.github.com",
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self.session.headers.update(
            {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        )
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.token = token
        self.timeout_s = timeout_s
        self.allowance = Allowance("searches left this minute")

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        """One search per OR alternative, side by side, created after the cursor (Unix time)."""
        with _paused_lock:
            until, _ = _paused.get(self.api_url, (0.0, 0))
        if until > time.monotonic():  # inside a secondary limit: this run does not ask at all
            raise RateLimited(
                "GitHub's secondary rate limit: waiting before searching again",
                until - time.monotonic(),
            )
        since = int(float(cursor)) if cursor else None
        posts: dict[str, Post] = {}
        newest = cursor
        for found in side_by_side(
            query.alternatives(), lambda text: self._search(query, text, limit, since)
        ):
            if isinstance(found, SourceError):
                raise found
            for post, created in found:
                posts.setdefault(post.external_id, post)
                newest = newer(newest, created)
        ordered = sorted(posts.values(), key=lambda p: p.created_at or datetime.min, reverse=True)
        return Batch(ordered[:limit], newest, quota=self.allowance.text)

    def _search(
        self, query: Query, text: str, limit: int, since: int | None
    ) -> list[tuple[Post, int]]:
        searched = text
        if since is not None:
            stamp = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            searched += f" created:>{stamp}"
        found: list[tuple[Post, int]] = []
        page = 1
        while len(found) < limit and page <= MAX_PAGES:
            body = with_retries(partial(self._page, searched, page), self.retry)
            items, total = _items(body)
            for item in items:
                post, created = _to_post(item)
                if (since is None or created > since) and query.matches(post.text):
                    found.append((post, created))
            if page * PAGE_SIZE >= total or not items:
                break
            page += 1
        return found

    def _page(self, searched: str, page: int) -> Any:
        params: dict[str, str | int] = {
            "q": searched,
            "sort": "created",
            "order": "desc",
            "per_page": PAGE_SIZE,
            "page": page,
        }
        try:
            response = self.session.get(
                f"{self.api_url}/search/issues", params=params, timeout=self.timeout_s
            )
        except requests.RequestException as exc:
            raise SourceUnavailable(f"GitHub unreachable: {type(exc).__name__}") from exc
        left, limit = (
            response.headers.get("x-ratelimit-remaining"),
            response.headers.get("x-ratelimit-limit"),
        )
        if left is not None and limit is not None and left.isdigit() and limit.isdigit():
            self.allowance.saw(int(left), int(limit))
        if response.status_code == 401:
            raise SourceAuthError(f"GitHub refused GITHUB_TOKEN ({_message(response)})")
        if (
            response.status_code in (403, 429)
            and "secondary rate limit" in _message(response).lower()
        ):
            raise RateLimited(
                f"GitHub's secondary rate limit ({response.status_code}: {_message(response)})",
                _secondary(self.api_url, response),
            )
        if response.status_code in (403, 429) and (
            left == "0" or "retry-after" in response.headers or response.status_code == 429
        ):
            raise RateLimited(
                f"GitHub search rate limit reached ({response.status_code}: {_message(response)})",
                _wait(response),
            )
        if response.status_code == 403:
            raise SourceAuthError(
                f"GitHub refused the search (403: {_message(response)}); check GITHUB_TOKEN"
            )
        if response.status_code >= 500:
            raise SourceUnavailable(f"GitHub server error ({response.status_code})")
        if response.status_code != 200:
            raise SourceBadResponse(f"GitHub answered {response.status_code}: {_message(response)}")
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceBadResponse(malformed("GitHub", exc)) from exc
        with _paused_lock:
            _paused.pop(self.api_url, None)
        return body


def _message(response: requests.Response) -> str:
    message = error_message(response, 120)
    return response.text[:120] if message is None else message


def _secondary(api_url: str, response: requests.Response) -> float:
    """How long to leave GitHub alone after a secondary limit: Retry-After where given, else a
    minute, doubling with each limit in a row; no search is sent before then."""
    with _paused_lock:
        _, streak = _paused.get(api_url, (0.0, 0))
        told = _wait(response) if "retry-after" in response.headers else None
        wait = told if told is not None else SECONDARY_WAIT_S * 2**streak
        wait = min(wait, MAX_SECONDARY_WAIT_S)
        _paused[api_url] = (time.monotonic() + wait, streak + 1)
    return wait


def _wait(response: requests.Response) -> float | None:
    """Retry-After (secondary limits), else until x-ratelimit-reset (primary limit)."""
    try:
        if "retry-after" in response.headers:
            return float(response.headers["retry-after"])
        if "x-ratelimit-reset" in response.headers:
            return max(0.0, float(response.headers["x-ratelimit-reset"]) - time.time())
    except ValueError:
        pass
    return None


def _items(body: Any) -> tuple[list[dict[str, Any]], int]:
    try:
        items = body["items"]
        total = int(body.get("total_count", 0))
        if not isinstance(items, list) or any(not isinstance(i, dict) for i in items):
            raise TypeError("items is not a list of objects")
        for item in items:
            _created(item)
            int(item["id"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SourceBadResponse(malformed("GitHub", exc)) from exc
    return items, total


def _created(item: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(str(item["created_at"]).replace("Z", "+00:00")).timestamp())


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _to_post(item: dict[str, Any]) -> tuple[Post, int]:
    created = _created(item)
    title, body = str(item.get("title") or ""), str(item.get("body") or "")
    user = _object(item.get("user"))
    reactions = _object(item.get("reactions"))
    return (
        Post(
            source="github",
            external_id=str(item["id"]),
            text="\n".join(t for t in (title, body) if t.strip()),
            author=user.get("login"),
            url=item.get("html_url"),
            created_at=datetime.fromtimestamp(created, UTC),
            engagement=int(item.get("comments") or 0) + int(reactions.get("total_count") or 0),
        ),
        created,
    )


def _build(settings: Settings, retry: RetryPolicy | None) -> GitHubCollector:
    token = settings.github_token.get_secret_value() if settings.github_token else None
    return GitHubCollector(token, settings.github_api_url, retry)


SOURCE = SourceSpec(
    name="github",
    display="GitHub",
    build=_build,
    aliases=("gh",),
    order=60,
    needs="nothing (GITHUB_TOKEN raises the search limit)",
    cursor_at=unix_cursor,
)
