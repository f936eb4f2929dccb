"""Buttons on sentibot's messages (signed `block_actions` payloads)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.delivery import Delivery, Undeliverable
from bot.grammar import DEFAULT_EVERY_S
from bot.views import backfills as backfill_views
from bot.views import corrections as correction_views
from bot.views import watches as views
from bot.views.alerts import RESOLVE_ACTION, SNOOZE_ACTION
from bot.views.backfills import APPROVE_ACTION, SKIP_ACTION
from bot.views.corrections import EXCLUDE_ACTION
from bot.views.mrkdwn import escape
from bot.views.summary import CORRECT_ACTION, MORE_ACTION, WATCH_ACTION, more_posts
from sentibot.config.settings import Settings
from sentibot.monitoring import (
    alert_checks,
    analysis,
    corrections,
    webhook_events,
)
from sentibot.monitoring.overview import BackfillStatus
from sentibot.monitoring.quotas import Quotas
from sentibot.monitoring.watch_start import start_watch
from sentibot.query import QueryError, parse_query
from sentibot.sources import source_names
from sentibot.storage import alerts as alert_store
from sentibot.storage import backfills as backfill_store
from sentibot.storage import corrections as correction_store
from sentibot.storage import jobs as job_store
from sentibot.storage import watches as watch_store
from sentibot.storage.models import utcnow

log = logging.getLogger(__name__)


def register(app: App, *, settings: Settings, sessions: sessionmaker[Session]) -> None:
    def alert_button(action: str) -> Callable[..., None]:
        def handle(body: dict, client: WebClient, respond: Respond) -> None:
            value = (body.get("actions") or [{}])[0].get("value") or ""
            team_id = (body.get("team") or {}).get("id") or ""
            channel_id = _channel(body)
            user_id = (body.get("user") or {}).get("id") or "someone"
            if not value.isdigit():
                return
            with sessions.begin() as session:
                outcome = alert_checks.act_on(
                    session, int(value), team_id, channel_id, action, user_id, utcnow()
                )
                # A resolution by hand reaches the webhooks too (the dispatcher sends it).
                webhook_events.record_alert(session, outcome, utcnow())
            if outcome is None:
                respond(
                    response_type="ephemeral",
                    replace_original=False,
                    text="That alert is no longer firing.",
                )
                return
            try:
                ts = Delivery(client).alert(outcome, by=user_id)
            except (Undeliverable, SlackApiError) as exc:
                # The change is committed; a deleted alert message must not turn it into a 500.
                log.info("alert %s: message not updated (%s)", outcome.rule_id, exc)
                done = "snoozed" if action == "snooze" else "resolved"
                respond(
                    response_type="ephemeral",
                    replace_original=False,
                    text=f"The alert is {done}; its message could not be updated.",
                )
                ts = None
            if ts is not None:
                with sessions.begin() as session:
                    alert_store.set_message_ts(session, outcome.rule_id, ts)

        return handle

    def more(body: dict, respond: Respond) -> None:
        value = (body.get("actions") or [{}])[0].get("value") or ""
        team_id = (body.get("team") or {}).get("id") or ""
        text = "That report is gone."
        if value.isdigit():
            with sessions() as session:
                job = job_store.get_job(session, int(value))
                # Only the report whose message holds the button: never another channel's.
                if job is not None and (job.team_id, job.channel_id) == (team_id, _channel(body)):
                    text = more_posts(analysis.job_report(session, job).posts)
        respond(response_type="ephemeral", replace_original=False, text=text)

    def correct_post(body: dict, respond: Respond) -> None:
        action = (body.get("actions") or [{}])[0]
        value = (action.get("selected_option") or {}).get("value") or ""
        post_id, _, rest = value.partition("|")
        label, _, watch_id = rest.partition("|")
        team_id = (body.get("team") or {}).get("id") or ""
        if not post_id.isdigit() or label not in correction_store.LABELS or not team_id:
            return
        with sessions.begin() as session:
            done = corrections.record(
                session,
                team_id,
                _channel(body),
                int(post_id),
                label,
                int(watch_id) if watch_id.isdigit() else None,
                (body.get("user") or {}).get("id"),
                utcnow(),
            )
        text, blocks = correction_views.corrected(done)
        respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)

    def exclude_term(body: dict, respond: Respond) -> None:
        value = (body.get("actions") or [{}])[0].get("value") or ""
        watch_id, _, term = value.partition("|")
        team_id = (body.get("team") or {}).get("id") or ""
        if not watch_id.isdigit():
            return
        with sessions.begin() as session:
            text = corrections.exclude(session, team_id, _channel(body), int(watch_id), term)
        respond(response_type="ephemeral", replace_original=False, text=escape(text))

    def watch_topic(body: dict, respond: Respond) -> None:
        value = (body.get("actions") or [{}])[0].get("value") or ""
        try:
            topic = parse_query(value).canonical()
        except QueryError:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text="That topic no longer parses.",
            )
            return
        team_id = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        channel_id = (body.get("channel") or {}).get("id")
        if not team_id or not channel_id:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text="I can only watch from a channel.",
            )
            return
        sources = source_names()
        with sessions.begin() as session:
            started = start_watch(
                session,
                Quotas.from_settings(settings),
                team_id=team_id,
                channel_id=channel_id,
                topic=topic,
                sources=sources,
                every_s=max(DEFAULT_EVERY_S, settings.quota_min_every_s),
                model=settings.sentiment_model,
                user_id=(body.get("user") or {}).get("id"),
                now=utcnow(),
                default_backfill_s=settings.backfill_default_s,
            )
        if isinstance(started, str):
            respond(response_type="ephemeral", replace_original=False, text=started)
            return
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=views.watch_started(
                topic, sources, started.every_s, started.created, started.back_s
            ),
        )

    def backfill_button(approve: bool) -> Callable[..., None]:
        def handle(body: dict, respond: Respond) -> None:
            """X's history above the share of the day's cap: read it, or skip it."""
            value = (body.get("actions") or [{}])[0].get("value") or ""
            team_id = (body.get("team") or {}).get("id") or ""
            user_id = (body.get("user") or {}).get("id") or "someone"
            if not value.isdigit():
                return
            with sessions.begin() as session:
                row = backfill_store.answer(
                    session, int(value), team_id, approve, utcnow(), _channel(body)
                )
                watch = watch_store.get_watch(session, row.watch_id) if row else None
                topic = watch.topic if watch else ""
                ended = backfill_store.settle_history(session, row.watch_id) if row else None
            if row is None:
                respond(
                    response_type="ephemeral",
                    replace_original=False,
                    text=backfill_views.answered(topic, None, user_id),
                )
                return
            answer = backfill_views.answered(topic, approve, user_id)
            respond(replace_original=True, text=answer)
            if ended:
                finished = [BackfillStatus.of(r) for r in ended]
                respond(
                    response_type="in_channel",
                    replace_original=False,
                    text=backfill_views.finished(topic, finished, utcnow()),
                )

        return handle

    # Every button is acknowledged at once and handled after (Bolt's lazy listeners): Slack
    # gives 3 seconds, and a handler's own Slack calls (respond, chat.update) may take that.
    handlers: dict[str, Callable[..., None]] = {
        MORE_ACTION: more,
        SNOOZE_ACTION: alert_button("snooze"),
        RESOLVE_ACTION: alert_button("resolve"),
        CORRECT_ACTION: correct_post,
        EXCLUDE_ACTION: exclude_term,
        WATCH_ACTION: watch_topic,
        APPROVE_ACTION: backfill_button(True),
        SKIP_ACTION: backfill_button(False),
    }
    for action_id, handler in handlers.items():
        app.action(action_id)(ack=acknowledge, lazy=[handler])


def acknowledge(ack: Ack) -> None:
    ack()


def _channel(body: dict) -> str:
    """The channel the button was pressed in (the message's channel)."""
    return (
        (body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id")
        or ""
    )
