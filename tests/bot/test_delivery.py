"""The one delivery path against the Slack stand-in: what it posts, edits, and refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.delivery import RESPONSE_URL_TS, Delivery, Posted, Undeliverable
from devtools.slack_standin import SlackStandIn


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def delivery(slack: SlackStandIn) -> Delivery:
    paced: list[str] = []
    return Delivery(WebClient(token="xoxb-standin", base_url=slack.api_url), paced.append)


def test_a_known_message_is_edited_never_posted_again(slack, delivery) -> None:
    first = delivery.publish(channel="C1", text="one", blocks=[])
    again = delivery.publish(channel="C1", text="two", blocks=[], existing=first)
    assert again == first
    (message,) = slack.messages_in("C1")
    assert message.text == "two"


def test_not_in_the_channel_answers_through_response_url(slack, delivery) -> None:
    slack.not_member.add("C2")
    posted = delivery.publish(
        channel="C2", text="report", blocks=[], response_url=slack.response_url("ok")
    )
    assert posted == Posted("C2", RESPONSE_URL_TS)


def test_a_refused_response_url_is_a_failure_not_a_delivery(slack, delivery) -> None:
    slack.not_member.add("C3")
    slack.fail_next("/response/late", 404, body="expired_url")
    with pytest.raises(Undeliverable, match="not_in_channel; response_url answered 404"):
        delivery.publish(
            channel="C3", text="report", blocks=[], response_url=slack.response_url("late")
        )


def test_a_channel_the_bot_left_is_undeliverable(slack, delivery) -> None:
    slack.not_member.add("C4")
    with pytest.raises(Undeliverable) as caught:
        delivery.publish(channel="C4", text="notice", blocks=[])
    assert caught.value.error == "not_in_channel"


def test_a_keyed_message_carries_its_key_and_a_retry_finds_it(slack, delivery) -> None:
    from datetime import UTC, datetime

    began = datetime.now(UTC)
    first = delivery.publish(channel="C5", text="digest", blocks=[], key="digest-run:7")
    (message,) = slack.messages_in("C5")
    assert message.metadata == {
        "event_type": "sentibot_message",
        "event_payload": {"key": "digest-run:7"},
    }
    # The earlier attempt's answer was lost: the retry edits the message instead of reposting.
    again = delivery.publish(
        channel="C5", text="digest v2", blocks=[], key="digest-run:7", maybe_posted_since=began
    )
    assert again == first
    (message,) = slack.messages_in("C5")
    assert (message.text, message.edits) == ("digest v2", 1)
    # Another key in the same channel is a different message.
    delivery.publish(
        channel="C5", text="other", blocks=[], key="digest-run:8", maybe_posted_since=began
    )
    assert len(slack.messages_in("C5")) == 2


def test_a_history_slack_will_not_show_means_posting_not_losing(slack, delivery) -> None:
    from datetime import UTC, datetime

    slack.fail_next("conversations.history", 200, body={"ok": False, "error": "missing_scope"})
    posted = delivery.publish(
        channel="C6", text="alert", blocks=[], key="alert:1:0", maybe_posted_since=datetime.now(UTC)
    )
    assert posted.ts
    assert len(slack.messages_in("C6")) == 1
