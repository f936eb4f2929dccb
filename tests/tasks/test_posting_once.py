"""A crash between Slack's answer and the stored ts: the next attempt finds the message by its
key and edits it, for notices and alerts as for analysis reports (tests/system/test_faults.py
kills a real worker for those)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery import Delivery
from devtools.slack_standin import SlackStandIn
from sentibot.storage import alerts as alert_store
from sentibot.storage import deliveries
from sentibot.storage import notices as notice_store
from sentibot.storage import watches as watch_store
from sentibot.storage.models import AlertRule, Notice, utcnow
from sentibot.storage.workspaces import ensure_workspace
from tasks.alerts import evaluate_alert
from tasks.notices import NOTICE_CLAIM_STALE, send_notice
from tasks.runtime import MAX_SENDS
from tests.tasks.environment import worker_env, worker_settings


@pytest.fixture
def slack(database_url, redis_url, broker_prefix, monkeypatch) -> Iterator[SlackStandIn]:
    with (
        SlackStandIn() as standin,
        worker_settings(monkeypatch, worker_env(standin, database_url, redis_url, broker_prefix)),
    ):
        yield standin


def _posted_before_the_crash(slack: SlackStandIn, channel: str, key: str) -> str:
    """What the dead attempt did: Slack took the message; nobody recorded its ts."""
    client = WebClient(token="xoxb-standin", base_url=slack.api_url)
    return Delivery(client).publish(channel=channel, text="(first try)", blocks=[], key=key).ts


def test_a_notice_whose_answer_was_lost_is_not_posted_again(sessions, slack) -> None:
    crashed_at = utcnow() - NOTICE_CLAIM_STALE - timedelta(seconds=5)
    with sessions.begin() as s:
        ensure_workspace(s, "T0STANDIN")
        notice = notice_store.add_notice(s, "T0STANDIN", "CNOTE", "health", "X is failing")
        notice.claimed_at = crashed_at
        deliveries.begin(s, f"notice:{notice.id}", "T0STANDIN", "CNOTE", crashed_at)
        notice_id = notice.id
    ts = _posted_before_the_crash(slack, "CNOTE", f"notice:{notice_id}")

    send_notice(notice_id)

    (message,) = slack.messages_in("CNOTE")
    assert message.text == "X is failing"
    with sessions() as s:
        notice = s.get(Notice, notice_id)
        assert notice.message_ts == ts
        assert notice.sent_at is not None


def test_a_notice_never_sent_is_posted_once(sessions, slack) -> None:
    with sessions.begin() as s:
        ensure_workspace(s, "T0STANDIN")
        notice_id = notice_store.add_notice(s, "T0STANDIN", "CNEW", "health", "back to ok").id
    send_notice(notice_id)
    send_notice(notice_id)  # a redelivered message: claimed and sent already
    assert len(slack.messages_in("CNEW")) == 1


def test_an_alert_fired_just_before_a_crash_is_edited_not_reposted(sessions, slack) -> None:
    now = utcnow()
    fired_at = now - timedelta(minutes=3)
    with sessions.begin() as s:
        watch, _ = watch_store.upsert_watch(
            s,
            team_id="T0STANDIN",
            channel_id="CALERT",
            topic="acme",
            sources=["hn"],
            every_s=300,
            model="vader",
            user_id="U1",
            now=now - timedelta(hours=1),
        )
        rule = alert_store.add_rule(
            s, watch, user_id="U1", now=fired_at, metric="sentiment", op="<", threshold=-0.2
        )
        rule.state, rule.fired_at, rule.value = "firing", fired_at, -0.5
        rule_id = rule.id
    key = f"alert:{rule_id}:{int(fired_at.timestamp())}"
    with sessions.begin() as s:
        deliveries.begin(s, key, "T0STANDIN", "CALERT", fired_at)
    ts = _posted_before_the_crash(slack, "CALERT", key)

    evaluate_alert(rule_id)  # firing with no stored ts: REPOST, which finds the message

    (message,) = slack.messages_in("CALERT")
    assert message.edits == 1
    with sessions() as s:
        assert s.get(AlertRule, rule_id).message_ts == ts


def test_a_notice_slack_keeps_refusing_is_given_up_and_logged(sessions, slack, caplog) -> None:
    slack.fail_next("chat.postMessage", 200, body={"ok": False, "error": "fatal_error"}, times=9)
    with sessions.begin() as s:
        ensure_workspace(s, "T0STANDIN")
        notice_id = notice_store.add_notice(s, "T0STANDIN", "CDOWN", "health", "X is failing").id
    for attempt in range(MAX_SENDS + 1):
        with sessions.begin() as s:  # each try's claim has gone stale
            s.get(Notice, notice_id).claimed_at = utcnow() - NOTICE_CLAIM_STALE * 2
        if attempt < MAX_SENDS:
            with pytest.raises(SlackApiError):
                send_notice(notice_id)
        else:
            send_notice(notice_id)
    assert "given up after 5 attempts" in caplog.text
    with sessions() as s:
        assert s.get(Notice, notice_id).sent_at is not None  # the dispatcher stops re-sending
        assert notice_store.unsent_notices(s, utcnow()) == []


def test_one_post_that_breaks_the_scorer_leaves_the_batch_scored(
    sessions, slack, monkeypatch, caplog
) -> None:
    from scoring.base import get_scorer
    from sentibot.sources import Post
    from sentibot.storage import posts as post_store
    from sentibot.storage.models import Score
    from tasks import watch as watch_tasks

    vader = get_scorer("vader")

    class Fragile:
        def score(self, texts):
            if any("poison" in t for t in texts):
                raise ValueError("cannot score this")
            return vader.score(texts)

    monkeypatch.setattr(watch_tasks, "get_scorer", lambda *_: Fragile())
    with sessions.begin() as s:
        ids = post_store.store_posts(
            s, [Post("hn", str(i), t) for i, t in enumerate(["good", "poison", "great"])]
        )
    watch_tasks.score_posts("vader", ids)
    with sessions() as s:
        assert sorted(sc.post_id for sc in s.query(Score)) == [ids[0], ids[2]]
    assert f"post {ids[1]} not scored" in caplog.text
