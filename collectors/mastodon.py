"""Mastodon statuses through Mastodon.py: hashtag timelines on every instance in
MASTODON_INSTANCES, and full-text search where a token (MASTODON_ACCESS_TOKEN) allows it.

Each instance keeps its own `min_id` cursor (ids are per instance). A status federated to two
instances has one `uri` everywhere: that is its id here, so it is stored once."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from collectors.base import per_place, side_by_side, with_retries
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
    SourceSpec,
    SourceUnavailable,
)

log = logging.getLogger(__name__)

ASSUMED_VERSION = "4.0.0"  # search_v2 and hashtag timelines with min_id: every 4.x has both
PAGE_SIZE = 40  # the most a Mastodon timeline page holds
MAX_PAGES = 3


class MastodonCollector:
    name = "mastodon"

    def __init__(
        self,
        instances: list[str],
        access_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.instances = [i.rstrip("/") for i in instances]
        self.access_token = access_token
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
        self._clients: dict[str, Mastodon] = {}

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        since = _cursors(cursor)
        found = side_by_side(
            self.instances, lambda i: self._instance(query, i, limit, since.get(i))
        )
        delivered, partial = per_place(self.instances, found, _host, "instance")
        posts: dict[str, Post] = {}
        newest = dict(since)
        for instance, (top, instance_posts) in delivered:
            if top is not None:
                newest[instance] = top
            for post in instance_posts:
                posts.setdefault(post.external_id, post)
        ordered = sorted(
            posts.values(),
            key=lambda p: p.created_at or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )
        # Each instance gave at most `limit`, contiguous after its cursor: nothing is cut here,
        # or the cursor would pass posts never stored.
        return Batch(
            ordered,
            json.dumps(newest, sort_keys=True) if newest else None,
            partial=partial,
        )

    def _instance(
        self, query: Query, instance: str, limit: int, min_id: str | None
    ) -> tuple[str | None, list[Post]]:
        """Statuses newer than `min_id` from each hashtag (and the search, with a token); the
        newest id seen is the instance's next cursor."""
        client = self._client(instance)
        statuses: list[Any] = []
        for tag in query.hashtags():
            statuses += self._read(
                client, lambda t=tag, **kw: client.timeline_hashtag(t, **kw), limit, min_id
            )
        if self.access_token:
            search = " ".join(query.alternatives()[:1])

            def searched(**kw: Any) -> list[Any]:
                return list(client.search_v2(search, result_type="statuses", **kw)["statuses"])

            statuses += self._read(client, searched, limit, min_id)
        unique = {str(s["id"]): s for s in statuses}
        in_order = sorted(unique, key=_id_order)  # oldest first
        if min_id:
            # More are new than this run takes: take the oldest `limit` after the cursor and
            # move the cursor only past those, so the next run starts with the rest (taking the
            # newest and moving past all of them lost the ones in between).
            in_order = in_order[:limit]
        else:
            in_order = in_order[-limit:]  # a first run: the newest
        statuses = [unique[i] for i in in_order]
        top = in_order[-1] if in_order else None
        posts = []
        for status in statuses:
            post = _to_post(instance, status)
            if post is not None and query.matches(post.text, post.lang):
                posts.append(post)
        return top, posts

    def _read(self, client: Mastodon, page: Any, limit: int, min_id: str | None) -> list[Any]:
        """Newest first without a cursor; with one, every page after it (min_id walks up)."""
        found: list[Any] = []
        kwargs: dict[str, Any] = {"limit": PAGE_SIZE}
        if min_id:
            kwargs["min_id"] = min_id
        for _ in range(MAX_PAGES):
            got = with_retries(partial(self._call, client, page, dict(kwargs)), self.retry)
            if not got:
                break
            found += got
            if len(found) >= limit or len(got) < PAGE_SIZE:
                break
            ids = [str(s["id"]) for s in got]
            if min_id:
                kwargs["min_id"] = max(ids, key=_id_order)
            else:
                kwargs["max_id"] = min(ids, key=_id_order)
        return found

    def _call(self, client: Mastodon, page: Any, kwargs: dict[str, Any]) -> list[Any]:
        try:
            got = page(**kwargs)
        except MastodonRatelimitError as exc:
            raise RateLimited("Mastodon rate limit reached (429)", _reset_in(client)) from exc
        except MastodonUnauthorizedError as exc:
            raise SourceAuthError(_auth_reason(exc, self.access_token)) from exc
        except MastodonNotFoundError as exc:
            raise SourceBadResponse(f"Mastodon answered 404 ({_detail(exc)})") from exc
        except MastodonServerError as exc:
            raise SourceUnavailable(f"Mastodon server error ({_detail(exc)})") from exc
        except MastodonNetworkError as exc:
            raise SourceUnavailable(f"Mastodon unreachable ({type(exc).__name__})") from exc
        except MastodonAPIError as exc:
            # An instance that shows timelines only to signed-in apps answers 422 (or 403).
            status = exc.args[1] if len(exc.args) > 1 else None
            if status in (403, 422) or any("authenticated" in str(a).lower() for a in exc.args):
                raise SourceAuthError(_auth_reason(exc, self.access_token)) from exc
            raise SourceBadResponse(f"Mastodon refused the request ({_detail(exc)})") from exc
        except (MastodonError, ValueError, KeyError, TypeError) as exc:
            raise SourceBadResponse(
                f"Mastodon sent a response not in the documented shape ({type(exc).__name__})"
            ) from exc
        if not isinstance(got, list) or any(not hasattr(s, "get") or "id" not in s for s in got):
            raise SourceBadResponse("Mastodon sent a response not in the documented shape")
        return got

    def _client(self, instance: str) -> Mastodon:
        if instance not in self._clients:
            session = requests.Session()
            self._clients[instance] = Mastodon(
                api_base_url=instance,
                access_token=self.access_token,
                ratelimit_method="throw",
                request_timeout=self.timeout_s,
                version_check_mode="none",
                # Named, so Mastodon.py never probes /api/v1/instance before a search: with that
                # endpoint answering 503 or 429 its probe recursed ~960 requests deep.
                mastodon_version=ASSUMED_VERSION,
                session=session,
                user_agent="sentibot",
            )
        return self._clients[instance]


