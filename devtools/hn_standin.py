"""A local Hacker News search (Algolia's `search_by_date`) in the JSON the collector reads."""

from __future__ import annotations

import re

from devtools.corpus import Corpus, CorpusPost, source_query
from devtools.http_standin import Request, Response, StandIn

_AFTER = re.compile(r"created_at_i>(\d+)")


class HackerNewsStandIn(StandIn):
    def __init__(self, corpus: Corpus) -> None:
        super().__init__()
        self.corpus = corpus

    def route(self, request: Request) -> Response:
        if request.path != "/api/v1/search_by_date":
            return Response(404, {"message": "Not Found", "status": 404})
        query = source_query(request.query.get("query", ""), "algolia")
        found = self.corpus.search(query) if query else []
        after = _AFTER.search(request.query.get("numericFilters", ""))
        if after:
            found = [p for p in found if int(p.created_at.timestamp()) > int(after.group(1))]
        per_page = min(int(request.query.get("hitsPerPage", 20)), 1000)
        page = int(request.query.get("page", 0))
        hits = found[page * per_page : (page + 1) * per_page]
        pages = (len(found) + per_page - 1) // per_page
        return Response(
            200,
            {
                "hits": [_hit(p) for p in hits],
                "nbHits": len(found),
                "page": page,
                "nbPages": pages,
                "hitsPerPage": per_page,
                "query": request.query.get("query", ""),
            },
        )


def _hit(p: CorpusPost) -> dict[str, object]:
    title, _, body = p.text.partition("\n")
    is_comment = p.id.startswith("c")
    hit: dict[str, object] = {
        "objectID": p.id,
        "author": p.author,
        "created_at": p.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "created_at_i": int(p.created_at.timestamp()),
        "points": None if is_comment else p.likes,
        "num_comments": None if is_comment else p.replies,
        "_tags": ["comment" if is_comment else "story", f"author_{p.author}"],
    }
    if is_comment:
        hit.update(comment_text=f"<p>{p.text}</p>", story_title="a story", story_id=1)
    else:
        hit.update(title=title, story_text=body or None, url=None)
    return hit
