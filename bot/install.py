"""Multi-workspace installs: Slack's OAuth flow with slack-sdk's stores on sentibot's database.

With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set, sentibot serves `/slack/install` and
`/slack/oauth_redirect`, keeps each workspace's bot token in `slack_bots` (Alembic revision
0005 creates slack-sdk's tables), encrypted with SENTIBOT_SECRET_KEYS, and workers post with
the token of the job's workspace. An uninstall pauses the workspace; a reinstall resumes it.
Without them, SLACK_BOT_TOKEN serves one workspace.
"""

from __future__ import annotations

from copy import copy
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sentibot.config.settings import MissingSetting, Settings
from sentibot.secrets import Cipher
from sentibot.storage import workspaces
from sentibot.storage.session import make_engine

STATE_EXPIRATION_S = 600
# Pending installs kept at once: `/slack/install` answers anyone, and each visit stores a state
# (3,000 unauthenticated visits stored 3,000 rows, none ever deleted). Past this, the oldest go.
MAX_PENDING_STATES = 500


class BoundedStateStore(SQLAlchemyOAuthStateStore):
    """Slack SDK's state store, bounded: expired states are deleted as new ones are issued,
    and no more than MAX_PENDING_STATES live ones are kept (the oldest give way)."""

    def issue(self, *args: object, **kwargs: object) -> str:
        state = super().issue(*args, **kwargs)
        c = self.oauth_states.c
        now = normalize_datetime_for_db(datetime.now(UTC))
        with self.engine.begin() as conn:
            conn.execute(self.oauth_states.delete().where(c.expire_at <= now))
            newest = select(c.id).order_by(c.id.desc()).limit(MAX_PENDING_STATES).subquery()
            floor = conn.execute(select(func.min(newest.c.id))).scalar()
            if floor is not None:
                conn.execute(self.oauth_states.delete().where(c.id < floor))
        return state


def multi_workspace(settings: Settings) -> bool:
    return bool(settings.slack_client_id)


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack-sdk's store on sentibot's database, with every token encrypted before it is
    written and decrypted after it is read; a new install resumes a paused workspace."""

    def __init__(self, client_id: str, engine: Engine, cipher: Cipher) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.cipher = cipher

    def save(self, installation: Installation) -> None:
        stored = copy(installation)
        for name in ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"):
            setattr(stored, name, self.cipher.encrypt(getattr(installation, name)))
        super().save(stored)
        if installation.team_id:
            with Session(self.engine) as session, session.begin():
                workspaces.resume(session, installation.team_id, installation.team_name)

    def save_bot(self, bot: Bot) -> None:
        stored = copy(bot)
        stored.bot_token = self.cipher.encrypt(bot.bot_token)
        stored.bot_refresh_token = self.cipher.encrypt(bot.bot_refresh_token)
        super().save_bot(stored)

    def find_bot(self, **kwargs: Any) -> Bot | None:
        bot = super().find_bot(**kwargs)
        if bot is not None:
            bot.bot_token = self.cipher.decrypt(bot.bot_token)
            bot.bot_refresh_token = self.cipher.decrypt(bot.bot_refresh_token)
        return bot

    def find_installation(self, **kwargs: Any) -> Installation | None:
        found = super().find_installation(**kwargs)
        if found is not None:
            for name in ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"):
                setattr(found, name, self.cipher.decrypt(getattr(found, name)))
        return found


@lru_cache(maxsize=4)
def _installation_store(client_id: str, database_url: str, keys: str) -> EncryptedInstallationStore:
    return EncryptedInstallationStore(client_id, make_engine(database_url), Cipher(keys))


def installation_store(settings: Settings) -> EncryptedInstallationStore:
    client_id = settings.require("slack_client_id", "installing sentibot in workspaces")
    keys = settings.require("sentibot_secret_keys", "keeping workspaces' tokens encrypted")
    return _installation_store(client_id, settings.effective_database_url, keys)


def oauth_settings(settings: Settings) -> OAuthSettings:
    client_id = settings.require("slack_client_id", "installing sentibot in workspaces")
    secret = settings.require("slack_client_secret", "installing sentibot in workspaces")
    engine = make_engine(settings.effective_database_url)
    return OAuthSettings(
        client_id=client_id,
        client_secret=secret,
        scopes=[s.strip() for s in settings.slack_scopes.split(",") if s.strip()],
        installation_store=installation_store(settings),
        installation_store_bot_only=True,
        state_store=BoundedStateStore(expiration_seconds=STATE_EXPIRATION_S, engine=engine),
        authorization_url=settings.slack_authorize_url,
    )


def bot_token(settings: Settings, team_id: str) -> str:
    """The bot token that posts to `team_id`: its installation's, or SLACK_BOT_TOKEN."""
    if not multi_workspace(settings):
        return settings.require("slack_bot_token", "posting to Slack")
    bot = installation_store(settings).find_bot(enterprise_id=None, team_id=team_id)
    if bot is None or not bot.bot_token:
        raise MissingSetting(
            f"an installation for workspace {team_id}",
            "posting there (install sentibot through /slack/install)",
        )
    return bot.bot_token
