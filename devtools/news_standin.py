"""A local news search feed (`/rss/search?q=…`, Google News' RSS search shape): the query in
its news syntax (quotes, OR, -exclusions) picks the corpus's matching posts as items."""

from __future__ import annotations

from devtools.corpus import Corpus, source_query
from devtools.http_standin import Request, Response
from devtools.rss_standin import FeedStandIn


class NewsStandIn(FeedStandIn):
    def __init__(self, corpus: Corpus) -> None:
        super().__init__({})
        self.corpus = corpus

    @property
    def search_url(self) -> str:
        return f"{self.url}/rss/search?q={{query}}&hl=en-US&gl=US&ceid=US:en"

    def route(self, request: Request) -> Response:
        if request.path != "/rss/search":
            return Response(404, "not found", {"content-type": "text/plain"})
        query = source_query(request.query.get("q", ""), "x")
        found = self.corpus.search(query) if query else []
        return Response(
            200, self._rss("news search", found), {"content-type": "application/rss+xml"}
        )
