"""What a webhook hears: alert firings and resolutions, and digests, as versioned JSON.

Each event has an id that stays the same however often it is recorded or sent, so a receiver
can act on it once: `alert.fired:{rule}:{fired at}`, `alert.resolved:{rule}:{fired at}`,
`digest:{run}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from sentibot.monitoring.alert_checks import Outcome
from sentibot.monitoring.alert_rules import AlertAction
from sentibot.monitoring.digests import DigestContent
from sentibot.report.aggregate import Breakdown
from sentibot.storage import webhooks as webhook_store

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    body: str  # JSON, as signed and sent


def _breakdown(b: Breakdown) -> dict[str, object]:
    return {
        "posts": b.count,
        "mean_compound": round(b.mean_compound, 4),
        "negative_share": round(b.negative_share, 4),
        "neutral_share": round(b.neutral_share, 4),
        "positive_share": round(b.positive_share, 4),
        "shares_ci95": b.shares.as_dict(),
    }


def _event(event_id: str, kind: str, team_id: str, channel_id: str, now: datetime, **data) -> Event:
    body = {
        "id": event_id,
        "type": kind,
        "version": SCHEMA_VERSION,
        "team_id": team_id,
        "channel_id": channel_id,
        "created_at": now.isoformat(),
        **data,
    }
    return Event(event_id, kind, json.dumps(body, ensure_ascii=False, sort_keys=True))


def alert_event(outcome: Outcome, now: datetime) -> Event | None:
    """Firings and resolutions are events; updates of a firing alert's value are not."""
    kinds = {AlertAction.FIRE: "alert.fired", AlertAction.RESOLVE: "alert.resolved"}
    kind = kinds.get(outcome.action)
    if kind is None:
        return None
    fired = int(outcome.fired_at.timestamp()) if outcome.fired_at else 0
    r = outcome.report
    return _event(
        f"{kind}:{outcome.rule_id}:{fired}",
        kind,
        outcome.team_id,
        outcome.channel_id,
        now,
        alert={
            "rule_id": outcome.rule_id,
            "topic": r.topic,
            "metric": r.metric,
            "op": r.op,
            "threshold": r.threshold,
            "value": r.value,
            "window_s": r.window_s,
            "state": str(r.state),
            "fired_at": outcome.fired_at.isoformat() if outcome.fired_at else None,
            "note": r.note,
            "window": _breakdown(r.split),
            "change": r.moved.as_dict() if r.moved else None,
            "movers": [m.as_dict() for m in r.moved.movers] if r.moved else [],
            "themes": [t.as_dict() for t in r.themes],
        },
    )


def digest_event(
    run_id: int, team_id: str, channel_id: str, content: DigestContent, now: datetime
) -> Event:
    return _event(
        f"digest:{run_id}",
        "digest",
        team_id,
        channel_id,
        now,
        digest={
            "cadence": content.cadence,
            "tz": content.tz,
            "period_start": content.start.isoformat(),
            "period_end": content.end.isoformat(),
            "late": content.late,
            "omitted_topics": content.omitted,
            "topics": [
                {
                    "topic": t.topic,
                    "current": _breakdown(t.current),
                    "previous": _breakdown(t.previous),
                    "grown_themes": [g.as_dict() for g in t.grown],
                    "change": t.moved.as_dict() if t.moved else None,
                    "movers": [m.as_dict() for m in t.moved.movers] if t.moved else [],
                }
                for t in content.topics
            ],
        },
    )


def record_alert(session: Session, outcome: Outcome | None, now: datetime) -> list[int]:
    """A firing or resolution goes to the workspace's webhooks in the transaction that decided
    it: committed together, or neither. Returns the deliveries added."""
    event = alert_event(outcome, now) if outcome is not None else None
    if outcome is None or event is None:
        return []
    return webhook_store.record_event(
        session, outcome.team_id, event.id, event.kind, event.body, now
    )


def record_digest(
    session: Session,
    run_id: int,
    team_id: str,
    channel_id: str,
    content: DigestContent,
    now: datetime,
) -> list[int]:
    event = digest_event(run_id, team_id, channel_id, content, now)
    return webhook_store.record_event(session, team_id, event.id, event.kind, event.body, now)
