"""Starting (or changing) a watch: the one rule the slash command, the Watch button and an
alert on an unwatched topic share. The quota is counted and the row written under the
workspace's lock; a new watch plans its backfill."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from sentibot.monitoring import backfills, quotas
from sentibot.monitoring.quotas import Quotas
from sentibot.storage import watches as watch_store
from sentibot.storage.models import Watch
from sentibot.storage.workspaces import lock_workspace


@dataclass(frozen=True)
class Started:
    watch: Watch
    created: bool
    every_s: int  # as stored: what the person is told
    back_s: int  # how far back its backfill reads; 0 when none was planned


def start_watch(
    session: Session,
    limits: Quotas,
    *,
    team_id: str,
    channel_id: str,
    topic: str,
    sources: Sequence[str],
    every_s: int,
    model: str,
    user_id: str | None,
    now: datetime,
    default_backfill_s: int,
    backfill_s: int | None = None,
    also: Callable[[], str | None] | None = None,
) -> Started | str:
    """The watch as started, or why not (a refusal to show). A new watch reads back
    `default_backfill_s` unless `backfill_s` says otherwise; an existing one only when asked
    (its sources not read back before). `also` is one more check under the same lock (an
    alert's own quota)."""
    lock_workspace(session, team_id)  # the count and the insert, one at a time
    refusal = quotas.watch_refusal(session, limits, team_id, channel_id, topic, every_s)
    if refusal is None and also is not None:
        refusal = also()
    if refusal is not None:
        return refusal
    watch, created = watch_store.upsert_watch(
        session,
        team_id=team_id,
        channel_id=channel_id,
        topic=topic,
        sources=list(sources),
        every_s=every_s,
        model=model,
        user_id=user_id,
        now=now,
    )
    back_s = default_backfill_s if backfill_s is None else backfill_s
    asked = created or backfill_s is not None
    planned = backfills.plan(session, watch, back_s, now) if asked else []
    return Started(watch, created, watch.interval_s, back_s if planned else 0)
