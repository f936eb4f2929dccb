"""Posting a job's message to Slack idempotently: a redelivered task edits, it does not repost."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

log = logging.getLogger(__name__)

RESPONSE_URL_TS = "response_url"
_NOT_A_MEMBER = {"not_in_channel", "channel_not_found", "is_archived"}
# Errors no retry can fix: the message is dropped (and logged) instead of retried forever.
UNDELIVERABLE = _NOT_A_MEMBER | {"channel_is_archived", "invalid_auth", "account_inactive"}


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


def publish(
    client: WebClient,
    *,
    channel: str,
    text: str,
    blocks: list[dict],
    existing: Posted | None,
    response_url: str | None = None,
    pace: Callable[[str], object] | None = None,
) -> Posted:
    """Post a new message, or update `existing`; fall back to `response_url` if not a member.
    `pace(channel)` is called before a new message (see bot/pacing.py)."""
    if existing is not None and existing.ts != RESPONSE_URL_TS:
        client.chat_update(channel=existing.channel, ts=existing.ts, text=text, blocks=blocks)
        return existing
    if existing is not None:
        return existing
    if pace is not None:
        pace(channel)
    try:
        resp = client.chat_postMessage(
            channel=channel, text=text, blocks=blocks, unfurl_links=False
        )
        return Posted(channel=resp["channel"], ts=resp["ts"])
    except SlackApiError as exc:
        if exc.response.get("error") not in _NOT_A_MEMBER or not response_url:
            raise
        log.info("not a member of %s; answering through response_url", channel)
        WebhookClient(response_url).send(response_type="in_channel", text=text, blocks=blocks)
        return Posted(channel=channel, ts=RESPONSE_URL_TS)
