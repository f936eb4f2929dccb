"""A local Stack Exchange API 2.3 `/search/excerpts` and `/sites`: a daily quota per IP (300
keyless, 10,000 with a key) reported in `quota_remaining`, an optional `backoff`, and the documented
error wrapper (`error_id`, `error_name`, `error_message`) for bad sites, keys and throttling."""

from __future__ import annotations

from datetime import UTC

from devtools.corpus import Corpus, CorpusPost, source_query
from devtools.http_standin import Request, Response, StandIn

# What `/2.3/sites` says of each site it serves (`api_site_parameter` -> `site_url`), as the
# real API does: the big sites on their own domains, the rest under stackexchange.com.
SITE_URLS = {
    "stackoverflow": "https://stackoverflow.com",
    "superuser": "https://superuser.com",
    "serverfault": "https://serverfault.com",
    "webapps": "https://webapps.stackexchange.com",
    "meta": "https://meta.stackexchange.com",
    "meta.stackoverflow": "https://meta.stackoverflow.com",
    "mathoverflow.net": "https://mathoverflow.net",
}


class StackExchangeStandIn(StandIn):
    key = "standin-key((("
    sites = tuple(SITE_URLS)

    def __init__(self, corpus: Corpus) -> None:
        super().__init__()
        self.corpus = corpus
        self.quota_left = {False: 300, True: 10_000}
        self.backoff: int | None = None  # sent with the next answers while set

    def route(self, request: Request) -> Response:
        if request.path == "/2.3/sites":
            return self._sites(request)
        if request.path != "/2.3/search/excerpts":
            return self._error(404, "no_method", "no method found with this name")
        keyed = "key" in request.query
        if keyed and request.query["key"] != self.key:
            return self._error(400, "bad_parameter", "key")
        if request.query.get("site") not in self.sites:
            return self._error(400, "bad_parameter", "site")
        if self.quota_left[keyed] <= 0:
            return self._error(
                400,
                "throttle_violation",
                "too many requests from this IP, more requests available in 82800 seconds",
            )
        with self._lock:
            self.quota_left[keyed] -= 1
            left = self.quota_left[keyed]
        query = source_query(request.query.get("q", ""), "algolia")
        found = self.corpus.search(query) if query else []
        if "fromdate" in request.query:
            since = int(request.query["fromdate"])
            found = [p for p in found if int(p.created_at.timestamp()) >= since]
        size = min(int(request.query.get("pagesize", 30)), 100)
        page = int(request.query.get("page", 1))
        items = found[(page - 1) * size : page * size]
        body: dict[str, object] = {
            "items": [self._item(p) for p in items],
            "has_more": page * size < len(found),
            "quota_max": 10_000 if keyed else 300,
            "quota_remaining": left,
        }
        if self.backoff is not None:
            body["backoff"] = self.backoff
        return Response(200, body)

    def _sites(self, request: Request) -> Response:
        size = min(int(request.query.get("pagesize", 30)), 100)
        page = int(request.query.get("page", 1))
        rows = list(SITE_URLS.items())[(page - 1) * size : page * size]
        items = [
            {
                "api_site_parameter": site,
                "site_url": url,
                "name": site.title(),
                "site_type": "meta_site" if "meta" in site else "main_site",
                "site_state": "normal",
            }
            for site, url in rows
        ]
        body = {"items": items, "has_more": page * size < len(SITE_URLS)}
        return Response(200, {**body, "quota_max": 300, "quota_remaining": 299})

    @staticmethod
    def _item(p: CorpusPost) -> dict[str, object]:
        number = int(p.id[-7:]) if p.id[-7:].isdigit() else abs(hash(p.id)) % 10**7
        title, _, body = p.text.partition("\n")
        is_answer = p.id.startswith("a")
        item: dict[str, object] = {
            "tags": ["acme"],
            "question_score": p.likes,
            "is_accepted": False,
            "has_accepted_answer": False,
            "answer_count": p.replies,
            "is_answered": bool(p.replies),
            "question_id": number,
            "item_type": "answer" if is_answer else "question",
            "score": p.likes,
            "last_activity_date": int(p.created_at.timestamp()),
            "creation_date": int(p.created_at.astimezone(UTC).timestamp()),
            "body": (body or title) if is_answer else body,
            "excerpt": (body or title)[:200] if is_answer else body[:200],
            "title": title,
        }
        if is_answer:
            item["answer_id"] = number + 1
        return item

    @staticmethod
    def _error(status: int, name: str, message: str) -> Response:
        ids = {"bad_parameter": 400, "no_method": 404, "throttle_violation": 502}
        return Response(
            status, {"error_id": ids.get(name, 500), "error_message": message, "error_name": name}
        )
