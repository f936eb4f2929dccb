"""The idempotency ledger of Slack messages: written before a post, given its ts after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from sentibot.storage.models import PostingRecord
from sentibot.storage.statements import dialect_insert, rows_changed


@dataclass(frozen=True)
class Attempt:
    """What the ledger knows before a post: the message, if one is recorded; otherwise whether
    an earlier attempt began (and may have posted) since `since`."""

    message_channel: str | None
    message_ts: str | None
    earlier_attempt: bool
    since: datetime


def begin(session: Session, key: str, team_id: str, channel_id: str, now: datetime) -> Attempt:
    inserted = session.execute(
        dialect_insert(session, PostingRecord.__table__)
        .values(key=key, team_id=team_id, channel_id=channel_id, attempts=1, started_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    if rows_changed(inserted) == 1:
        return Attempt(None, None, earlier_attempt=False, since=now)
    row = session.get(PostingRecord, key, populate_existing=True)
    assert row is not None  # the insert just conflicted with it
    if row.message_ts is None:
        session.execute(
            update(PostingRecord)
            .where(PostingRecord.key == key)
            .values(attempts=PostingRecord.attempts + 1)
        )
    return Attempt(row.message_channel, row.message_ts, earlier_attempt=True, since=row.started_at)


def record(session: Session, key: str, channel: str, ts: str) -> None:
    session.execute(
        update(PostingRecord)
        .where(PostingRecord.key == key)
        .values(message_channel=channel, message_ts=ts)
    )
