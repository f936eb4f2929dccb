"""Webhook signing, the outbox of deliveries, and the retry schedule."""

from __future__ import annotations

import json
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
    assert headers["X-Sentibot-Signature"].startswith("v2=")
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
        # A captured request replayed with another id (a receiver dedupes on the id): the id
        # is signed, so it no longer verifies.
        headers["X-Sentibot-Event-Id"] = "x"
    with pytest.raises(BadSignature):
        verify(key, headers, body, at)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.example.com/sentibot", True),
        ("https://hooks.example.com:8443/x?y=1", True),
        ("http://hooks.example.com/sentibot", False),
        ("https://user:pw@hooks.example.com/", False),
        ("https://hooks.example.com:notaport/", False),
        ("ftp://hooks.example.com/", False),
        # Internal services, however the address is written.
        ("http://127.0.0.1:8080/hook", False),
        ("https://127.0.0.1:8443/", False),
        ("https://127.1/", False),
        ("https://2130706433/", False),
        ("https://0x7f.0.0.1/", False),
        ("https://[::1]/", False),
        ("https://[::ffff:127.0.0.1]/", False),
        ("https://0.0.0.0/", False),
        ("https://10.0.0.8/", False),
        ("https://172.16.3.4/", False),
        ("https://192.168.1.1/", False),
        ("https://169.254.169.254/latest/meta-data/", False),
        ("https://[fe80::1]/", False),
        ("https://[fd00::1]/", False),
        ("https://100.64.0.1/", False),
        ("https://224.0.0.1/", False),
        ("https://8.8.8.8/hook", True),
    ],
)
def test_webhook_urls_are_https_to_public_addresses(url: str, ok: bool) -> None:
    assert (url_problem(url) is None) is ok


def test_an_operator_may_name_a_private_receiver() -> None:
    assert url_problem("http://127.0.0.1:8080/hook", frozenset({"127.0.0.1"})) is None
    assert url_problem("http://127.0.0.2:8080/hook", frozenset({"127.0.0.1"})) is not None


def test_a_name_that_resolves_to_an_internal_address_is_refused_when_sent() -> None:
    from sentibot import webhook_target

    with pytest.raises(webhook_target.Refused, match="loopback"):
        webhook_target.post("https://localhost:9/hook", BODY, {})


def test_a_standard_webhooks_library_verifies_the_request() -> None:
    """The `standardwebhooks` package (the scheme's reference library) verifies a request as
    sentibot signs it, and refuses it once the event id is changed (a replay under a new id)."""
    from standardwebhooks import Webhook, WebhookVerificationError

    secret, now = new_secret(), time.time()
    headers = signed_headers(secret, "digest:9", BODY, now)
    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY, {**headers, "webhook-id": "digest:10"})


def test_urls_are_shown_without_their_secrets() -> None:
    from sentibot.webhook_target import shown

    assert shown("https://hooks.slack.com/services/T0/B0/XyZsecret") == "https://hooks.slack.com/…"
    assert shown("https://example.com:8443/h?token=abc") == "https://example.com:8443/…"
    assert shown("https://example.com/") == "https://example.com/"


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


def test_a_key_rotation_moves_webhook_secrets_too(sessions: sessionmaker[Session]) -> None:
    """`sentibot reencrypt` rewrites every encrypted column: after the old key is dropped a
    webhook's secret still decrypts (it was left under the old key, and every delivery failed)."""
    from cryptography.fernet import Fernet

    from sentibot.secrets import Cipher, SecretKeyError
    from sentibot.storage.models import Webhook
    from sentibot.storage.slack_tokens import ENCRYPTED_COLUMNS, rewrite_tokens

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    secret = new_secret()
    with sessions.begin() as s:
        ensure_workspace(s, "TROT")
        hook = webhook_store.add_webhook(
            s, "TROT", "https://hooks.example.com/x", Cipher(old).encrypt(secret), "U1", utcnow()
        )
        hook_id = hook.id
    with sessions.begin() as s:
        rewrite_tokens(s.connection(), Cipher(f"{new},{old}").rotate, ENCRYPTED_COLUMNS)
    with sessions() as s:
        stored = s.get(Webhook, hook_id).secret
    assert Cipher(new).decrypt(stored) == secret
    with pytest.raises(SecretKeyError):
        Cipher(old).decrypt(stored)
