"""What every task shares: database sessions, each workspace's Slack delivery, channel pacing,
and the retry policy for database hiccups. Built lazily, once per worker process."""

from __future__ import annotations

from functools import lru_cache

import redis
from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery import Delivery
from bot.install import bot_token
from bot.pacing import ChannelPacer
from bot.slack_client import make_web_client
from sentibot.config.settings import get_settings
from sentibot.embedded import redis_client_url
from sentibot.storage.session import sessionmaker_for

# Database hiccups are worth a retry, with backoff, a few times.
RETRY_DB = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


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
