"""Alert rules and their history. Every read a user sees is scoped by team and channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sentibot.storage.models import (
    AlertEvent,
    AlertRule,
    AlertState,
    Watch,
)
from sentibot.storage.statements import compare_and_set, fair_due, rows_changed


def add_rule(
    session: Session, watch: Watch, *, user_id: str | None, now: datetime, **fields: object
) -> AlertRule:
    rule = AlertRule(
        team_id=watch.team_id,
        channel_id=watch.channel_id,
        watch_id=watch.id,
        topic=watch.topic,
        state=AlertState.OK,
        created_by=user_id,
        created_at=now,
        next_eval_at=now,
        **fields,
    )
    session.add(rule)
    session.flush()
    return rule


def has_rule(session: Session, watch_id: int, metric: str, op: str) -> bool:
    return (
        session.scalar(
            select(AlertRule.id).where(
                AlertRule.watch_id == watch_id, AlertRule.metric == metric, AlertRule.op == op
            )
        )
        is not None
    )


def set_rule(
    session: Session, watch: Watch, *, user_id: str | None, now: datetime, **fields: object
) -> tuple[AlertRule, bool]:
    """The watch's rule on (metric, op), created or given the new settings: the same command
    sent twice is one rule, not two. True when created."""
    rule = session.scalar(
        select(AlertRule).where(
            AlertRule.watch_id == watch.id,
            AlertRule.metric == fields["metric"],
            AlertRule.op == fields["op"],
        )
    )
    if rule is None:
        return add_rule(session, watch, user_id=user_id, now=now, **fields), True
    for name, value in fields.items():
        setattr(rule, name, value)
    rule.next_eval_at = now
    return rule, False


def channel_rules(session: Session, team_id: str, channel_id: str) -> list[AlertRule]:
    return list(
        session.scalars(
            select(AlertRule)
            .where(AlertRule.team_id == team_id, AlertRule.channel_id == channel_id)
            .order_by(AlertRule.id)
        )
    )


def team_rules(session: Session, team_id: str) -> list[AlertRule]:
    return list(
        session.scalars(
            select(AlertRule).where(AlertRule.team_id == team_id).order_by(AlertRule.id)
        )
    )


def rule_history(session: Session, rule_ids: Sequence[int], limit: int = 10) -> list[AlertEvent]:
    if not rule_ids:
        return []
    return list(
        session.scalars(
            select(AlertEvent)
            .where(AlertEvent.rule_id.in_(rule_ids))
            .order_by(AlertEvent.at.desc(), AlertEvent.id.desc())
            .limit(limit)
        )
    )


def add_event(
    session: Session, rule_id: int, kind: str, value: float | None, now: datetime, detail: str = ""
) -> None:
    session.add(AlertEvent(rule_id=rule_id, kind=kind, value=value, detail=detail or None, at=now))


def held_since(session: Session, rule_id: int, since: datetime) -> bool:
    """Whether the rule recorded a held-back firing since `since`."""
    found = session.scalar(
        select(AlertEvent.id)
        .where(AlertEvent.rule_id == rule_id, AlertEvent.kind == "held", AlertEvent.at >= since)
        .limit(1)
    )
    return found is not None


def claim_due_rules(
    session: Session, now: datetime, every: timedelta, limit: int = 200
) -> list[int]:
    """Rules due for evaluation, each claimed by moving its next evaluation `every` ahead with
    a compare-and-set: one evaluator per rule per period, however many dispatchers run."""
    due = session.execute(
        fair_due(
            [AlertRule.id, AlertRule.next_eval_at],
            AlertRule.team_id,
            AlertRule.next_eval_at,
            now,
            limit,
        )
    ).all()
    return [
        rule_id
        for rule_id, at in due
        if compare_and_set(session, AlertRule.next_eval_at, rule_id, at, next_eval_at=now + every)
    ]


def lock_rule(session: Session, rule_id: int) -> AlertRule | None:
    """The rule, locked for this transaction (PostgreSQL row lock; SQLite writes one at a time)."""
    return session.scalar(select(AlertRule).where(AlertRule.id == rule_id).with_for_update())


def mute_topic(
    session: Session, team_id: str, channel_id: str, topic: str, until: datetime | None
) -> bool:
    done = session.execute(
        update(Watch)
        .where(Watch.team_id == team_id, Watch.channel_id == channel_id, Watch.topic == topic)
        .values(muted_until=until)
    )
    return rows_changed(done) > 0


def set_message_ts(session: Session, rule_id: int, ts: str) -> None:
    """The firing's message, so later updates edit it instead of posting again."""
    session.execute(update(AlertRule).where(AlertRule.id == rule_id).values(message_ts=ts))
