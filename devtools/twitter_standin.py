"""A local X API v2 recent-search endpoint in the JSON tweepy reads."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from devtools.corpus import Corpus, CorpusPost, source_query
from devtools.http_standin import Request, Response, StandIn


class TwitterStandIn(StandIn):
    def __init__(self, corpus: Corpus, bearer_token: str = "x-standin-token") -> None:
        super().__init__()
        self.corpus = corpus
        self.bearer_token = bearer_token

    def route(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.bearer_token}":
            return Response(
                401,
                {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
            )
        if request.path == "/2/tweets/counts/recent":
            return self._counts(request)
        if request.path != "/2/tweets/search/recent":
            return Response(404, {"title": "Not Found Error", "status": 404})
        size = int(request.query.get("max_results", 10))
        if not 10 <= size <= 100:
            return Response(
                400,
                {
                    "title": "Invalid Request",
                    "status": 400,
                    "detail": "max_results must be 10..100",
                },
            )
        query = source_query(request.query.get("query", ""), "x")
        if query is None:
            return Response(
                400, {"title": "Invalid Request", "status": 400, "detail": "Invalid query"}
            )
        found = self.corpus.search(query)
        since_id = request.query.get("since_id")
        if since_id:
            found = [p for p in found if int(p.id) > int(since_id)]
        if request.query.get("start_time"):
            start = _start_time(request)
            if isinstance(start, Response):
                return start
            found = [p for p in found if p.created_at >= start]
        offset = int(request.query.get("next_token", "0") or 0)
        page = found[offset : offset + size]
        meta: dict[str, object] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if offset + size < len(found):
            meta["next_token"] = str(offset + size)
        body: dict[str, object] = {"meta": meta}
        if page:
            body["data"] = [_tweet(p) for p in page]
            authors = {p.author: p for p in page}
            body["includes"] = {
                "users": [{"id": _user_id(a), "username": a, "name": a} for a in authors]
            }
        headers = {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "449",
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }
        return Response(200, body, headers)

    def _counts(self, request: Request) -> Response:
        """GET /2/tweets/counts/recent: tweets per day over the last seven days (or from
        start_time), as X counts them: nothing billed."""
        query = source_query(request.query.get("query", ""), "x")
        if query is None:
            return Response(
                400, {"title": "Invalid Request", "status": 400, "detail": "Invalid query"}
            )
        start = _start_time(request)
        if isinstance(start, Response):
            return start
        found = [p for p in self.corpus.search(query) if p.created_at >= start]
        now = datetime.now(UTC)
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        buckets = []
        while day < now:
            end = day + timedelta(days=1)
            n = sum(1 for p in found if day <= p.created_at < end)
            buckets.append(
                {"end": _stamp(min(end, now)), "start": _stamp(max(day, start)), "tweet_count": n}
            )
            day = end
        return Response(200, {"data": buckets, "meta": {"total_tweet_count": len(found)}})


def _start_time(request: Request) -> datetime | Response:
    """Recent search's start_time (seven days back when absent); X refuses one older."""
    oldest = datetime.now(UTC) - timedelta(days=7)
    text = request.query.get("start_time")
    if not text:
        return oldest
    start = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if start < oldest - timedelta(seconds=10):
        detail = (
            "Invalid 'start_time':'"
            + text
            + "'. 'start_time' must be on or after "
            + _stamp(oldest)
        )
        return Response(
            400,
            {
                "errors": [{"parameters": {"start_time": [text]}, "message": detail}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
        )
    return start


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _user_id(author: str) -> str:
    return str(abs(hash(author)) % 10**12)


def _tweet(p: CorpusPost) -> dict[str, object]:
    return {
        "id": p.id,
        "text": p.text,
        "author_id": _user_id(p.author),
        "created_at": p.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "lang": p.lang,
        "edit_history_tweet_ids": [p.id],
        "public_metrics": {
            "retweet_count": 0,
            "reply_count": p.replies,
            "like_count": p.likes,
            "quote_count": 0,
            "impression_count": p.likes * 10,
        },
    }
