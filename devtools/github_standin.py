"""A local GitHub REST search (`/search/issues`) with its rate limits: 10 searches a minute
without a token, 30 with, `x-ratelimit-*` headers, 403 when spent, 401 for a bad token;
bodies shaped as GitHub documents them."""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime

from devtools.corpus import Corpus, CorpusPost, source_query
from devtools.http_standin import Request, Response, StandIn

_CREATED = re.compile(r"\s*created:>(\S+)")
DOCS = "https://docs.github.com/rest"


class GitHubStandIn(StandIn):
    token = "ghp_standin0000000000000000000000000000"

    def __init__(self, corpus: Corpus, per_minute: tuple[int, int] = (10, 30)) -> None:
        super().__init__()
        self.corpus = corpus
        self.per_minute = per_minute  # (without a token, with one)
        self._window: list[float] = []
        self._count_lock = threading.Lock()

    def route(self, request: Request) -> Response:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if given and given != self.token:
            return Response(
                401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}
            )
        if request.path != "/search/issues":
            return Response(404, {"message": "Not Found", "documentation_url": DOCS})
        limit = self.per_minute[1 if given else 0]
        now = time.time()
        with self._count_lock:
            self._window = [t for t in self._window if t > now - 60]
            used = len(self._window)
            reset = int((self._window[0] if self._window else now) + 60)
            if used >= limit:
                headers = self._headers(limit, 0, reset, used)
                return Response(
                    403,
                    {
                        "message": "API rate limit exceeded for 127.0.0.1.",
                        "documentation_url": DOCS,
                    },
                    headers,
                )
            self._window.append(now)
        headers = self._headers(limit, limit - used - 1, reset, used + 1)
        text = request.query.get("q", "")
        after = _CREATED.search(text)
        query = source_query(_CREATED.sub("", text), "algolia")
        found = self.corpus.search(query) if query else []
        if after:
            since = datetime.fromisoformat(after.group(1).replace("Z", "+00:00"))
            found = [p for p in found if p.created_at > since]
        per_page = min(int(request.query.get("per_page", 30)), 100)
        page = int(request.query.get("page", 1))
        items = found[(page - 1) * per_page : page * per_page]
        return Response(
            200,
            {
                "total_count": len(found),
                "incomplete_results": False,
                "items": [self._item(p) for p in items],
            },
            headers,
        )

    def _item(self, p: CorpusPost) -> dict[str, object]:
        number = int(p.id[-6:]) if p.id[-6:].isdigit() else abs(hash(p.id)) % 100000
        title, _, body = p.text.partition("\n")
        stamp = p.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "url": f"https://api.github.com/repos/acme/app/issues/{number}",
            "html_url": f"https://github.com/acme/app/issues/{number}",
            "id": 10**9 + number,
            "node_id": f"I_kwDO{number}",
            "number": number,
            "title": title,
            "user": {"login": p.author, "id": abs(hash(p.author)) % 10**8, "type": "User"},
            "labels": [],
            "state": "open",
            "locked": False,
            "comments": p.replies,
            "created_at": stamp,
            "updated_at": stamp,
            "closed_at": None,
            "author_association": "NONE",
            "body": body or None,
            "reactions": {"total_count": p.likes},
            "score": 1.0,
        }

    @staticmethod
    def _headers(limit: int, remaining: int, reset: int, used: int) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, remaining)),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "search",
        }
