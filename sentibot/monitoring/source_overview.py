"""What `/sentiment sources` shows: every source, whether it is configured (and which setting
turns it on), what it said is left of its allowance, and its health in this channel."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentibot.config.settings import Settings
from sentibot.sources import SourceSkipped, build_collectors, sources
from sentibot.storage import x_usage
from sentibot.storage.models import Job, SourceState, Watch

HEALTH_ORDER = {"ok": 0, "silent": 1, "failing": 2}


@dataclass(frozen=True)
class SourceLine:
    name: str
    display: str
    configured: bool
    needs: str  # what turns it on (or raises its limits)
    reason: str | None  # why it is not configured
    quota: str | None  # what is left today, as the source last said
    health: str | None  # worst health of this channel's watches on it; None: not watched
    last_error: str | None


def source_lines(
    session: Session, settings: Settings, team_id: str, channels: Collection[str], now: datetime
) -> list[SourceLine]:
    """Every source; health is the worst among the watches of `channels` (the one a command
    came from, or those an App Home viewer is in)."""
    built = build_collectors(settings, list(sources()))
    quotas = _last_quotas(session, team_id, now)
    if settings.x_daily_post_cap:
        read = x_usage.x_read_today(session, team_id, now)
        left = max(0, settings.x_daily_post_cap - read)
        quotas["x"] = f"{left:,} of {settings.x_daily_post_cap:,} posts left today"
    health = _channel_health(session, team_id, channels)
    lines = []
    for name, spec in sources().items():
        collector = built[name]
        skipped = isinstance(collector, SourceSkipped)
        state = health.get(name)
        lines.append(
            SourceLine(
                name=name,
                display=spec.display,
                configured=not skipped,
                needs=spec.needs,
                reason=collector.reason if isinstance(collector, SourceSkipped) else None,
                quota=quotas.get(name),
                health=state[0] if state else None,
                last_error=state[1] if state else None,
            )
        )
    return lines


def _last_quotas(session: Session, team_id: str, now: datetime) -> dict[str, str]:
    """Each source's quota as its latest report in this workspace today gave it."""
    since = now - timedelta(days=1)
    rows = session.scalars(
        select(Job.source_reports)
        .where(Job.team_id == team_id, Job.created_at > since)
        .order_by(Job.id.desc())
        .limit(50)
    )
    found: dict[str, str] = {}
    for reports in rows:
        for name, report in (reports or {}).items():
            if isinstance(report, dict) and report.get("quota") and name not in found:
                found[name] = str(report["quota"])
    return found


def _channel_health(
    session: Session, team_id: str, channels: Collection[str]
) -> dict[str, tuple[str, str | None]]:
    if not channels:
        return {}
    rows = session.execute(
        select(SourceState.source, SourceState.health, SourceState.last_error)
        .join(Watch, Watch.id == SourceState.watch_id)
        .where(Watch.team_id == team_id, Watch.channel_id.in_(list(channels)))
    )
    worst: dict[str, tuple[str, str | None]] = {}
    for source, health, error in rows:
        known = worst.get(source)
        if known is None or HEALTH_ORDER.get(health, 0) > HEALTH_ORDER.get(known[0], 0):
            worst[source] = (health, error)
    return worst
