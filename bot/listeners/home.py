"""The App Home tab, published whenever a user opens it: the workspace's watches, alerts and
digests in the channels the viewer is a member of, never those of channels they cannot see."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.listeners.actions import acknowledge
from bot.views.home import home_view
from sentibot.config.settings import Settings
from sentibot.monitoring import overview, source_overview
from sentibot.storage import watches as watch_store
from sentibot.storage import x_usage
from sentibot.storage.models import utcnow

log = logging.getLogger(__name__)


def register(app: App, *, settings: Settings, sessions: sessionmaker[Session]) -> None:
    def app_home_opened(event: dict, body: dict, client: WebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        team_id = body.get("team_id") or (body.get("authorizations") or [{}])[0].get("team_id")
        now = utcnow()
        # Only what the viewer may see: objects of the channels they are in.
        visible = member_channels(client, event["user"])
        with sessions() as session:
            found = [
                w for w in watch_store.team_watches(session, team_id) if w.channel_id in visible
            ]
            lines = overview.watch_statuses(session, found, now)
            used = x_usage.x_read_today(session, team_id, now)
            alerts = [r for r in overview.team_rules(session, team_id) if r.channel_id in visible]
            digests = [
                d for d in overview.team_digests(session, team_id) if d.channel_id in visible
            ]
            sources = source_overview.source_lines(session, settings, team_id, visible, now)
        view = home_view(
            lines,
            used,
            settings.x_daily_post_cap,
            now,
            alerts,
            digests,
            sources,
        )
        client.views_publish(user_id=event["user"], view=view)

    # Acknowledged at once; the channel list (users.conversations, up to five pages) and the
    # publishing are Slack calls that must not hold the answer to Slack's event delivery.
    app.event("app_home_opened")(ack=acknowledge, lazy=[app_home_opened])


# Channels read per App Home view: 5 pages of 200 (users.conversations, Tier 3).
_MAX_PAGES = 5


def member_channels(client: WebClient, user_id: str) -> set[str]:
    """The conversations `user_id` is a member of; none if Slack will not say (no scope)."""
    channels: set[str] = set()
    cursor = None
    try:
        for _ in range(_MAX_PAGES):
            page = client.users_conversations(
                user=user_id,
                types="public_channel,private_channel,mpim,im",
                exclude_archived=True,
                limit=200,
                cursor=cursor,
            )
            channels.update(c["id"] for c in page.get("channels") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
    except SlackApiError as exc:
        log.warning("cannot list %s's channels (%s): App Home shows none", user_id, exc)
    return channels