def _id_order(status_id: str) -> tuple[int, str]:
    return (len(status_id), status_id)  # snowflake ids: longer is newer, then lexical


def _detail(exc: Exception) -> str:
    """Mastodon.py's args: (summary, status, reason, the instance's error message)."""
    return " ".join(str(a) for a in exc.args[1:4] if a)[:160] or type(exc).__name__


def _auth_reason(exc: Exception, token: str | None) -> str:
    if token:
        return f"Mastodon refused MASTODON_ACCESS_TOKEN ({_detail(exc)})"
    return (
        "this Mastodon instance needs a signed-in app for this: set MASTODON_ACCESS_TOKEN "
        f"({_detail(exc)})"
    )


def _reset_in(client: Mastodon) -> float | None:
    reset = getattr(client, "ratelimit_reset", None)
    return max(0.0, float(reset) - time.time()) if reset else None


def _host(instance: str) -> str:
    return instance.split("://", 1)[-1]


def _cursors(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _to_post(instance: str, status: Any) -> Post | None:
    if status.get("reblog"):
        return None  # a boost repeats its original, which the timeline also carries
    text = html_to_text(status.get("content"))
    spoiler = html_to_text(status.get("spoiler_text"))
    text = "\n".join(t for t in (spoiler, text) if t)
    if not text:
        return None
    account = status.get("account") or {}
    created = status.get("created_at")
    if isinstance(created, str):
        created = datetime.fromisoformat(created.replace("Z", "+00:00"))
    uri = str(status.get("uri") or f"{instance}/statuses/{status['id']}")
    return Post(
        source="mastodon",
        external_id=uri,
        text=text,
        author=account.get("acct"),
        url=status.get("url") or uri,
        created_at=created if isinstance(created, datetime) else None,
        engagement=int(status.get("favourites_count") or 0)
        + int(status.get("reblogs_count") or 0)
        + int(status.get("replies_count") or 0),
        lang=status.get("language"),
    )


def _build(settings: Settings, retry: RetryPolicy | None) -> MastodonCollector:
    raw = settings.require("mastodon_instances", "the Mastodon source")
    instances = [i.strip() for i in raw.split(",") if i.strip()]
    token = (
        settings.mastodon_access_token.get_secret_value()
        if settings.mastodon_access_token
        else None
    )
    return MastodonCollector(instances, token, retry)


SOURCE = SourceSpec(
    name="mastodon",
    display="Mastodon",
    build=_build,
    aliases=("fediverse", "toot"),
    order=55,
    needs="nothing for hashtags (MASTODON_ACCESS_TOKEN adds full-text search)",
)
