"""What `/sentiment list`, `/sentiment alerts` and App Home show, as plain data: each watch with
its sources' health, each alert rule with its state, the history, and the digest schedules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sentibot.storage import alerts as alert_store
from sentibot.storage import backfills as backfill_store
from sentibot.storage import digests as digest_store
from sentibot.storage import watches as watch_store
from sentibot.storage.models import AlertRule, AlertState, Backfill, SourceHealth, Watch


@dataclass(frozen=True)
class SourceStatus:
    source: str
    health: str  # a SourceHealth, or "pending" before the source's first run
    last_error: str | None


@dataclass(frozen=True)
class BackfillStatus:
    source: str
    state: str  # a BackfillState
    since: datetime
    posts: int
    estimate: int | None
    reason: str | None

    @classmethod
    def of(cls, row: Backfill) -> BackfillStatus:
        return cls(row.source, row.state, row.since, row.posts, row.estimate, row.reason)


@dataclass(frozen=True)
class WatchStatus:
    channel_id: str
    topic: str
    every_s: int
    next_run_at: datetime
    posts_24h: int
    sources: Sequence[SourceStatus]
    backfills: Sequence[BackfillStatus] = ()


@dataclass(frozen=True)
class RuleStatus:
    id: int
    channel_id: str
    topic: str
    metric: str
    op: str
    threshold: float
    state: AlertState
    value: float | None
    snoozed_until: datetime | None


@dataclass(frozen=True)
class RuleEvent:
    rule_id: int
    at: datetime
    kind: str
    value: float | None
    detail: str | None = None


@dataclass(frozen=True)
class DigestSchedule:
    channel_id: str
    weekday: int | None  # None: daily
    local_time: str
    tz: str
    next_due_at: datetime


PENDING = "pending"


def watch_statuses(session: Session, watches: Sequence[Watch], now: datetime) -> list[WatchStatus]:
    counts = watch_store.watch_post_counts(
        session, [w.id for w in watches], now - timedelta(hours=24)
    )
    history = backfill_store.of_watches(session, [w.id for w in watches])
    out = []
    for w in watches:
        states = watch_store.source_states(session, w.id)
        out.append(
            WatchStatus(
                channel_id=w.channel_id,
                topic=w.topic,
                every_s=w.interval_s,
                next_run_at=w.next_run_at,
                posts_24h=counts.get(w.id, 0),
                sources=[
                    SourceStatus(name, SourceHealth(states[name].health), states[name].last_error)
                    if name in states
                    else SourceStatus(name, PENDING, None)
                    for name in w.sources
                ],
                backfills=[BackfillStatus.of(r) for r in history.get(w.id, [])],
            )
        )
    return out


def _rule(r: AlertRule) -> RuleStatus:
    return RuleStatus(
        r.id,
        r.channel_id,
        r.topic,
        r.metric,
        r.op,
        r.threshold,
        AlertState(r.state),
        r.value,
        r.snoozed_until,
    )


def channel_rules(session: Session, team_id: str, channel_id: str) -> list[RuleStatus]:
    return [_rule(r) for r in alert_store.channel_rules(session, team_id, channel_id)]


def team_rules(session: Session, team_id: str) -> list[RuleStatus]:
    return [_rule(r) for r in alert_store.team_rules(session, team_id)]


def rule_history(session: Session, rule_ids: Sequence[int]) -> list[RuleEvent]:
    return [
        RuleEvent(e.rule_id, e.at, e.kind, e.value, e.detail)
        for e in alert_store.rule_history(session, rule_ids)
    ]


def team_digests(session: Session, team_id: str) -> list[DigestSchedule]:
    return [
        DigestSchedule(d.channel_id, d.weekday, d.local_time, d.tz, d.next_due_at)
        for d in digest_store.team_digests(session, team_id)
    ]
