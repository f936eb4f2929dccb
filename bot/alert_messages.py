"""Carrying an alert decision to Slack: one message per firing, edited as the value moves,
with the resolution edited in and replied in its thread."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from sentibot.monitoring.alert_checks import Outcome
from bot.views.alerts import resolved_reply
from sentibot.storage.models import AlertRule

log = logging.getLogger(__name__)


def deliver(
    client: WebClient,
    outcome: Outcome,
    sessions: sessionmaker[Session],
    pace: Callable[[str], object] | None = None,
    by: str | None = None,
) -> None:
    channel = outcome.channel_id
    if outcome.action in ("fire", "repost"):
        if pace:
            pace(channel)
        resp = client.chat_postMessage(
            channel=channel, text=outcome.text, blocks=outcome.blocks, unfurl_links=False
        )
        with sessions.begin() as session:
            rule = session.get(AlertRule, outcome.rule_id)
            if rule is not None:
                rule.message_ts = resp["ts"]
        return
    if outcome.message_ts:
        client.chat_update(
            channel=channel, ts=outcome.message_ts, text=outcome.text, blocks=outcome.blocks
        )
    if outcome.action == "resolve":
        if pace:
            pace(channel)
        client.chat_postMessage(
            channel=channel,
            thread_ts=outcome.message_ts,
            text=resolved_reply(outcome.metric, outcome.value, by)
            if outcome.message_ts
            else outcome.text,
        )
