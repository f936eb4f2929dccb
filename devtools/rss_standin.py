"""Local RSS 2.0 and Atom feeds: `/rss/<name>` and `/atom/<name>` serve a corpus's posts."""

from __future__ import annotations

from email.utils import format_datetime
from xml.sax.saxutils import escape

from devtools.corpus import CorpusPost
from devtools.http_standin import Request, Response, StandIn


class FeedStandIn(StandIn):
    def __init__(self, feeds: dict[str, list[CorpusPost]], language: str = "en") -> None:
        super().__init__()
        self.feeds = feeds
        self.language = language

    def feed_url(self, kind: str, name: str) -> str:
        return f"{self.url}/{kind}/{name}"

    def route(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) != 2 or parts[1] not in self.feeds:
            return Response(404, "not found", {"content-type": "text/plain"})
        posts = sorted(self.feeds[parts[1]], key=lambda p: p.created_at, reverse=True)
        if parts[0] == "rss":
            return Response(
                200, self._rss(parts[1], posts), {"content-type": "application/rss+xml"}
            )
        if parts[0] == "atom":
            return Response(
                200, self._atom(parts[1], posts), {"content-type": "application/atom+xml"}
            )
        return Response(404, "not found", {"content-type": "text/plain"})

    def _rss(self, name: str, posts: list[CorpusPost]) -> str:
        items = "".join(
            f"<item><title>{escape(p.text.partition(chr(10))[0])}</title>"
            f"<description>{escape(p.text.partition(chr(10))[2])}</description>"
            f"<link>{self.url}/posts/{p.id}</link><guid>{self.url}/posts/{p.id}</guid>"
            f"<author>{escape(p.author)}</author>"
            f"<pubDate>{format_datetime(p.created_at)}</pubDate></item>"
            for p in posts
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{escape(name)}</title><link>{self.url}</link>"
            f"<description>stand-in feed</description><language>{self.language}</language>"
            f"{items}</channel></rss>"
        )

    def _atom(self, name: str, posts: list[CorpusPost]) -> str:
        entries = "".join(
            f"<entry><title>{escape(p.text.partition(chr(10))[0])}</title>"
            f"<summary>{escape(p.text.partition(chr(10))[2])}</summary>"
            f'<link href="{self.url}/posts/{p.id}"/><id>urn:standin:{p.id}</id>'
            f"<author><name>{escape(p.author)}</name></author>"
            f"<updated>{p.created_at.strftime('%Y-%m-%dT%H:%M:%SZ')}</updated></entry>"
            for p in posts
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{escape(name)}</title><id>urn:standin:{escape(name)}</id>"
            f"<updated>2026-11-01T00:00:00Z</updated>{entries}</feed>"
        )
