"""`/sentiment webhook add|list|remove`: workspace admins point alerts and digests at a URL."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.grammar import Webhook
from bot.views import webhooks as views
from sentibot import webhook_target
from sentibot.config.settings import Settings
from sentibot.secrets import optional_cipher
from sentibot.storage import webhooks as webhook_store
from sentibot.storage.models import utcnow
from sentibot.storage.workspaces import lock_workspace
from sentibot.webhook_signing import new_secret

log = logging.getLogger(__name__)


def url_problem(url: str, private_hosts: frozenset[str] = frozenset()) -> str | None:
    """Why `url` cannot be a webhook, or None (its addresses are checked again, resolved, at
    every delivery: sentibot/webhook_target.py)."""
    try:
        webhook_target.parse(url, private_hosts)
    except webhook_target.Refused as exc:
        return str(exc)
    return None


def is_admin(client: WebClient, user_id: str) -> bool:
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
        return False
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


def manage_webhooks(
    cmd: Webhook,
    command: dict,
    settings: Settings,
    sessions: sessionmaker[Session],
    client: WebClient,
) -> str:
    team_id, user_id = command["team_id"], command.get("user_id") or ""
    admin = is_admin(client, user_id)
    if cmd.action != "list" and not admin:
        return views.admins_only()
    now = utcnow()
    with sessions.begin() as session:
        if cmd.action == "list":
            hooks = webhook_store.team_webhooks(session, team_id)
            log_rows = webhook_store.recent_deliveries(session, [h.id for h in hooks])
            return views.webhook_list(hooks, log_rows, now, full_urls=admin)
        if cmd.action == "remove":
            removed = webhook_store.remove_webhook(session, team_id, cmd.webhook_id or 0)
            return views.webhook_removed(cmd.webhook_id or 0, removed)
        problem = url_problem(cmd.url, settings.webhook_private)
        if problem:
            return views.url_refused(cmd.url, problem)
        # The workspace's row, held: the count and the insert, one at a time (nothing read yet).
        lock_workspace(session, team_id)
        if len(webhook_store.team_webhooks(session, team_id)) >= (
            settings.quota_webhooks_per_workspace
        ):
            return views.too_many(settings.quota_webhooks_per_workspace)
        secret = new_secret()
        cipher = optional_cipher(settings)
        hook = webhook_store.add_webhook(
            session, team_id, cmd.url, cipher.encrypt(secret) if cipher else secret, user_id, now
        )
        return views.webhook_added(hook.id, cmd.url, secret)
