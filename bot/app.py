"""The Bolt app factory. Composes listeners; knows nothing of how it is served; no I/O at import."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.install import multi_workspace, oauth_settings
from bot.listeners import actions, commands, errors, home, lifecycle
from bot.slack_client import make_web_client
from sentibot.config.settings import Settings
from sentibot.sources import source_names
from sentibot.storage.session import sessionmaker_for


def create_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    sessions: sessionmaker[Session] | None = None,
    enqueue: commands.Enqueue,
    process_before_response: bool | None = None,
) -> App:
    """The Bolt app. Needs SLACK_SIGNING_SECRET, and SLACK_BOT_TOKEN (one workspace; auth.test
    once at start) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (any workspace that installs it).
    `enqueue(job_id)` hands a stored job to the workers (tasks/enqueue.py builds the real one)."""
    signing_secret = settings.require("slack_signing_secret", "verifying requests from Slack")
    oauth = None
    if multi_workspace(settings):
        oauth = oauth_settings(settings)
        # No token: Bolt uses the installing workspace's token for each request.
        client = client or make_web_client(settings, token="")
    else:
        client = client or make_web_client(settings)
    app = App(
        client=client,
        signing_secret=signing_secret,
        oauth_settings=oauth,
        # Our listeners only store a row and enqueue, so answering after they return is safe
        # and spares Bolt's polling for ack() (see bench/ack_latency.py for both settings).
        process_before_response=(
            settings.slack_process_before_response
            if process_before_response is None
            else process_before_response
        ),
    )
    sessions = sessions or sessionmaker_for(settings.effective_database_url)
    source_names()  # the sources' modules load now, not on the first command
    commands.register(app, settings=settings, sessions=sessions, enqueue=enqueue)
    actions.register(app, settings=settings, sessions=sessions)
    home.register(app, settings=settings, sessions=sessions)
    lifecycle.register(
        app,
        sessions=sessions,
        installation_store=oauth.installation_store if oauth is not None else None,
    )
    errors.register(app)
    return app
