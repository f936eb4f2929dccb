"""A local Reddit: the OAuth token endpoint and subreddit search listings, as praw reads them."""

from __future__ import annotations

import base64
import secrets

from devtools.corpus import Corpus, CorpusPost, source_query
from devtools.http_standin import Request, Response, StandIn

# praw paces itself by these (reset / remaining seconds between requests): a window near its
# end keeps tests quick while exercising the same code path.
RATE_HEADERS = {
    "x-ratelimit-remaining": "599.0",
    "x-ratelimit-used": "1",
    "x-ratelimit-reset": "10",
}


class RedditStandIn(StandIn):
    def __init__(
        self,
        corpus: Corpus,
        client_id: str = "reddit-standin-id",
        client_secret: str = "reddit-standin-secret",
        comments: dict[str, list[CorpusPost]] | None = None,
    ) -> None:
        super().__init__()
        self.corpus = corpus
        # Comments under a submission, by submission id.
        self.comments = comments or {}
        self.served: dict[str, dict[str, object]] = {}
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
        if len(parts) >= 2 and parts[0] == "comments":
            return self._comments(parts[1])
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

    def _comments(self, submission_id: str) -> Response:
        """praw reads a two-listing array: the submission, then its comment tree."""
        submission = self.served.get(submission_id)
        if submission is None:
            return Response(404, {"message": "Not Found", "error": 404}, RATE_HEADERS)
        children = [
            {"kind": "t1", "data": _comment(c, submission_id)}
            for c in self.comments.get(submission_id, [])
        ]
        return Response(
            200,
            [
                {
                    "kind": "Listing",
                    "data": {
                        "after": None,
                        "before": None,
                        "children": [{"kind": "t3", "data": submission}],
                    },
                },
                {"kind": "Listing", "data": {"after": None, "before": None, "children": children}},
            ],
            RATE_HEADERS,
        )

    def _serve(self, p: CorpusPost, subreddit: str) -> dict[str, object]:
        self.served[p.id] = _submission(p, subreddit)
        return self.served[p.id]

    def _search(self, subreddit: str, request: Request) -> Response:
        query = source_query(request.query.get("q", ""), "reddit")
        found = self.corpus.search(query) if query else []
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
                "children": [{"kind": "t3", "data": self._serve(p, subreddit)} for p in page],
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


def _comment(c: CorpusPost, submission_id: str) -> dict[str, object]:
    return {
        "id": c.id,
        "name": f"t1_{c.id}",
        "body": c.text,
        "author": c.author,
        "link_id": f"t3_{submission_id}",
        "parent_id": f"t3_{submission_id}",
        "permalink": f"/r/demo/comments/{submission_id}/post/{c.id}/",
        "created_utc": c.created_at.timestamp(),
        "score": c.likes,
        "replies": "",
        "subreddit": "demo",
    }
