"""Webhook delivery: each pending row is POSTed, signed, until the receiver answers 2xx.

A failed attempt (an error status, a timeout, a refused connection) waits
WEBHOOK_RETRY_BASE_S × 2^(attempts − 1), at most an hour, and is given up after
WEBHOOK_MAX_ATTEMPTS; every attempt counts from the moment it is claimed, so one that dies
inside the request counts too. Each attempt is signed afresh over its own timestamp; the body
and the event id never change, so a receiver acts once per event id. An attempt has one
deadline and reads a capped answer whose body nobody sees (sentibot/webhook_target.py), runs
on the `webhooks` queue (a slow receiver holds no worker that answers people), and stops for
good when the workspace is uninstalled or the secret cannot be decrypted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import timedelta

from sentibot import webhook_target
from sentibot.config.settings import get_settings
from sentibot.secrets import SecretKeyError, optional_cipher
from sentibot.storage import webhooks as webhook_store
from sentibot.storage.models import WebhookDelivery, utcnow
from sentibot.storage.statements import row as stored_row
from sentibot.webhook_signing import signed_headers
from tasks.celery_app import app
from tasks.runtime import RETRY_DB, sessions

log = logging.getLogger(__name__)

# An attempt claimed this long ago and still open lost its worker: it may be sent again.
CLAIM_STALE = timedelta(seconds=60)
MAX_BACKOFF_S = 3600


def backoff_s(attempts: int, base_s: float) -> float:
    return min(MAX_BACKOFF_S, base_s * 2 ** max(0, attempts - 1))


def send_deliveries(ids: Iterable[int]) -> None:
    """Hand freshly recorded deliveries to a worker now (the dispatcher would within a tick)."""
    for delivery_id in ids:
        try:
            app.send_task("sentibot.deliver_webhook", args=[delivery_id], retry=False)
        except Exception:  # the broker is down: the dispatcher finds the row later
            log.warning("webhook delivery %s waits for the dispatcher", delivery_id)


def _secret(stored: str) -> str:
    cipher = optional_cipher(get_settings())
    return cipher.decrypt(stored) or "" if cipher else stored


def _give_up(delivery_id: int, reason: str) -> None:
    with sessions().begin() as session:
        row = stored_row(session, WebhookDelivery, delivery_id)
        row.claimed_at, row.state, row.last_error = None, webhook_store.FAILED, reason
    log.warning("webhook delivery %s given up: %s", delivery_id, reason)


@app.task(name="sentibot.deliver_webhook", **RETRY_DB)
def deliver_webhook(delivery_id: int) -> None:
    settings = get_settings()
    with sessions().begin() as session:
        claimed = webhook_store.claim(session, delivery_id, utcnow(), CLAIM_STALE)
        if claimed is None:
            return  # delivered, given up, not yet due, or another worker is on it
        delivery, hook = claimed
        url, stored, body = hook.url, hook.secret, delivery.body.encode()
        event_id, attempts = delivery.event_id, delivery.attempts
        paused = webhook_store.workspace_paused(session, hook.team_id)
    if paused:
        return _give_up(delivery_id, "the workspace uninstalled sentibot")
    if attempts > settings.webhook_max_attempts:  # earlier attempts died inside the request
        return _give_up(delivery_id, f"no answer after {attempts - 1} attempts")
    try:
        secret = _secret(stored)
    except SecretKeyError:
        return _give_up(
            delivery_id,
            "its signing secret is encrypted with a key SENTIBOT_SECRET_KEYS no longer holds "
            "(run `sentibot reencrypt` before dropping a key; add the webhook again)",
        )
    status, error = None, None
    try:
        headers = signed_headers(secret, event_id, body, time.time())
        headers["X-Sentibot-Delivery-Attempt"] = str(attempts)
        status = webhook_target.post(url, body, headers, settings.webhook_private)
        if not 200 <= status < 300:
            error = f"HTTP {status}"  # the receiver's body is never kept or shown
    except webhook_target.Refused as exc:
        error = f"refused: {exc}"
    except webhook_target.NoAnswer as exc:
        error = str(exc)[:200]
    now = utcnow()
    with sessions().begin() as session:
        row = stored_row(session, WebhookDelivery, delivery_id)
        row.claimed_at, row.last_status, row.last_error = None, status, error
        if error is None:
            row.state, row.delivered_at = webhook_store.DELIVERED, now
        elif attempts >= settings.webhook_max_attempts:
            row.state = webhook_store.FAILED
        else:
            wait = backoff_s(attempts, settings.webhook_retry_base_s)
            row.next_attempt_at = now + timedelta(seconds=wait)
    where = webhook_target.shown(url)  # never the path or query: receivers keep secrets there
    if error is None:
        log.info("webhook event %s delivered to %s (attempt %s)", event_id, where, attempts)
    else:
        log.warning(
            "webhook event %s to %s attempt %s failed: %s", event_id, where, attempts, error
        )
    return None
