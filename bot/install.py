"""Multi-workspace installs: Slack's OAuth flow with slack-sdk's stores on sentibot's database.

With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, sentibot serves `/slack/install` and
`/slack/oauth_redirect`, keeps each workspace's bot token in `slack_bots` (Alembic revision
0005 creates slack-sdk's tables), and workers post with the token of the job's workspace.
Without them, SLACK_BOT_TOKEN serves one workspace.
"""

from __future__ import annotations

from functools import lru_cache

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from sentibot.config.settings import MissingSetting, Settings
from sentibot.storage.session import make_engine

STATE_EXPIRATION_S = 600


def multi_workspace(settings: Settings) -> bool:
    return bool(settings.slack_client_id)


@lru_cache(maxsize=4)
def installation_store(client_id: str, database_url: str) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(client_id=client_id, engine=make_engine(database_url))


def oauth_settings(settings: Settings) -> OAuthSettings:
    client_id = settings.require("slack_client_id", "installing sentibot in workspaces")
    secret = settings.require("slack_client_secret", "installing sentibot in workspaces")
    engine = make_engine(settings.effective_database_url)
    return OAuthSettings(
        client_id=client_id,
        client_secret=secret,
        scopes=[s.strip() for s in settings.slack_scopes.split(",") if s.strip()],
        installation_store=installation_store(client_id, settings.effective_database_url),
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_S, engine=engine),
        authorization_url=settings.slack_authorize_url,
    )


def bot_token(settings: Settings, team_id: str) -> str:
    """The bot token that posts to `team_id`: its installation's, or SLACK_BOT_TOKEN."""
    if not multi_workspace(settings):
        return settings.require("slack_bot_token", "posting to Slack")
    store = installation_store(str(settings.slack_client_id), settings.effective_database_url)
    bot = store.find_bot(enterprise_id=None, team_id=team_id)
    if bot is None or not bot.bot_token:
        raise MissingSetting(
            f"an installation for workspace {team_id}",
            "posting there (install sentibot through /slack/install)",
        )
    return bot.bot_token
