"""Tasks run in the test process as a worker runs them: from the environment a worker reads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from devtools.slack_standin import SlackStandIn
from sentibot.config.settings import get_settings
from tasks import runtime


def worker_env(
    slack: SlackStandIn, database_url: str, redis_url: str, broker_prefix: str
) -> dict[str, str]:
    return {
        "SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": "xoxb-standin",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SENTIBOT_BROKER_PREFIX": broker_prefix,
        "SENTIMENT_MODEL": "vader",
    }


@contextmanager
def worker_settings(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> Iterator[None]:
    """`env` set; settings, Slack clients and pacers read afresh from it, and forgotten after."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _forget()
    try:
        yield
    finally:
        _forget()


def _forget() -> None:
    get_settings.cache_clear()
    runtime._client_for.cache_clear()
    runtime._pacer.cache_clear()
