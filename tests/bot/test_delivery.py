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
