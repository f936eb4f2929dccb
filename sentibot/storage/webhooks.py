"""Webhooks and their delivery outbox: an event becomes one row per webhook of its workspace,
in the transaction that decided it, and the row is sent until it is delivered or given up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.orm import Session

from sentibot.storage.models import Webhook, WebhookDelivery, Workspace
from sentibot.storage.statements import dialect_insert, rows_changed
from sentibot.storage.statements import row as stored

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def add_webhook(
    session: Session, team_id: str, url: str, secret: str, user_id: str | None, now: datetime
) -> Webhook:
    hook = Webhook(team_id=team_id, url=url, secret=secret, created_by=user_id, created_at=now)
    session.add(hook)
    session.flush()
    return hook


def team_webhooks(session: Session, team_id: str) -> list[Webhook]:
    return list(session.scalars(select(Webhook).where(Webhook.team_id == team_id)))


def remove_webhook(session: Session, team_id: str, webhook_id: int) -> bool:
    done = session.execute(
        delete(Webhook).where(Webhook.team_id == team_id, Webhook.id == webhook_id)
    )
    return rows_changed(done) == 1


def workspace_paused(session: Session, team_id: str) -> bool:
    """Whether the workspace uninstalled sentibot (its deliveries stop)."""
    paused = session.scalar(select(Workspace.paused_at).where(Workspace.team_id == team_id))
    return paused is not None


def record_event(
    session: Session, team_id: str, event_id: str, kind: str, body: str, now: datetime
) -> list[int]:
    """One pending delivery per webhook of the workspace; an event recorded again (a retried
    task) adds nothing. Returns the ids of the deliveries it added."""
    added = []
    for hook_id in session.scalars(select(Webhook.id).where(Webhook.team_id == team_id)):
        row = session.execute(
            dialect_insert(session, WebhookDelivery.__table__)
            .values(
                webhook_id=hook_id,
                event_id=event_id,
                kind=kind,
                body=body,
                state=PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["webhook_id", "event_id"])
            .returning(WebhookDelivery.__table__.c.id)
        ).scalar()
        if row is not None:
            added.append(row)
    return added


def _claimable(now: datetime, stale: timedelta) -> ColumnElement[bool]:
    """Pending, due, and held by no live attempt."""
    return and_(
        WebhookDelivery.state == PENDING,
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.claimed_at.is_(None), WebhookDelivery.claimed_at < now - stale),
    )


def claim(
    session: Session, delivery_id: int, now: datetime, stale: timedelta
) -> tuple[WebhookDelivery, Webhook] | None:
    """The delivery and its webhook if it is due and no live attempt holds it; claimed."""
    done = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, _claimable(now, stale))
        .values(claimed_at=now, attempts=WebhookDelivery.attempts + 1)
    )
    if rows_changed(done) != 1:
        return None
    delivery = stored(session, WebhookDelivery, delivery_id)
    return delivery, stored(session, Webhook, delivery.webhook_id)


def due(session: Session, now: datetime, stale: timedelta, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(_claimable(now, stale))
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
    )


def recent_deliveries(
    session: Session, webhook_ids: Sequence[int], limit: int = 10
) -> list[WebhookDelivery]:
    if not webhook_ids:
        return []
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id.in_(webhook_ids))
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
