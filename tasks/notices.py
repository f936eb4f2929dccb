"""Channel notices about a watch's sources, sent once from the notice outbox."""

from __future__ import annotations

import logging
from datetime import timedelta

from sentibot.storage import notices as notice_store
from sentibot.storage.models import Notice, utcnow
from sentibot.storage.statements import row as stored
from tasks.celery_app import app
from tasks.runtime import MAX_SENDS, RETRY_DB, publish_or_drop, sessions

log = logging.getLogger(__name__)

# A notice claimed this long ago and still unsent lost its worker: another may send it.
NOTICE_CLAIM_STALE = timedelta(minutes=5)


@app.task(name="sentibot.send_notice", **RETRY_DB)
def send_notice(notice_id: int) -> None:
    with sessions().begin() as session:
        notice = notice_store.claim_notice(session, notice_id, utcnow(), NOTICE_CLAIM_STALE)
        if notice is None:
            return  # sent already, or another worker is sending it
        if notice.attempts > MAX_SENDS:
            notice.sent_at = utcnow()
            log.error(
                "notice %s to %s given up after %s attempts (see the earlier errors)",
                notice_id,
                notice.channel_id,
                MAX_SENDS,
            )
            return
        channel, text, team_id = notice.channel_id, notice.text, notice.team_id
        blocks = notice.blocks or [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    ts = publish_or_drop(team_id, f"notice:{notice_id}", channel=channel, text=text, blocks=blocks)
    with sessions().begin() as session:
        notice = stored(session, Notice, notice_id)
        notice.sent_at, notice.message_ts = utcnow(), ts
