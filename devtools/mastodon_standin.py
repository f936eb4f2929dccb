"""A local Mastodon instance: hashtag timelines (`/api/v1/timelines/tag/:tag`, with `min_id`,
`max_id`, `limit`, Link headers) and `/api/v2/search`, statuses shaped as the Mastodon.py
test cassettes record them (HTML content, `uri`, `language`, X-RateLimit-* headers).

Two stand-ins given the same corpus and `origin` serve the same statuses under their own ids,
as federation does: one `uri`, two local ids."""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime, timedelta

from devtools.corpus import Corpus, CorpusPost, parse_query, source_query
from devtools.http_standin import Request, Response, StandIn


class MastodonStandIn(StandIn):
    def __init__(
        self,
        corpus: Corpus,
        origin: str = "mastodon.example",
        id_offset: int = 0,
        require_token: bool = False,
        token: str | None = None,
    ) -> None:
        super().__init__()
        self.corpus = corpus
        self.origin = origin
        self.id_offset = id_offset
        self.require_token = require_token
        self.token = token
        self.remaining = 300

    def route(self, request: Request) -> Response:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if given and given != self.token:
            return self._error(401, "The access token is invalid")
        if request.path.rstrip("/") in ("/api/v1/instance", "/api/v2/instance"):
            return Response(
                200,
                {
                    "uri": self.origin,
                    "domain": self.origin,
                    "version": "4.2.1",
                    "title": "stand-in",
                    "api_versions": {"mastodon": 2},
                },
            )
        if request.path.startswith("/api/v1/timelines/tag/"):
            if self.require_token and not given:
                return self._error(422, "This method requires an authenticated user")
            tag = request.path.rsplit("/", 1)[-1].lower()
            try:
                query = parse_query(tag)
            except ValueError:
                return Response(200, [], self._headers())
            found = [
                p
                for p in self.corpus.search(query)
                if f"#{tag}" in p.text.lower() or query.matches(p.text)
            ]
            return self._page(request, found)
        if request.path == "/api/v2/search":
            if not given:
                return Response(200, {"accounts": [], "statuses": [], "hashtags": []})
            searched = source_query(request.query.get("q", ""), "algolia")
            found = self.corpus.search(searched) if searched else []
            page = self._page(request, found)
            return Response(
                200, {"accounts": [], "statuses": page.body, "hashtags": []}, page.headers
            )
        return self._error(404, "Record not found")

    def status_id(self, p: CorpusPost) -> int:
        return int(p.created_at.timestamp() * 1000) * 65536 + int(p.id[-4:] or 0) + self.id_offset

    def _page(self, request: Request, found: list[CorpusPost]) -> Response:
        limit = min(int(request.query.get("limit", 20)), 40)
        ordered = sorted(found, key=self.status_id, reverse=True)
        if "max_id" in request.query:
            ordered = [p for p in ordered if self.status_id(p) < int(request.query["max_id"])]
        if "since_id" in request.query:
            ordered = [p for p in ordered if self.status_id(p) > int(request.query["since_id"])]
        if "min_id" in request.query:  # the page just after min_id: the oldest newer ones
            newer = [p for p in ordered if self.status_id(p) > int(request.query["min_id"])]
            ordered = sorted(newer, key=self.status_id)[:limit][::-1]
        page = ordered[:limit]
        headers = self._headers()
        if page:
            base = f"{self.url}{request.path}"
            headers["link"] = (
                f'<{base}?max_id={self.status_id(page[-1])}>; rel="next", '
                f'<{base}?min_id={self.status_id(page[0])}>; rel="prev"'
            )
        return Response(200, [self._status(p) for p in page], headers)

    def _status(self, p: CorpusPost) -> dict[str, object]:
        local = self.status_id(p)
        words = " ".join(
            f'<a href="https://{self.origin}/tags/{w[1:]}" class="mention hashtag" rel="tag">'
            f"#<span>{html.escape(w[1:])}</span></a>"
            if w.startswith("#") and len(w) > 1
            else html.escape(w)
            for w in p.text.split(" ")
        )
        created = p.created_at.astimezone(UTC)
        return {
            "id": str(local),
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{created.microsecond // 1000:03d}Z",
            "in_reply_to_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": p.lang,
            "uri": f"https://{self.origin}/users/{p.author}/statuses/{p.id}",
            "url": f"https://{self.origin}/@{p.author}/{p.id}",
            "replies_count": p.replies,
            "reblogs_count": 0,
            "favourites_count": p.likes,
            "edited_at": None,
            "content": f"<p>{words}</p>",
            "reblog": None,
            "account": {
                "id": str(abs(hash(p.author)) % 10**17),
                "username": p.author,
                "acct": f"{p.author}@{self.origin}",
                "display_name": p.author,
                "created_at": "2022-12-01T00:00:00.000Z",
                "url": f"https://{self.origin}/@{p.author}",
                "note": "",
                "emojis": [],
                "fields": [],
                "bot": False,
                "locked": False,
                "group": False,
                "followers_count": 0,
                "following_count": 0,
                "statuses_count": 1,
                "avatar": "",
                "avatar_static": "",
                "header": "",
                "header_static": "",
            },
            "media_attachments": [],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    def _headers(self) -> dict[str, str]:
        self.remaining = max(0, self.remaining - 1)
        reset = datetime.now(UTC) + timedelta(minutes=5)
        return {
            "x-ratelimit-limit": "300",
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def _error(self, status: int, message: str) -> Response:
        return Response(status, {"error": message}, self._headers())


def rate_limited(reset_in_s: float = 2.0) -> tuple[dict[str, object], dict[str, str]]:
    """A 429 body and headers as Mastodon sends them (for `fail_next`)."""
    reset = datetime.now(UTC) + timedelta(seconds=reset_in_s)
    return {"error": "Too many requests"}, {
        "x-ratelimit-limit": "300",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
    }
