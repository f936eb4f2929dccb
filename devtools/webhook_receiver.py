"""A webhook receiver as a customer would write one: it checks sentibot's signature, refuses
stale timestamps, and acts once per event id (a retry is acknowledged, not acted on again).

`secret` is the signing secret `/sentiment webhook add` printed. `lose_answers(n)` makes the
next n requests be handled and then answered 503, as when a receiver's reply is lost: sentibot
retries, and the receiver must not act twice.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from devtools.http_standin import Request, Response, StandIn
from sentibot.webhook_signing import BadSignature, verify


@dataclass(frozen=True)
class Received:
    event_id: str
    body: dict
    headers: dict[str, str]
    raw: bytes


class WebhookReceiver(StandIn):
    def __init__(self, secret: str = "") -> None:
        super().__init__()
        self.secret = secret
        self.events: list[Received] = []  # acted on, once each
        self.duplicates: list[str] = []  # event ids seen again (retries, replays)
        self.rejected: list[str] = []  # why each refused request was refused
        self._lose = 0
        self._seen: set[str] = set()
        self._guard = threading.Lock()

    @property
    def hook_url(self) -> str:
        return self.url + "/hooks/sentibot"

    def lose_answers(self, n: int = 1) -> None:
        with self._guard:
            self._lose += n

    def events_for(self, channel: str) -> list[Received]:
        with self._guard:
            return [e for e in self.events if e.body.get("channel_id") == channel]

    def route(self, request: Request) -> Response:
        try:
            event_id = verify(self.secret, request.headers, request.body, time.time())
        except BadSignature as exc:
            with self._guard:
                self.rejected.append(str(exc))
            return Response(401, {"error": str(exc)})
        with self._guard:
            if event_id in self._seen:
                self.duplicates.append(event_id)
                return Response(200, {"ok": True, "duplicate": True})
            self._seen.add(event_id)
            self.events.append(
                Received(event_id, json.loads(request.body), dict(request.headers), request.body)
            )
            if self._lose > 0:
                self._lose -= 1
                return Response(503, {"error": "answer lost"})
        return Response(200, {"ok": True})
