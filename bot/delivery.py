"""The one way sentibot's messages reach Slack: reports, progress, notices, alerts, resolutions,
digests and charts.

Every new message is paced (one per channel per second, bot/pacing.py); a message that already
has a ts is edited, never posted again; a message posted with an idempotency key carries it in
its metadata, so a retry that does not know whether an earlier attempt reached Slack looks for
it before posting again; and one place, `undeliverable`, decides which Slack errors no retry can
fix. Callers store what comes back (a ts, a file id): nothing here touches the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from bot.views.alerts import render_alert, resolved_reply
from sentibot.monitoring.alert_checks import Outcome
from sentibot.monitoring.alert_rules import AlertAction

log = logging.getLogger(__name__)

RESPONSE_URL_TS = "response_url"
# The metadata event every keyed message carries: {"event_type": ..., "event_payload": {"key"}}.
METADATA_EVENT = "sentibot_message"
# How far back (before the earlier attempt began) a retry looks, and how many messages.
_LOOKBACK = timedelta(seconds=30)
_LOOKUP_LIMIT = 100
_NOT_A_MEMBER = {"not_in_channel", "channel_not_found", "is_archived"}
# Errors no retry can fix: the message is dropped (and logged) instead of retried forever.
_UNDELIVERABLE = _NOT_A_MEMBER | {"channel_is_archived", "invalid_auth", "account_inactive"}

Pace = Callable[[str], object]


class Undeliverable(Exception):
    """Slack will never take this message (the bot left the channel, the app was removed)."""

    def __init__(self, channel: str, error: str) -> None:
        self.channel = channel
        self.error = error
        super().__init__(f"{channel}: {error}")


class ResponseUrlFailed(RuntimeError):
    """Slack's response_url answered a server error: the message may go through later."""


def undeliverable(exc: SlackApiError) -> bool:
    return exc.response.get("error") in _UNDELIVERABLE


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


def _no_pace(_: str) -> None:
    return None


class Delivery:
    """Slack delivery for one workspace's client; `pace(channel)` runs before each new message."""

    def __init__(self, client: WebClient, pace: Pace | None = None) -> None:
        self.client = client
        self.pace = pace or _no_pace

    def _call(self, channel: str, call: Callable[[], SlackResponse]) -> SlackResponse:
        try:
            return call()
        except SlackApiError as exc:
            if undeliverable(exc):
                raise Undeliverable(channel, str(exc.response.get("error"))) from exc
            raise

    def publish(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict],
        existing: Posted | None = None,
        response_url: str | None = None,
        key: str | None = None,
        maybe_posted_since: datetime | None = None,
    ) -> Posted:
        """Post a new message, or edit `existing`; answer through `response_url` when the bot is
        not a member of the channel. With `maybe_posted_since`, an earlier attempt with the same
        `key` may have reached Slack: that message is found and edited instead of posting."""
        if existing is None and key and maybe_posted_since is not None:
            existing = self.find(channel, key, maybe_posted_since)
        if existing is not None and existing.ts != RESPONSE_URL_TS:
            self._call(
                existing.channel,
                lambda: self.client.chat_update(
                    channel=existing.channel, ts=existing.ts, text=text, blocks=blocks
                ),
            )
            return existing
        if existing is not None:
            return existing
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None
        self.pace(channel)
        try:
            resp = self._call(
                channel,
                lambda: self.client.chat_postMessage(
                    channel=channel,
                    text=text,
                    blocks=blocks,
                    unfurl_links=False,
                    metadata=metadata,
                ),
            )
        except Undeliverable as exc:
            if exc.error not in _NOT_A_MEMBER or not response_url:
                raise
            log.info("not a member of %s; answering through response_url", channel)
            answer = WebhookClient(response_url).send(
                response_type="in_channel", text=text, blocks=blocks
            )
            if answer.status_code == 200:
                return Posted(channel=channel, ts=RESPONSE_URL_TS)
            said = f"{exc.error}; response_url answered {answer.status_code} {answer.body[:80]}"
            if answer.status_code >= 500:
                raise ResponseUrlFailed(said) from exc  # worth another try later
            raise Undeliverable(channel, said) from exc
        return Posted(channel=resp["channel"], ts=resp["ts"])

    def find(self, channel: str, key: str, since: datetime) -> Posted | None:
        """The message posted with `key` since `since`, if Slack has it. A history Slack will
        not show (no history scope, not a member, rate limited) finds nothing: the caller then
        posts, so a message may repeat but is never lost."""
        oldest = f"{(since - _LOOKBACK).timestamp():.6f}"
        try:
            history = self.client.conversations_history(
                channel=channel, oldest=oldest, include_all_metadata=True, limit=_LOOKUP_LIMIT
            )
        except (SlackClientError, OSError) as exc:
            log.warning("cannot look for message %s in %s (%s); posting it", key, channel, exc)
            return None
        for message in history.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                log.info("message %s was already posted to %s: editing it", key, channel)
                return Posted(channel, message["ts"])
        return None

    def reply(self, channel: str, thread_ts: str | None, text: str) -> None:
        self.pace(channel)
        self._call(
            channel,
            lambda: self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text),
        )

    def upload(
        self,
        channel: str,
        thread_ts: str,
        png: bytes,
        title: str,
        filename: str = "sentiment.png",
    ) -> str | None:
        """A file (a chart, an export) in a message's thread (files upload v2); best effort:
        None if it failed."""
        if thread_ts == RESPONSE_URL_TS:
            return None  # answered through response_url: there is no message to thread under
        try:
            self.pace(channel)
            response = self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                file=png,
                filename=filename,
                title=title,
            )
        except (SlackClientError, OSError) as exc:
            log.warning("chart not uploaded to %s (%s)", channel, exc)
            return None
        files = response.get("files") or [response.get("file") or {}]
        return files[0].get("id")

    def alert(
        self,
        outcome: Outcome,
        by: str | None = None,
        recorded: Posted | None = None,
        maybe_posted_since: datetime | None = None,
    ) -> str | None:
        """Carry an alert decision to its channel: one message per firing, edited as the value
        moves, the resolution edited in and replied in its thread. Returns the ts of a newly
        posted alert message (for the caller to store), else None. `recorded` and
        `maybe_posted_since` are what the caller's ledger knows of the firing's message."""
        channel = outcome.channel_id
        text, blocks = render_alert(outcome.report)
        if outcome.action in (AlertAction.FIRE, AlertAction.REPOST):
            return self.publish(
                channel=channel,
                text=text,
                blocks=blocks,
                existing=recorded,
                key=outcome.message_key,
                maybe_posted_since=maybe_posted_since,
            ).ts
        if outcome.message_ts:
            self.publish(
                channel=channel,
                text=text,
                blocks=blocks,
                existing=Posted(channel, outcome.message_ts),
            )
        if outcome.action == AlertAction.RESOLVE:
            reply = (
                resolved_reply(outcome.metric, outcome.value, by) if outcome.message_ts else text
            )
            self.reply(channel, outcome.message_ts, reply)
        return None
