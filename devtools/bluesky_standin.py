"""A local Bluesky PDS for `app.bsky.feed.searchPosts`, with app-password sessions
(createSession / refreshSession, JWT-shaped tokens with `exp`) and rate-limit headers, in the
shapes of the app.bsky / com.atproto lexicons."""

from __future__ import annotations

import base64
import itertools
import json
import time
from datetime import UTC, datetime

from devtools.corpus import Corpus, CorpusPost, source_query
from devtools.http_standin import Request, Response, StandIn


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c3RhbmRpbg"


def _link_facets(p: CorpusPost) -> list[dict[str, object]]:
    """Link facets as the app writes them: UTF-8 byte offsets of the shortened text."""
    raw = p.text.encode("utf-8")
    out: list[dict[str, object]] = []
    for shown, uri in p.links:
        start = raw.find(shown.encode("utf-8"))
        if start >= 0:
            end = start + len(shown.encode("utf-8"))
            out.append(
                {
                    "index": {"byteStart": start, "byteEnd": end},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
                }
            )
    return out


def _sort_at(p: CorpusPost) -> datetime:
    """The appview's sort time: a client's `createdAt`, but never after `indexedAt`."""
    return min(p.created_at, p.indexed_at or p.created_at)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class BlueskyStandIn(StandIn):
    handle = "sentibot.bsky.social"
    app_password = "abcd-efgh-ijkl-mnop"
    did = "did:plc:standin0sentibot"

    def __init__(self, corpus: Corpus, access_ttl_s: int = 7200) -> None:
        super().__init__()
        self.corpus = corpus
        self.access_ttl_s = access_ttl_s
        self.sessions_created = 0
        self.refreshed = 0
        self._tokens = itertools.count(1)
        self._access: dict[str, float] = {}  # token -> expiry
        self._refresh: set[str] = set()
        self.limit = 3000

    def route(self, request: Request) -> Response:
        if request.path == "/xrpc/com.atproto.server.createSession" and request.method == "POST":
            body = json.loads(request.body or b"{}")
            if (body.get("identifier"), body.get("password")) != (self.handle, self.app_password):
                return self._error(401, "AuthenticationRequired", "Invalid identifier or password")
            self.sessions_created += 1
            return self._session()
        if request.path == "/xrpc/com.atproto.server.refreshSession" and request.method == "POST":
            token = self._bearer(request)
            if token not in self._refresh:
                return self._error(400, "ExpiredToken", "Token has been revoked")
            self._refresh.discard(token)
            self.refreshed += 1
            return self._session()
        if request.path == "/xrpc/app.bsky.feed.searchPosts":
            expiry = self._access.get(self._bearer(request))
            if expiry is None:
                return self._error(401, "AuthMissing", "Authentication Required")
            if expiry < time.time():
                return self._error(400, "ExpiredToken", "Token has expired")
            return self._search(request)
        return self._error(404, "MethodNotImplemented", "Method Not Implemented")

    def _session(self) -> Response:
        n = next(self._tokens)
        now = int(time.time())
        access = _jwt(
            {
                "scope": "com.atproto.appPass",
                "sub": self.did,
                "iat": now,
                "exp": now + self.access_ttl_s,
                "n": n,
            }
        )
        refresh = _jwt(
            {
                "scope": "com.atproto.refresh",
                "sub": self.did,
                "iat": now,
                "exp": now + 90 * 86400,
                "n": n,
            }
        )
        self._access[access] = now + self.access_ttl_s
        self._refresh.add(refresh)
        return Response(
            200,
            {
                "accessJwt": access,
                "refreshJwt": refresh,
                "handle": self.handle,
                "did": self.did,
                "active": True,
            },
        )

    def _search(self, request: Request) -> Response:
        query = source_query(request.query.get("q", ""), "algolia")
        found = self.corpus.search(query) if query else []
        if "since" in request.query:
            since = datetime.fromisoformat(request.query["since"].replace("Z", "+00:00"))
            found = [p for p in found if _sort_at(p) >= since]
        if "lang" in request.query:
            found = [p for p in found if p.lang == request.query["lang"]]
        offset = int(request.query.get("cursor", 0) or 0)
        size = min(int(request.query.get("limit", 25)), 100)
        page = found[offset : offset + size]
        body: dict[str, object] = {"posts": [self._view(p) for p in page], "hitsTotal": len(found)}
        if offset + size < len(found):
            body["cursor"] = str(offset + size)
        return Response(200, body, self._rate_headers())

    def _view(self, p: CorpusPost) -> dict[str, object]:
        rkey = f"3k{int(p.created_at.timestamp()):x}{abs(hash(p.id)) % 10**6:06d}"
        author_did = f"did:plc:{p.author.lower()[:24] or 'anon'}"
        return {
            "uri": f"at://{author_did}/app.bsky.feed.post/{rkey}",
            "cid": "bafyreib2rxk3rh6kzwq" + rkey,
            "author": {
                "did": author_did,
                "handle": f"{p.author}.bsky.social",
                "displayName": p.author,
                "labels": [],
            },
            "record": {
                "$type": "app.bsky.feed.post",
                "text": p.text,
                "createdAt": _iso(p.created_at),
                "langs": [p.lang],
                **({"facets": _link_facets(p)} if p.links else {}),
            },
            "replyCount": p.replies,
            "repostCount": 0,
            "likeCount": p.likes,
            "quoteCount": 0,
            "indexedAt": _iso(p.indexed_at or p.created_at),
            "labels": [],
        }

    def _rate_headers(self) -> dict[str, str]:
        return {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(self.limit - 1),
            "ratelimit-reset": str(int(time.time()) + 300),
            "ratelimit-policy": f"{self.limit};w=300",
        }

    @staticmethod
    def _bearer(request: Request) -> str:
        return request.headers.get("authorization", "").removeprefix("Bearer ").strip()

    def _error(self, status: int, error: str, message: str) -> Response:
        return Response(status, {"error": error, "message": message}, self._rate_headers())
