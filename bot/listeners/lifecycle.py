"""The app's own life in a workspace: an uninstall (or revoked bot token) pauses everything of
that workspace; a reinstall (bot/install.py) or a command from it resumes it."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners
from slack_sdk.oauth.installation_store import InstallationStore
from sqlalchemy.orm import Session, sessionmaker

from sentibot.storage import workspaces
from sentibot.storage.models import utcnow

log = logging.getLogger(__name__)


def register(
    app: App, *, sessions: sessionmaker[Session], installation_store: InstallationStore | None
) -> None:
    revocation = TokenRevocationListeners(installation_store) if installation_store else None

    def pause(team_id: str | None, why: str) -> None:
        if not team_id:
            return
        with sessions.begin() as session:
            workspaces.pause(session, team_id, utcnow())
        log.warning("workspace %s paused: %s", team_id, why)

    @app.event("app_uninstalled")
    def uninstalled(context: BoltContext) -> None:
        if revocation is not None:
            revocation.handle_app_uninstalled_events(context)  # its tokens are deleted
        pause(context.team_id, "the app was uninstalled")

    @app.event("tokens_revoked")
    def revoked(event: dict, context: BoltContext) -> None:
        if revocation is not None:
            revocation.handle_tokens_revoked_events(event, context)
        if (event.get("tokens") or {}).get("bot"):
            pause(context.team_id, "its bot token was revoked")
