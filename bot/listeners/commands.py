"""`/sentiment` slash command: parse, store a Job, enqueue its id, acknowledge."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import grammar
from bot.grammar import Analyze, Help, List, Unwatch, UsageError, help_text, parse
from bot.listeners.webhooks import manage_webhooks
from bot.views import alerts as alert_views
from bot.views import corrections as correction_views
from bot.views import watches as views
from bot.views.mrkdwn import escape, quote_inline
from sentibot.config.settings import Settings
from sentibot.logs import bind
from sentibot.monitoring import corrections, overview, quotas, source_overview
from sentibot.monitoring.preview import PREVIEW_LIMIT
from sentibot.monitoring.quotas import Quotas
from sentibot.monitoring.schedules import next_occurrence
from sentibot.monitoring.watch_start import start_watch
from sentibot.sources import display_name, source_names
from sentibot.storage import alerts as alert_store
from sentibot.storage import digests as digest_store
from sentibot.storage import jobs as job_store
from sentibot.storage import watches as watch_store
from sentibot.storage import workspaces, x_usage
from sentibot.storage.models import ANALYZE, EXPORT, PREVIEW, Watch, utcnow
from sentibot.storage.workspaces import ensure_workspace, lock_workspace

log = logging.getLogger(__name__)

Enqueue = Callable[[int], None]


def register(
    app: App, *, settings: Settings, sessions: sessionmaker[Session], enqueue: Enqueue
) -> None:
    def sentiment(ack: Ack, command: dict) -> None:
        parsed = parse(command.get("text", ""))
        if isinstance(parsed, UsageError):
            ack(response_type="ephemeral", text=parsed.message)
            return
        if isinstance(parsed, Help):
            ack(response_type="ephemeral", text=help_text())
            return
        if not workspaces.recently_active(command["team_id"]):
            with sessions.begin() as session:
                # Someone can use the command, so the app is installed (again).
                workspaces.note_active(session, command["team_id"])
        if isinstance(parsed, _ANSWERED_LATER):
            ack()  # the answer follows through the response URL (answer_later)
            return
        if isinstance(parsed, Analyze | grammar.Preview):
            text = start_analysis(parsed, command, settings, sessions, enqueue)
        elif isinstance(parsed, grammar.Alert | grammar.Alerts | grammar.Mute | grammar.Digest):
            text = manage_schedules(parsed, command, settings, sessions)
        elif isinstance(parsed, grammar.Export):
            text = start_export(parsed, command, settings, sessions, enqueue)
        elif isinstance(parsed, grammar.Sources):
            with sessions() as session:
                lines = source_overview.source_lines(
                    session, settings, command["team_id"], {command["channel_id"]}, utcnow()
                )
            text = views.source_list(lines)
        else:
            text = manage_watches(parsed, command, settings, sessions)
        ack(response_type="ephemeral", text=text)

    def answer_later(command: dict, client: WebClient, respond: Respond) -> None:
        """What needs Slack (the admin check) or real computing (the accuracy's fits), after
        the acknowledgement: Slack gives 3 seconds."""
        parsed = parse(command.get("text", ""))
        if isinstance(parsed, grammar.Accuracy):
            text = accuracy(parsed, command, sessions)
        elif isinstance(parsed, grammar.Webhook):
            text = manage_webhooks(parsed, command, settings, sessions, client)
        else:
            return
        respond(response_type="ephemeral", replace_original=False, text=text)

    app.command("/sentiment")(ack=sentiment, lazy=[answer_later])


# Commands acknowledged empty and answered after, through the response URL.
_ANSWERED_LATER = (grammar.Accuracy, grammar.Webhook)


def accuracy(cmd: grammar.Accuracy, command: dict, sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        ids = None
        if cmd.topic:
            watch = _watch(session, command["team_id"], command["channel_id"], cmd.topic)
            ids = [watch.id] if watch else []
        found = corrections.agreement(session, command["team_id"], ids)
    return correction_views.accuracy(found, cmd.topic)


def manage_watches(
    cmd: grammar.Watch | Unwatch | List,
    command: dict,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> str:
    """Watches are rows: creating, removing and listing them is quick database work."""
    team_id, channel_id, now = command["team_id"], command["channel_id"], utcnow()
    with sessions.begin() as session:
        if isinstance(cmd, grammar.Watch):
            started = start_watch(
                session,
                Quotas.from_settings(settings),
                team_id=team_id,
                channel_id=channel_id,
                topic=cmd.topic,
                sources=cmd.sources,
                every_s=cmd.every_s,
                model=settings.sentiment_model,
                user_id=command.get("user_id"),
                now=now,
                default_backfill_s=settings.backfill_default_s,
                backfill_s=cmd.backfill_s,
            )
            if isinstance(started, str):
                return started
            return views.watch_started(
                cmd.topic, cmd.sources, started.every_s, started.created, started.back_s
            )
        if isinstance(cmd, Unwatch):
            removed = watch_store.remove_watch(session, team_id, channel_id, cmd.topic, now)
            return views.watch_removed(cmd.topic, removed)
        found = watch_store.channel_watches(session, team_id, channel_id)
        lines = overview.watch_statuses(session, found, now)

        used = x_usage.x_read_today(session, team_id, now)
        return views.watch_list(lines, used, settings.x_daily_post_cap, now)


def manage_schedules(
    cmd: grammar.Alert | grammar.Alerts | grammar.Mute | grammar.Digest,
    command: dict,
    settings: Settings,
    sessions: sessionmaker[Session],
) -> str:
    """Alert rules, mutes and digest schedules: rows the dispatcher reads."""
    team_id, channel_id, now = command["team_id"], command["channel_id"], utcnow()
    user_id = command.get("user_id")
    with sessions.begin() as session:
        if isinstance(cmd, grammar.Alert):
            lock_workspace(session, team_id)  # the count and the insert, one command at a time
            limits = Quotas.from_settings(settings)
            watch = _watch(session, team_id, channel_id, cmd.topic)
            created = watch is None
            if watch is None:  # an alert needs posts: watch the topic, often enough for the window
                started = start_watch(
                    session,
                    limits,
                    team_id=team_id,
                    channel_id=channel_id,
                    topic=cmd.topic,
                    sources=source_names(),
                    every_s=max(
                        limits.min_every_s,
                        min(grammar.DEFAULT_EVERY_S, max(60, cmd.window_s // 4)),
                    ),
                    model=settings.sentiment_model,
                    user_id=user_id,
                    now=now,
                    default_backfill_s=settings.backfill_default_s,
                    also=lambda: quotas.alert_refusal(session, limits, team_id, channel_id),
                )
                if isinstance(started, str):
                    return started
                watch = started.watch
            elif not alert_store.has_rule(session, watch.id, cmd.metric, cmd.op):
                refusal = quotas.alert_refusal(session, limits, team_id, channel_id)
                if refusal:
                    return refusal
            _, new_rule = alert_store.set_rule(
                session,
                watch,
                user_id=user_id,
                now=now,
                metric=cmd.metric,
                op=cmd.op,
                threshold=cmd.threshold,
                window_s=cmd.window_s,
                cooldown_s=cmd.cooldown_s,
                min_posts=cmd.min_posts,
            )
            return alert_views.alert_rule_added(
                cmd.topic, cmd.metric, cmd.op, cmd.threshold, cmd.window_s, created, not new_rule
            )
        if isinstance(cmd, grammar.Alerts):
            rules = overview.channel_rules(session, team_id, channel_id)
            history = overview.rule_history(session, [r.id for r in rules])
            return alert_views.alerts_list(rules, history, now)
        if isinstance(cmd, grammar.Mute):
            until = now + timedelta(seconds=cmd.seconds) if cmd.seconds else None
            if not alert_store.mute_topic(session, team_id, channel_id, cmd.topic, until):
                return views.watch_removed(cmd.topic, False)
            if until is None:
                return f"Alerts on “{quote_inline(cmd.topic)}” are on again."
            return (
                f"Alerts on “{quote_inline(cmd.topic)}” are muted until {until:%Y-%m-%d %H:%M} UTC."
            )
        if cmd.cadence == "off":
            removed = digest_store.remove_digest(session, team_id, channel_id)
            return "Digest turned off." if removed else "This channel had no digest."
        due = next_occurrence(now, cmd.at, cmd.tz, cmd.weekday)
        ensure_workspace(session, team_id)
        digest_store.set_digest(
            session,
            team_id=team_id,
            channel_id=channel_id,
            cadence=cmd.cadence,
            local_time=cmd.at,
            tz=cmd.tz,
            weekday=cmd.weekday,
            next_due_at=due,
            user_id=user_id,
        )
        day = f"{_DAY_NAMES[cmd.weekday]}s " if cmd.weekday is not None else "every day "
        return (
            f"This channel gets a {cmd.cadence} digest {day}at {cmd.at} {escape(cmd.tz)}; "
            f"the next one at {due:%Y-%m-%d %H:%M} UTC."
        )


_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _watch(session: Session, team_id: str, channel_id: str, topic: str) -> Watch | None:
    return watch_store.channel_watch(session, team_id, channel_id, topic)


@lru_cache(maxsize=4)
def _autocommit_engine(engine: Engine) -> Engine:
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def _autocommit(sessions: sessionmaker[Session]) -> Engine:
    return _autocommit_engine(sessions.kw["bind"])


def start_analysis(
    cmd: Analyze | grammar.Preview,
    command: dict,
    settings: Settings,
    sessions: sessionmaker[Session],
    enqueue: Enqueue,
) -> str:
    """Store the Job (the outbox) before anything else, then hand it to the broker. A preview
    is a job too: it collects like an analysis and answers only the person who asked."""
    limits = Quotas.from_settings(settings)
    previewing = isinstance(cmd, grammar.Preview)
    if isinstance(cmd, grammar.Preview):
        limit, window_s = PREVIEW_LIMIT, grammar.DEFAULT_SINCE_S
    else:
        limit, window_s = cmd.limit or settings.analyze_limit, cmd.since_s
        refusal = quotas.limit_refusal(limits, cmd.limit)
        if refusal:
            return refusal
    # One statement, so it commits on its own: no BEGIN and COMMIT round trips around it,
    # and on a bare connection: no ORM session to build for it.
    with _autocommit(sessions).connect() as connection:
        job_id = job_store.admit_job(
            connection,
            team_id=command["team_id"],
            topic=cmd.topic,
            sources=cmd.sources,
            channel_id=command["channel_id"],
            user_id=command.get("user_id"),
            response_url=command.get("response_url"),
            post_limit=limit,
            model=settings.sentiment_model,
            window_s=window_s,
            per_user_per_minute=limits.analyses_per_user_per_minute,
            kind=PREVIEW if previewing else ANALYZE,
        )
    if job_id is None:
        return quotas.rate_refusal(limits)
    with bind(job_id=job_id, team_id=command["team_id"]):
        try:
            enqueue(job_id)
        except Exception:  # the broker is down: the sweeper enqueues the stored job later
            log.warning("job stored but not enqueued; the sweeper will retry", exc_info=True)
        else:
            log.info("job stored and handed to the broker")
    names = ", ".join(display_name(s) for s in cmd.sources)
    if previewing:
        return (
            f"Previewing “{quote_inline(cmd.topic)}” on {names}… only you will see the answer, "
            f"in a few seconds. (job {job_id})"
        )
    return (
        f"Analyzing “{quote_inline(cmd.topic)}” on {names}… "
        f"I'll post the summary in this channel. (job {job_id})"
    )


def start_export(
    cmd: grammar.Export,
    command: dict,
    settings: Settings,
    sessions: sessionmaker[Session],
    enqueue: Enqueue,
) -> str:
    """An export is a job too (stored, then enqueued): a notify worker writes the CSV."""
    team_id, channel_id = command["team_id"], command["channel_id"]
    limits = Quotas.from_settings(settings)
    with sessions() as session:
        if _watch(session, team_id, channel_id, cmd.topic) is None:
            return views.export_needs_watch(cmd.topic)
    with _autocommit(sessions).connect() as connection:
        job_id = job_store.admit_job(
            connection,
            team_id=team_id,
            topic=cmd.topic,
            sources=[],
            channel_id=channel_id,
            user_id=command.get("user_id"),
            response_url=command.get("response_url"),
            post_limit=0,
            model=settings.sentiment_model,
            window_s=cmd.since_s,
            per_user_per_minute=limits.analyses_per_user_per_minute,
            kind=EXPORT,
        )
    if job_id is None:
        return quotas.rate_refusal(limits)
    enqueue(job_id)
    return (
        f"Exporting “{quote_inline(cmd.topic)}” for the last {grammar.format_duration(cmd.since_s)}"
        f"… the CSV will be in a thread here. (job {job_id})"
    )
