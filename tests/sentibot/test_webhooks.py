"""Webhook signing, the outbox of deliveries, and the retry schedule."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.listeners.webhooks import url_problem
from sentibot.storage import webhooks as webhook_store
from sentibot.storage.models import utcnow
from sentibot.storage.workspaces import ensure_workspace
from sentibot.webhook_signing import BadSignature, new_secret, signed_headers, verify
from tasks.webhooks import backoff_s

BODY = b'{"id": "alert.fired:1:1700000000", "type": "alert.fired"}'


def test_a_fresh_signed_request_verifies_and_names_its_event() -> None:
    secret, now = new_secret(), time.time()
    headers = signed_headers(secret, "alert.fired:1:1700000000", BODY, now)
    assert headers["X-Sentibot-Signature"].startswith("v1=")
    lowered = {k.lower(): v for k, v in headers.items()}  # receivers see any case
    assert verify(secret, lowered, BODY, now + 5) == "alert.fired:1:1700000000"


@pytest.mark.parametrize(
    "tamper",
    ["body", "secret", "stale", "future", "no-signature", "event-id"],
)
def test_a_tampered_stale_or_unsigned_request_is_refused(tamper: str) -> None:
    secret, now = new_secret(), time.time()
    headers = signed_headers(secret, "digest:7", BODY, now)
    body, key, at = BODY, secret, now
    if tamper == "body":
        body = BODY.replace(b"fired", b"resolved")
    elif tamper == "secret":
        key = new_secret()
    elif tamper == "stale":
        at = now + 301  # a captured request replayed five minutes later
    elif tamper == "future":
        at = now - 301
    elif tamper == "no-signature":
        del headers["X-Sentibot-Signature"]
    else:
        headers["X-Sentibot-Event-Id"] = "x"  # unsigned header: the receiver dedupes on it
        assert verify(key, headers, body, at) == "x"
        return
    with pytest.raises(BadSignature):
        verify(key, headers, body, at)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.example.com/sentibot", True),
        ("https://hooks.example.com:8443/x?y=1", True),
        ("http://127.0.0.1:8080/hook", True),
        ("http://hooks.example.com/sentibot", False),
        ("https://user:pw@hooks.example.com/", False),
        ("https://hooks.example.com:notaport/", False),
        ("ftp://hooks.example.com/", False),
    ],
)
def test_webhook_urls_are_https_except_to_local_receivers(url: str, ok: bool) -> None:
    assert (url_problem(url, "127.0.0.1,localhost") is None) is ok


def test_failed_deliveries_back_off_doubling_to_an_hour() -> None:
    assert [backoff_s(n, 30) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_s(12, 30) == 3600


def test_an_event_is_one_delivery_per_webhook_however_often_recorded(
    sessions: sessionmaker[Session],
) -> None:
    now = utcnow()
    with sessions.begin() as s:
        ensure_workspace(s, "T1")
        ensure_workspace(s, "T2")
        a = webhook_store.add_webhook(s, "T1", "https://a.example/h", "k1", "U1", now).id
        b = webhook_store.add_webhook(s, "T1", "https://b.example/h", "k2", "U1", now).id
        webhook_store.add_webhook(s, "T2", "https://c.example/h", "k3", "U2", now)
    with sessions.begin() as s:
        first = webhook_store.record_event(s, "T1", "digest:1", "digest", "{}", now)
    with sessions.begin() as s:  # the task ran again (a retry): nothing more
        again = webhook_store.record_event(s, "T1", "digest:1", "digest", "{}", now)
    assert len(first) == 2
    assert again == []
    with sessions.begin() as s:
        due = webhook_store.due(s, now, timedelta(seconds=60))
        assert sorted(due) == sorted(first)
        claimed = webhook_store.claim(s, first[0], now, timedelta(seconds=60))
        assert claimed is not None
        assert claimed[1].id in (a, b)
        # Claimed: neither due again nor claimable by a second worker until it is stale.
        assert webhook_store.claim(s, first[0], now, timedelta(seconds=60)) is None
        assert first[0] not in webhook_store.due(s, now, timedelta(seconds=60))
        later = now + timedelta(seconds=61)
        assert first[0] in webhook_store.due(s, later, timedelta(seconds=60))
