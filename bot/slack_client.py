"""The Slack Web API client sentibot uses everywhere: base URL from settings, retries built in."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from sentibot.config.settings import Settings


def make_web_client(settings: Settings, token: str | None = None) -> WebClient:
    if token is None:
        token = settings.require("slack_bot_token", "posting to Slack")
    client = WebClient(
        token=token or None, base_url=_with_slash(settings.slack_api_url), timeout=15
    )
    # slack-sdk raises on 429 and 5xx unless told to retry; 429 waits as Retry-After says.
    client.retry_handlers.extend(
        [
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=3),
        ]
    )
    return client


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
