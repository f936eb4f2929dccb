"""The Bolt app factory. Composes listeners; knows nothing of how it is served; no I/O at import."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from sentibot.bot.listeners import actions, commands, errors, home
from sentibot.bot.slack_client import make_web_client
from sentibot.config.settings import Settings
from sentibot.storage.session import sessionmaker_for


def create_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    sessions: sessionmaker[Session] | None = None,
    enqueue: commands.Enqueue | None = None,
    process_before_response: bool | None = None,
) -> App:
    """The Bolt app. Needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET; calls auth.test once."""
    signing_secret = settings.require("slack_signing_secret", "verifying requests from Slack")
    client = client or make_web_client(settings)
    if enqueue is None:
        from sentibot.tasks.celery_app import create_celery
        from sentibot.tasks.enqueue import job_enqueuer

        enqueue = job_enqueuer(create_celery(settings, fail_fast=True))
    app = App(
        client=client,
        signing_secret=signing_secret,
        # Our listeners only store a row and enqueue, so answering after they return is safe
        # and spares Bolt's polling for ack() (see bench/ack_latency.py for both settings).
        process_before_response=(
            settings.slack_process_before_response
            if process_before_response is None
            else process_before_response
        ),
    )
    sessions = sessions or sessionmaker_for(settings.effective_database_url)
    commands.register(app, settings=settings, sessions=sessions, enqueue=enqueue)
    actions.register(app, settings=settings, sessions=sessions)
    home.register(app, settings=settings, sessions=sessions)
    errors.register(app)
    return app
