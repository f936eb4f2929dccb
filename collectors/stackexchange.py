"""Stack Exchange questions and answers through `/2.3/search/excerpts`, on the sites in
STACKEXCHANGE_SITES. Keyless (300 requests a day per IP) or with STACKEXCHANGE_KEY.

The API's `backoff` field is a promise: the same method may not be called again on that site
for that many seconds. It is kept per process and honoured before every call."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

import requests

from collectors.base import Allowance, malformed, per_place, side_by_side, with_retries
from collectors.boundary import html_to_text
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

log = logging.getLogger(__name__)

# (api_url, site) -> monotonic time before which /search/excerpts may not be called again.
_backoff_until: dict[tuple[str, str], float] = {}
_backoff_lock = threading.Lock()
# api_url -> {api_site_parameter: site_url}, from `/2.3/sites` (read once per process).
_site_urls: dict[str, dict[str, str]] = {}
# Sites on their own domain; every other site lives under stackexchange.com.
_OWN_DOMAIN = {"stackoverflow", "serverfault", "superuser", "askubuntu", "stackapps"}


class StackExchangeCollector:
    name = "stackexchange"

    def __init__(
        self,
        sites: list[str],
        key: str | None = None,
        api_url: str = "https://api.stackexchange.com",
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.sites = sites
        self.key = key
        self.api_url = api_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self.timeout_s = timeout_s
        self.allowance = Allowance("requests left today")

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        """Every site side by side; the cursor holds each site's newest creation_date."""
        since = _cursors(cursor)
        found = side_by_side(self.sites, lambda s: self._site(query, s, limit, since.get(s)))
        delivered, partial = per_place(self.sites, found, str, "site")
        posts: dict[str, Post] = {}
        newest = dict(since)
        for site, result in delivered:
            for post, created in result:
                posts.setdefault(post.external_id, post)
                newest[site] = max(newest.get(site, 0), created)
        ordered = sorted(posts.values(), key=lambda p: p.created_at or datetime.min, reverse=True)
        return Batch(
            ordered[:limit],
            json.dumps(newest, sort_keys=True) if newest else None,
            partial=partial,
            quota=self.allowance.text,
        )

    def _site(
        self, query: Query, site: str, limit: int, since: int | None
    ) -> list[tuple[Post, int]]:
        found: list[tuple[Post, int]] = []
        seen: set[str] = set()
        base = self._site_url(site)  # once per site and run, not once per page
        for text in query.alternatives():
            page = 1
            while len(found) < limit and page <= MAX_PAGES:
                body = with_retries(partial(self._page, site, text, page, since), self.retry)
                items, has_more = _items(body)
                for item in items:
                    post, created = _to_post(site, item, base)
                    if post.external_id in seen or (since is not None and created <= since):
                        continue
                    if query.matches(post.text):
                        seen.add(post.external_id)
                        found.append((post, created))
                if not has_more:
                    break
                page += 1
        return found

    def _site_url(self, site: str) -> str:
        """The site's address as `/2.3/sites` gives it; a reasoned guess if that fails."""
        if self.api_url not in _site_urls:
            found = self._read_sites()
            if found is None:
                return guess_site_url(site)
            _site_urls[self.api_url] = found
        return _site_urls[self.api_url].get(site) or guess_site_url(site)

    def _read_sites(self) -> dict[str, str] | None:
        out: dict[str, str] = {}
        for page in range(1, 6):  # about 370 sites: four pages of 100
            params: dict[str, Any] = {"page": page, "pagesize": 100}
            if self.key:
                params["key"] = self.key
            try:
                response = self.session.get(
                    f"{self.api_url}/2.3/sites", params=params, timeout=self.timeout_s
                )
                body = response.json() if response.status_code == 200 else None
            except (requests.RequestException, ValueError):
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                log.warning("Stack Exchange /sites unreadable; links use the usual domains")
                return None
            for item in body["items"]:
                site, url = item.get("api_site_parameter"), item.get("site_url")
                if isinstance(site, str) and isinstance(url, str) and url.startswith("https://"):
                    out[site] = url.rstrip("/")
            if not body.get("has_more"):
                break
        return out

    def _page(self, site: str, text: str, page: int, since: int | None) -> Any:
        wait = _backoff_left(self.api_url, site)
        if wait > self.retry.max_wait_s:
            raise RateLimited(f"Stack Exchange asked for a pause of {wait:.0f} s (backoff)", wait)
        if wait > 0:
            self.retry.sleep(wait)
        params: dict[str, Any] = {
            "q": text,
            "site": site,
            "sort": "creation",
            "order": "desc",
            "pagesize": PAGE_SIZE,
            "page": page,
        }
        if since is not None:
            params["fromdate"] = since + 1
        if self.key:
            params["key"] = self.key
        try:
            response = self.session.get(
                f"{self.api_url}/2.3/search/excerpts", params=params, timeout=self.timeout_s
            )
        except requests.RequestException as exc:
            raise SourceUnavailable(f"Stack Exchange unreachable: {type(exc).__name__}") from exc
        if response.status_code >= 500 and "error_id" not in response.text[:200]:
            raise SourceUnavailable(f"Stack Exchange server error ({response.status_code})")
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceBadResponse(malformed("Stack Exchange", exc)) from exc
        if not isinstance(body, dict):
            raise SourceBadResponse(malformed("Stack Exchange", TypeError("not an object")))
        if "backoff" in body:
            _set_backoff(self.api_url, site, float(body["backoff"]))
        if "error_id" in body:
            raise _error(body)
        left, most = body.get("quota_remaining"), body.get("quota_max")
        if isinstance(left, int) and isinstance(most, int):
            self.allowance.saw(left, most)
        return body


