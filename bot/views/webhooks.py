"""Replies to `/sentiment webhook …` (ephemeral: the signing secret is shown once, to its admin)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.views.mrkdwn import escape
from sentibot.storage.models import Webhook, WebhookDelivery
from sentibot.webhook_target import shown


def admins_only() -> str:
    return (
        "Only a workspace admin or owner can add or remove webhooks. "
        "`/sentiment webhook list` shows them."
    )


def url_refused(url: str, why: str) -> str:
    return f"I can't send to `{escape(shown(url))}`: {why}."


def too_many(limit: int) -> str:
    return f"This workspace has {limit} webhooks already, the most it may have; remove one first."


def webhook_added(webhook_id: int, url: str, secret: str) -> str:
    return (
        f"Webhook {webhook_id} added: every alert firing and resolution, and every digest, of "
        f"this workspace goes to `{escape(url)}` as JSON.\n"
        f"Its signing secret (shown only now): `{secret}`\n"
        "Each request carries `X-Sentibot-Request-Timestamp`, `X-Sentibot-Event-Id` and "
        "`X-Sentibot-Signature: v2=<hex HMAC-SHA256 of v2:{timestamp}:{event id}:{body}>`, "
        "and the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, "
        "`webhook-signature`); refuse a timestamp older than 5 minutes, and act once per event "
        "id (a retry repeats it)."
    )


def webhook_removed(webhook_id: int, removed: bool) -> str:
    return (
        f"Webhook {webhook_id} removed."
        if removed
        else f"This workspace has no webhook {webhook_id}."
    )


def webhook_list(
    hooks: Sequence[Webhook],
    deliveries: Sequence[WebhookDelivery],
    now: datetime,
    full_urls: bool = False,
) -> str:
    """The webhooks and their latest deliveries; a URL's path and query (where receivers keep
    their secrets) only for an admin."""
    if not hooks:
        return (
            "This workspace has no webhooks. "
            "An admin adds one with `/sentiment webhook add <https URL>`."
        )
    lines = ["*Webhooks*"]
    for h in hooks:
        url = h.url if full_urls else shown(h.url)
        lines.append(f"• {h.id}: `{escape(url)}` (added by <@{h.created_by}>)")
    if deliveries:
        lines.append("*Latest deliveries*")
    for d in deliveries:
        outcome = {
            "delivered": f"delivered after {d.attempts} attempt{'s' if d.attempts != 1 else ''}",
            "failed": f"given up after {d.attempts} attempts",
        }.get(d.state, f"pending, attempt {d.attempts + 1} at {d.next_attempt_at:%H:%M:%S} UTC")
        error = ""
        if d.last_error and d.state != "delivered":
            error = f" (last: {escape(d.last_error[:80])})"
        lines.append(
            f"• webhook {d.webhook_id} · `{escape(d.event_id)}` · "
            f"{d.created_at:%Y-%m-%d %H:%M} UTC · {outcome}{error}"
        )
    return "\n".join(lines)
