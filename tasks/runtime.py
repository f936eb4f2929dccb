"""What every task shares: database sessions, each workspace's Slack delivery, channel pacing,
the idempotency ledger around each post, and the retry policy for database hiccups. Built
lazily, once per worker process."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache

import redis
from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery import Delivery, Posted, Undeliverable
from bot.install import bot_token
from bot.pacing import ChannelPacer
from bot.slack_client import make_web_client
from sentibot.config.settings import get_settings
from sentibot.embedded import redis_client_url
from sentibot.storage import deliveries
from sentibot.storage.models import utcnow
from sentibot.storage.session import sessionmaker_for

log = logging.getLogger(__name__)

# Database hiccups are worth a retry, with backoff, a few times.
RETRY_DB = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}
# A notice or digest claimed this many times without being sent is given up, and logged.
MAX_SENDS = 5


def sessions() -> sessionmaker[Session]:
    return sessionmaker_for(get_settings().effective_database_url)


def slack(team_id: str) -> WebClient:
    """A client with the bot token of `team_id` (its installation, or SLACK_BOT_TOKEN)."""
    return _client_for(bot_token(get_settings(), team_id))


@lru_cache(maxsize=256)
def _client_for(token: str) -> WebClient:
    return make_web_client(get_settings(), token=token)


@lru_cache(maxsize=1)
def _pacer() -> ChannelPacer:
    settings = get_settings()
    client = redis.Redis.from_url(redis_client_url(settings))
    return ChannelPacer(client, prefix=settings.sentibot_broker_prefix)


def pace(channel: str) -> None:
    _pacer().wait(channel)


def delivery(team_id: str) -> Delivery:
    """The one delivery path to `team_id`'s Slack, paced across every worker process."""
    return Delivery(slack(team_id), pace)


def begin_post(team_id: str, key: str, channel: str) -> tuple[Posted | None, datetime | None]:
    """Before posting message `key`: the message the ledger recorded (to edit), or else since
    when an earlier attempt may have posted it without living to record it (None: none did)."""
    with sessions().begin() as session:
        attempt = deliveries.begin(session, key, team_id, channel, utcnow())
    if attempt.message_ts:
        return Posted(attempt.message_channel or channel, attempt.message_ts), None
    return None, attempt.since if attempt.earlier_attempt else None


def end_post(key: str, posted: Posted) -> None:
    with sessions().begin() as session:
        deliveries.record(session, key, posted.channel, posted.ts)


def publish_once(
    team_id: str,
    key: str,
    *,
    channel: str,
    text: str,
    blocks: list[dict],
    existing: Posted | None = None,
    response_url: str | None = None,
) -> Posted:
    """Post (or edit) message `key` exactly once, even across a crash between Slack's answer
    and the caller storing it. Editing a message whose ts is known needs no ledger: an edit
    done twice is done once."""
    ledgered, since = existing is None, None
    if ledgered:
        existing, since = begin_post(team_id, key, channel)
    posted = delivery(team_id).publish(
        channel=channel,
        text=text,
        blocks=blocks,
        existing=existing,
        response_url=response_url,
        key=key,
        maybe_posted_since=since,
    )
    if ledgered:
        end_post(key, posted)
    return posted


def publish_or_drop(
    team_id: str, key: str, *, channel: str, text: str, blocks: list[dict]
) -> str | None:
    """`publish_once`'s ts, or None (logged) when Slack will never take the message (the bot
    left the channel, the app was removed): the caller marks it sent and moves on. Any other
    failure propagates, for a retry."""
    try:
        return publish_once(team_id, key, channel=channel, text=text, blocks=blocks).ts
    except Undeliverable as exc:
        log.warning("message %s to %s dropped: %s", key, channel, exc.error)
        return None
