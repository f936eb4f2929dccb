"""The App Home tab, published whenever a user opens it."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.views.home import home_view
from sentibot.config.settings import Settings
from sentibot.monitoring import overview
from sentibot.storage import watches as watch_store
from sentibot.storage import x_usage
from sentibot.storage.models import utcnow

log = logging.getLogger(__name__)


def register(app: App, *, settings: Settings, sessions: sessionmaker[Session]) -> None:
    @app.event("app_home_opened")
    def app_home_opened(event: dict, body: dict, client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        team_id = body.get("team_id") or (body.get("authorizations") or [{}])[0].get("team_id")
        now = utcnow()
        with sessions() as session:
            found = watch_store.team_watches(session, team_id)
            lines = overview.watch_statuses(session, found, now)
            used = x_usage.x_read_today(session, team_id, now)
            alerts = overview.team_rules(session, team_id)
            digests = overview.team_digests(session, team_id)
        view = home_view(
            lines,
            used,
            settings.x_daily_post_cap,
            now,
            alerts,
            digests,
        )
        client.views_publish(user_id=event["user"], view=view)
