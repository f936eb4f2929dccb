"""Per-workspace, per-channel and per-user limits. Each check answers None (go ahead) or the
refusal to show the person: what the limit is, and which setting changes it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sentibot.config.settings import Settings
from sentibot.storage.models import AlertRule, Watch


@dataclass(frozen=True)
class Quotas:
    watches_per_channel: int
    watches_per_workspace: int
    min_every_s: int
    analyses_per_user_per_minute: int
    max_limit: int
    alert_rules_per_channel: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Quotas:
        return cls(
            watches_per_channel=settings.quota_watches_per_channel,
            watches_per_workspace=settings.quota_watches_per_workspace,
            min_every_s=settings.quota_min_every_s,
            analyses_per_user_per_minute=settings.quota_analyses_per_user_per_minute,
            max_limit=settings.quota_max_limit,
            alert_rules_per_channel=settings.quota_alert_rules_per_channel,
        )


_RAISE = "whoever runs sentibot can change it with {}"


def _count(session: Session, stmt) -> int:
    return int(session.scalar(stmt) or 0)


def watch_refusal(
    session: Session, quotas: Quotas, team_id: str, channel_id: str, topic: str, every_s: int
) -> str | None:
    """A new watch (or a changed one) in `channel_id`; an existing watch's topic never counts
    twice."""
    if every_s < quotas.min_every_s:
        return (
            f"Watches here run at most every {_duration(quotas.min_every_s)}; "
            + _RAISE.format("QUOTA_MIN_EVERY_S")
            + "."
        )
    exists = session.scalar(
        select(Watch.id).where(
            Watch.team_id == team_id, Watch.channel_id == channel_id, Watch.topic == topic
        )
    )
    if exists is not None:
        return None
    in_channel = _count(
        session,
        select(func.count(Watch.id)).where(
            Watch.team_id == team_id, Watch.channel_id == channel_id
        ),
    )
    if in_channel >= quotas.watches_per_channel:
        return (
            f"This channel already has {in_channel} watches, the most it may have: remove one "
            "with `/sentiment unwatch <topic>` first ("
            + _RAISE.format("QUOTA_WATCHES_PER_CHANNEL")
            + ")."
        )
    in_team = _count(session, select(func.count(Watch.id)).where(Watch.team_id == team_id))
    if in_team >= quotas.watches_per_workspace:
        return (
            f"This workspace already has {in_team} watches, the most it may have: remove one "
            "with `/sentiment unwatch <topic>` first ("
            + _RAISE.format("QUOTA_WATCHES_PER_WORKSPACE")
            + ")."
        )
    return None


def limit_refusal(quotas: Quotas, limit: int | None) -> str | None:
    if limit is not None and limit > quotas.max_limit:
        return (
            f"`--limit` may be at most {quotas.max_limit} posts per source; "
            + _RAISE.format("QUOTA_MAX_LIMIT")
            + "."
        )
    return None


def rate_refusal(quotas: Quotas) -> str:
    """What a person hears when storage.jobs.admit_job refused their analysis."""
    return (
        f"You have started {quotas.analyses_per_user_per_minute} analyses in the last minute, "
        "the most allowed; try again in a minute ("
        + _RAISE.format("QUOTA_ANALYSES_PER_USER_PER_MINUTE")
        + ")."
    )


def alert_refusal(session: Session, quotas: Quotas, team_id: str, channel_id: str) -> str | None:
    """A new alert rule in `channel_id` (an update of an existing one is always allowed)."""
    rules = _count(
        session,
        select(func.count(AlertRule.id)).where(
            AlertRule.team_id == team_id, AlertRule.channel_id == channel_id
        ),
    )
    if rules >= quotas.alert_rules_per_channel:
        return (
            f"This channel already has {rules} alert rules, the most it may have ("
            + _RAISE.format("QUOTA_ALERT_RULES_PER_CHANNEL")
            + ")."
        )
    return None


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
