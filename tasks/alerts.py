"""Alert evaluation and digests, as Celery tasks over the domain steps."""

from __future__ import annotations

import logging
from datetime import timedelta

from slack_sdk.errors import SlackApiError

from sentibot.monitoring import alert_checks, digests
from bot.alert_messages import deliver
from bot.notify import UNDELIVERABLE
from sentibot.storage import alerts as aq
from sentibot.storage.models import DigestRun, utcnow
from tasks.analyze import RETRY_DB, _sessions, _slack, _upload, pace
from tasks.celery_app import app

log = logging.getLogger(__name__)

RUN_CLAIM_STALE = timedelta(minutes=5)


@app.task(name="sentibot.evaluate_alert", **RETRY_DB)
def evaluate_alert(rule_id: int) -> None:
    with _sessions().begin() as session:
        outcome = alert_checks.evaluate(session, rule_id, utcnow())
    if outcome is None:
        return
    try:
        deliver(_slack(outcome.team_id), outcome, _sessions(), pace=pace)
    except SlackApiError as exc:
        if exc.response.get("error") not in UNDELIVERABLE:
            raise
        # The bot left the channel (or was uninstalled): the rule's state stands, unsaid.
        log.warning("alert %s not delivered: %s", rule_id, exc.response.get("error"))
        return
    log.info("alert %s: %s (%s)", rule_id, outcome.action, outcome.value)


@app.task(name="sentibot.send_digest", **RETRY_DB)
def send_digest(run_id: int) -> None:
    with _sessions().begin() as session:
        run = aq.claim_digest_run(session, run_id, utcnow(), RUN_CLAIM_STALE)
        if run is None:
            return  # sent already, or being sent
        built = digests.build(session, run)
        team_id, channel = run.team_id, run.channel_id
    pace(channel)
    try:
        ts: str | None = _slack(team_id).chat_postMessage(
            channel=channel, text=built.text, blocks=built.blocks, unfurl_links=False
        )["ts"]
    except SlackApiError as exc:
        if exc.response.get("error") not in UNDELIVERABLE:
            raise  # retried: the run stays claimed until stale, then the dispatcher re-sends
        log.warning("digest run %s dropped: %s", run_id, exc.response.get("error"))
        ts = None
    with _sessions().begin() as session:
        run = session.get(DigestRun, run_id)
        run.sent_at, run.message_ts = utcnow(), ts
    for title, png in built.charts if ts else ():
        _upload(team_id, channel, ts, png, title)
    log.info("digest run %s sent to %s", run_id, channel)
