"""The Slack stand-in speaks what the real slack-sdk client sends and reads."""

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.slack_client import make_web_client
from devtools.slack_standin import SlackStandIn
from sentibot.config.settings import Settings


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(token="xoxb-test") as standin:
        yield standin


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    settings = Settings(_env_file=None, slack_bot_token="xoxb-test", slack_api_url=slack.api_url)
    return make_web_client(settings)


def test_auth_test_and_a_bad_token(slack: SlackStandIn, client: WebClient) -> None:
    assert client.auth_test()["team_id"] == "T0STANDIN"
    with pytest.raises(SlackApiError, match="invalid_auth"):
        WebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()


def test_post_update_and_ephemeral(slack: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C1", text="hello", blocks=[{"type": "divider"}])
    client.chat_update(channel="C1", ts=posted["ts"], text="edited")
    client.chat_postEphemeral(channel="C1", user="U1", text="psst")
    (message,) = slack.messages_in("C1")
    assert (message.text, message.edits, message.blocks) == ("edited", 1, [{"type": "divider"}])
    assert slack.ephemeral[0]["text"] == "psst"


def test_file_upload_v2(slack: SlackStandIn, client: WebClient) -> None:
    result = client.files_upload_v2(
        channel="C1", content=b"\x89PNG fake chart", filename="chart.png", title="Chart"
    )
    assert result["file"]["title"] == "Chart"
    assert list(slack.uploads.values()) == [b"\x89PNG fake chart"]


def test_429_is_waited_out_as_retry_after_says(slack: SlackStandIn, client: WebClient) -> None:
    slack.fail_next(
        "chat.postMessage",
        429,
        headers={"Retry-After": "1"},
        body={"ok": False, "error": "ratelimited"},
    )
    client.chat_postMessage(channel="C1", text="after the wait")
    assert len(slack.requests_to("chat.postMessage")) == 2
    assert [m.text for m in slack.messages_in("C1")] == ["after the wait"]


def test_5xx_is_retried(slack: SlackStandIn, client: WebClient) -> None:
    slack.fail_next("chat.postMessage", 503, body={"ok": False, "error": "service_unavailable"})
    client.chat_postMessage(channel="C1", text="eventually")
    assert [m.text for m in slack.messages_in("C1")] == ["eventually"]


def test_response_url(slack: SlackStandIn) -> None:
    WebhookClient(slack.response_url("abc")).send(response_type="in_channel", text="hi")
    assert slack.responses == [{"key": "abc", "response_type": "in_channel", "text": "hi"}]
