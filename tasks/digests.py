"""Channel digests: a claimed run is built in the core, rendered and delivered by the bot."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.views.digest import digest_charts, render_digest
from scoring.embed import embed
from sentibot.monitoring import digests, webhook_events
from sentibot.storage import digests as digest_store
from sentibot.storage.models import DigestRun, utcnow
from sentibot.storage.statements import row as stored
from tasks.celery_app import app
from tasks.runtime import MAX_SENDS, RETRY_DB, delivery, publish_once, publish_or_drop, sessions
from tasks.webhooks import send_deliveries

log = logging.getLogger(__name__)

# A run claimed this long ago and still unsent lost its worker: another may send it.
RUN_CLAIM_STALE = timedelta(minutes=5)


@app.task(name="sentibot.send_digest", **RETRY_DB)
def send_digest(run_id: int) -> None:
    with sessions().begin() as session:
        run = digest_store.claim_digest_run(session, run_id, utcnow(), RUN_CLAIM_STALE)
        if run is None:
            return  # sent already, or being sent
        team_id, channel, given_up = run.team_id, run.channel_id, run.attempts > MAX_SENDS
        if given_up:
            run.sent_at = utcnow()
        else:
            content = digests.build(session, run, embed)
            hooks = webhook_events.record_digest(
                session, run_id, team_id, channel, content, utcnow()
            )
    if given_up:
        _give_up(run_id, team_id, channel)
        return
    send_deliveries(hooks)
    text, blocks = render_digest(content)
    # A failure other than Slack refusing for good is retried: the run stays claimed until
    # stale, then re-sent.
    ts = publish_or_drop(team_id, f"digest-run:{run_id}", channel=channel, text=text, blocks=blocks)
    with sessions().begin() as session:
        run = stored(session, DigestRun, run_id)
        run.sent_at, run.message_ts = utcnow(), ts
    if ts:
        for title, png in digest_charts(content):
            delivery(team_id).upload(channel, ts, png, title)
    log.info("digest run %s sent to %s", run_id, channel)


def _give_up(run_id: int, team_id: str, channel: str) -> None:
    """The digest failed MAX_SENDS times: the channel hears that it is missing, the operator why."""
    log.error("digest run %s to %s given up after %s attempts", run_id, channel, MAX_SENDS)
    text = (
        f"This period's digest could not be sent after {MAX_SENDS} attempts; the next one is "
        "on schedule. (An operator can find why in the worker logs: digest run "
        f"{run_id}.)"
    )
    try:
        publish_once(
            team_id,
            f"digest-run:{run_id}:given-up",
            channel=channel,
            text=text,
            blocks=[{"type": "section", "text": {"type": "plain_text", "text": text}}],
        )
    except Exception:
        log.exception("digest run %s: the channel could not be told either", run_id)
