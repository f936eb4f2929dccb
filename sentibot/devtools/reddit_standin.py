"""A local Reddit: the OAuth token endpoint and subreddit search listings, as praw reads them."""

from __future__ import annotations

import base64
import secrets

from sentibot.devtools.corpus import Corpus, CorpusPost
from sentibot.devtools.http_standin import Request, Response, StandIn

RATE_HEADERS = {
    "x-ratelimit-remaining": "599.0",
    "x-ratelimit-used": "1",
    "x-ratelimit-reset": "600",
}


class RedditStandIn(StandIn):
    def __init__(
        self,
        corpus: Corpus,
        client_id: str = "reddit-standin-id",
        client_secret: str = "reddit-standin-secret",
    ) -> None:
        super().__init__()
        self.corpus = corpus
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens: set[str] = set()

    def route(self, request: Request) -> Response:
        if request.path == "/api/v1/access_token":
            return self._token(request)
        token = request.headers.get("authorization", "").removeprefix("bearer ").strip()
        if token not in self.tokens:
            return Response(401, {"message": "Unauthorized", "error": 401}, RATE_HEADERS)
        parts = request.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "r" and parts[2] == "search":
            return self._search(parts[1], request)
        return Response(404, {"message": "Not Found", "error": 404}, RATE_HEADERS)

    def _token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Response(401, {"message": "Unauthorized", "error": 401})
        token = secrets.token_hex(12)
        self.tokens.add(token)
        return Response(
            200, {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        )

    def _search(self, subreddit: str, request: Request) -> Response:
        terms = request.query.get("q", "").replace('"', " ").split()
        found = self.corpus.search(terms)
        limit = min(int(request.query.get("limit", 25)), 100)
        after = request.query.get("after")
        start = 0
        if after:
            ids = [f"t3_{p.id}" for p in found]
            start = ids.index(after) + 1 if after in ids else len(found)
        page = found[start : start + limit]
        more = start + limit < len(found)
        listing = {
            "kind": "Listing",
            "data": {
                "after": f"t3_{page[-1].id}" if page and more else None,
                "before": None,
                "dist": len(page),
                "children": [{"kind": "t3", "data": _submission(p, subreddit)} for p in page],
            },
        }
        return Response(200, listing, RATE_HEADERS)


def _submission(p: CorpusPost, subreddit: str) -> dict[str, object]:
    title, _, body = p.text.partition("\n")
    sub = "demo" if subreddit == "all" else subreddit
    return {
        "id": p.id,
        "name": f"t3_{p.id}",
        "title": title,
        "selftext": body,
        "author": p.author,
        "subreddit": sub,
        "permalink": f"/r/{sub}/comments/{p.id}/post/",
        "url": f"https://www.reddit.com/r/{sub}/comments/{p.id}/post/",
        "created_utc": p.created_at.timestamp(),
        "score": p.likes,
        "num_comments": p.replies,
        "over_18": False,
    }
