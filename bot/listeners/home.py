"""The App Home tab, published whenever a user opens it."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.listeners.commands import watch_lines
from bot.views.home import home_view
from sentibot.config.settings import Settings
from sentibot.storage import alerts as aq
from sentibot.storage import watches as wq
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
            found = wq.team_watches(session, team_id)
            lines = watch_lines(session, found, now)
            used = wq.x_read_today(session, team_id, now)
            alerts = aq.team_rules(session, team_id)
            digests = aq.team_digests(session, team_id)
        view = home_view(
            list(zip([w.channel_id for w in found], lines, strict=True)),
            used,
            settings.x_daily_post_cap,
            now,
            alerts,
            digests,
        )
        client.views_publish(user_id=event["user"], view=view)
