"""`/sentiment` slash command: parse, store a Job, enqueue its id, acknowledge."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_bolt import Ack, App
from sqlalchemy.orm import Session, sessionmaker

from sentibot.bot import grammar
from sentibot.bot.grammar import Analyze, Help, List, Unwatch, UsageError, help_text, parse
from sentibot.bot.views import watches as views
from sentibot.bot.views.mrkdwn import quote_inline
from sentibot.collectors.registry import display_name
from sentibot.config.settings import Settings
from sentibot.storage import queries
from sentibot.storage import watches as wq
from sentibot.storage.models import Watch, utcnow

log = logging.getLogger(__name__)

Enqueue = Callable[[int], None]


def register(
    app: App, *, settings: Settings, sessions: sessionmaker[Session], enqueue: Enqueue
) -> None:
    @app.command("/sentiment")
    def sentiment(ack: Ack, command: dict) -> None:
        parsed = parse(command.get("text", ""))
        if isinstance(parsed, UsageError):
            ack(response_type="ephemeral", text=parsed.message)
            return
        if isinstance(parsed, Help):
            ack(response_type="ephemeral", text=help_text())
            return
        if isinstance(parsed, Analyze):
            text = start_analysis(parsed, command, settings, sessions, enqueue)
        else:
            text = manage_watches(parsed, command, settings, sessions)
        ack(response_type="ephemeral", text=text)


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
            _, created = wq.upsert_watch(
                session,
                team_id=team_id,
                channel_id=channel_id,
                topic=cmd.topic,
                sources=cmd.sources,
                every_s=cmd.every_s,
                model=settings.sentiment_model,
                user_id=command.get("user_id"),
                now=now,
            )
            return views.watch_started(cmd.topic, cmd.sources, cmd.every_s, created)
        if isinstance(cmd, Unwatch):
            removed = wq.remove_watch(session, team_id, channel_id, cmd.topic)
            return views.watch_removed(cmd.topic, removed)
        lines = watch_lines(session, wq.channel_watches(session, team_id, channel_id), now)
        used = wq.x_read_today(session, team_id, now)
        return views.watch_list(lines, used, settings.x_daily_post_cap, now)


def watch_lines(session: Session, found: list[Watch], now: datetime) -> list[views.WatchLine]:
    counts = wq.watch_post_counts(session, [w.id for w in found], now - timedelta(hours=24))
    return [
        views.WatchLine(
            topic=w.topic,
            every_s=w.interval_s,
            next_run_at=w.next_run_at,
            posts_24h=counts.get(w.id, 0),
            sources=views.source_lines(w.sources, wq.source_states(session, w.id)),
        )
        for w in found
    ]


def start_analysis(
    cmd: Analyze,
    command: dict,
    settings: Settings,
    sessions: sessionmaker[Session],
    enqueue: Enqueue,
) -> str:
    """Store the Job (the outbox) before anything else, then hand it to the broker."""
    with sessions.begin() as session:
        job = queries.create_job(
            session,
            team_id=command["team_id"],
            topic=cmd.topic,
            sources=cmd.sources,
            channel_id=command["channel_id"],
            user_id=command.get("user_id"),
            response_url=command.get("response_url"),
            post_limit=cmd.limit or settings.analyze_limit,
            model=settings.sentiment_model,
            window_s=cmd.since_s,
        )
        job_id = job.id
    try:
        enqueue(job_id)
    except Exception:  # the broker is down: the sweeper enqueues the stored job later
        log.warning("job %s stored but not enqueued; the sweeper will retry", job_id, exc_info=True)
    names = ", ".join(display_name(s) for s in cmd.sources)
    return (
        f"Analyzing “{quote_inline(cmd.topic)}” on {names}… "
        f"I'll post the summary in this channel. (job {job_id})"
    )