def _error(body: dict[str, Any]) -> SourceError:
    name = str(body.get("error_name") or "error")
    message = str(body.get("error_message") or "")[:160]
    if name == "throttle_violation":
        return RateLimited(f"Stack Exchange throttled this IP: {message}", _seconds_in(message))
    if name in ("access_denied", "key_required", "invalid_access_token") or (
        name == "bad_parameter" and "key" in message.lower()
    ):
        return SourceAuthError(f"Stack Exchange refused STACKEXCHANGE_KEY ({name}: {message})")
    if name == "no_method" or name == "not_found":
        return SourceBadResponse(f"Stack Exchange: {name} ({message}); check STACKEXCHANGE_SITES")
    if name == "bad_parameter" and "site" in message.lower():
        return SourceBadResponse(
            f"Stack Exchange does not know a site in STACKEXCHANGE_SITES ({message})"
        )
    if name in ("internal_error", "temporarily_unavailable"):
        return SourceUnavailable(f"Stack Exchange {name}: {message}")
    return SourceBadResponse(f"Stack Exchange {name}: {message}")


def _seconds_in(message: str) -> float | None:
    words = message.split()
    for before, word in zip(words, words[1:], strict=False):
        if word.startswith("second") and before.isdigit():
            return float(before)
    return None


def _backoff_left(api_url: str, site: str) -> float:
    with _backoff_lock:
        return _backoff_until.get((api_url, site), 0.0) - time.monotonic()


def _set_backoff(api_url: str, site: str, seconds: float) -> None:
    with _backoff_lock:
        _backoff_until[(api_url, site)] = time.monotonic() + max(0.0, min(seconds, 3600.0))


def _cursors(cursor: str | None) -> dict[str, int]:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
        return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (ValueError, TypeError):
        return {}


def _items(body: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    try:
        items = body["items"]
        if not isinstance(items, list) or any(not isinstance(i, dict) for i in items):
            raise TypeError("items is not a list of objects")
        for item in items:
            int(item["creation_date"])
            int(item["question_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceBadResponse(malformed("Stack Exchange", exc)) from exc
    return items, bool(body.get("has_more"))


def guess_site_url(site: str) -> str:
    """Where a site lives when `/sites` cannot say: `stackoverflow` on its own domain,
    `webapps` under stackexchange.com, `meta` as meta.stackexchange.com, `meta.superuser` as
    meta.superuser.com, `meta.webapps` as webapps.meta.stackexchange.com."""
    name = site.lower().removesuffix(".com")
    if "." in name and not name.startswith("meta."):
        return f"https://{name}"  # given as a domain (`mathoverflow.net`)
    if name == "meta":
        return "https://meta.stackexchange.com"
    if name.startswith("meta."):
        parent = name.removeprefix("meta.")
        if parent in _OWN_DOMAIN:
            return f"https://meta.{parent}.com"
        return f"https://{parent}.meta.stackexchange.com"
    if name in _OWN_DOMAIN:
        return f"https://{name}.com"
    return f"https://{name}.stackexchange.com"


def _to_post(site: str, item: dict[str, Any], base: str | None = None) -> tuple[Post, int]:
    is_answer = item.get("item_type") == "answer" and item.get("answer_id") is not None
    number = item["answer_id"] if is_answer else item["question_id"]
    title = html_to_text(item.get("title"))
    excerpt = html_to_text(item.get("body") or item.get("excerpt"))
    text = excerpt if is_answer else "\n".join(t for t in (title, excerpt) if t)
    created = int(item["creation_date"])
    base = base or guess_site_url(site)
    kind = "a" if is_answer else "q"
    return (
        Post(
            source="stackexchange",
            external_id=f"{site}:{kind}{number}",
            text=text or title,
            author=(item.get("owner") or {}).get("display_name")
            if isinstance(item.get("owner"), dict)
            else None,
            url=f"{base}/{kind}/{number}",
            created_at=datetime.fromtimestamp(created, UTC),
            engagement=int(item.get("score") or 0) + int(item.get("answer_count") or 0),
        ),
        created,
    )


def _build(settings: Settings, retry: RetryPolicy | None) -> StackExchangeCollector:
    sites = [
        s.strip() for s in settings.require("stackexchange_sites", "Stack Exchange").split(",")
    ]
    key = settings.stackexchange_key.get_secret_value() if settings.stackexchange_key else None
    return StackExchangeCollector(
        [s for s in sites if s], key, settings.stackexchange_api_url, retry
    )


SOURCE = SourceSpec(
    name="stackexchange",
    display="Stack Exchange",
    build=_build,
    aliases=("stackoverflow", "so", "se"),
    order=70,
    needs="nothing (STACKEXCHANGE_KEY raises the daily quota)",
)
