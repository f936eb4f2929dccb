"""How a webhook request is signed, and how a receiver checks it.

A request carries, under sentibot's names:
- `X-Sentibot-Request-Timestamp`: Unix seconds when this attempt was sent;
- `X-Sentibot-Event-Id`: the event's id, the same on every retry of that event;
- `X-Sentibot-Signature`: `v2=` and the hex HMAC-SHA256, keyed with the webhook's secret, of
  `v2:{timestamp}:{event id}:{body}` (the body exactly as sent, bytes). The event id is signed:
  a captured request replayed with another id no longer verifies (v1 signed only the timestamp
  and body, and a receiver that dedupes on the id acted twice).

and the same under the Standard Webhooks names (`webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256 of {id}.{timestamp}.{body}>`, keyed with the bytes
the `whsec_` secret encodes), so a receiver may use a Standard Webhooks library instead.

A receiver recomputes the signature and compares it in constant time, refuses a timestamp more
than five minutes from its own clock (a replayed request), and keeps the event ids it has handled
so that a retry of an event it already acted on is acknowledged and not acted on twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

VERSION = "v2"
TIMESTAMP_HEADER = "X-Sentibot-Request-Timestamp"
SIGNATURE_HEADER = "X-Sentibot-Signature"
EVENT_HEADER = "X-Sentibot-Event-Id"
TOLERANCE_S = 300


def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64, as Standard Webhooks secrets are written."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, timestamp: int, event_id: str, body: bytes) -> str:
    base = f"{VERSION}:{timestamp}:{event_id}:".encode() + body
    return f"{VERSION}=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def standard_key(secret: str) -> bytes:
    """The key a Standard Webhooks library derives from a `whsec_` secret (older sentibot
    secrets that are not base64 sign with their own bytes)."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        return secret.encode()


def standard_signature(secret: str, timestamp: int, event_id: str, body: bytes) -> str:
    base = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), base, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, event_id: str, body: bytes, now: float) -> dict[str, str]:
    timestamp = int(now)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, event_id, body),
        EVENT_HEADER: event_id,
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(secret, timestamp, event_id, body),
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
    if not hmac.compare_digest(given, signature(secret, timestamp, event_id, body)):
        raise BadSignature("signature does not match")
    return event_id
