"""`/sentiment` slash command: parse, store a Job, enqueue its id, acknowledge."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import Ack, App
from sqlalchemy.orm import Session, sessionmaker

from sentibot.bot.grammar import Analyze, Help, UsageError, help_text, parse
from sentibot.bot.views.mrkdwn import quote_inline
from sentibot.collectors.registry import DISPLAY_NAMES
from sentibot.config.settings import Settings
from sentibot.storage import queries

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
        ack(
            response_type="ephemeral",
            text=start_analysis(parsed, command, settings, sessions, enqueue),
        )


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
        )
        job_id = job.id
    try:
        enqueue(job_id)
    except Exception:  # the broker is down: the sweeper enqueues the stored job later
        log.warning("job %s stored but not enqueued; the sweeper will retry", job_id, exc_info=True)
    names = ", ".join(DISPLAY_NAMES.get(s, s) for s in cmd.sources)
    return (
        f"Analyzing “{quote_inline(cmd.topic)}” on {names}… "
        f"I'll post the summary in this channel. (job {job_id})"
    )
