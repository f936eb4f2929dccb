"""How a webhook request is signed, and how a receiver checks it (the scheme Slack signs its
own requests with, under sentibot's names).

A request carries:
- `X-Sentibot-Request-Timestamp`: Unix seconds when this attempt was sent;
- `X-Sentibot-Signature`: `v1=` and the hex HMAC-SHA256, keyed with the webhook's secret, of
  `v1:{timestamp}:{body}` (the body exactly as sent, bytes);
- `X-Sentibot-Event-Id`: the event's id, the same on every retry of that event.

A receiver recomputes the signature and compares it in constant time, refuses a timestamp more
than five minutes from its own clock (a replayed request), and keeps the event ids it has handled
so that a retry of an event it already acted on is acknowledged and not acted on twice.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

VERSION = "v1"
TIMESTAMP_HEADER = "X-Sentibot-Request-Timestamp"
SIGNATURE_HEADER = "X-Sentibot-Signature"
EVENT_HEADER = "X-Sentibot-Event-Id"
TOLERANCE_S = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    base = f"{VERSION}:{timestamp}:".encode() + body
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(secret: str, event_id: str, body: bytes, now: float) -> dict[str, str]:
    timestamp = int(now)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        EVENT_HEADER: event_id,
    }


class BadSignature(ValueError):
    pass


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: float) -> str:
    """The event id of a genuine, fresh request; BadSignature otherwise. `headers` is looked
    up case-insensitively."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lower[TIMESTAMP_HEADER.lower()])
        given = lower[SIGNATURE_HEADER.lower()]
        event_id = lower[EVENT_HEADER.lower()]
    except (KeyError, ValueError) as exc:
        raise BadSignature("missing or malformed signature headers") from exc
    if abs(now - timestamp) > TOLERANCE_S:
        raise BadSignature("timestamp too far from now: a replay, or a skewed clock")
    if not hmac.compare_digest(given, signature(secret, timestamp, body)):
        raise BadSignature("signature does not match")
    return event_id
