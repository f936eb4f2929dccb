"""Alert evaluation: the rule is decided in the core, delivered by the bot, its ts stored here."""

from __future__ import annotations

import logging

from bot.delivery import Posted, Undeliverable
from scoring.embed import embed
from sentibot.monitoring import alert_checks, webhook_events
from sentibot.monitoring.alert_rules import AlertAction
from sentibot.storage import alerts as alert_store
from sentibot.storage.models import utcnow
from tasks.celery_app import app
from tasks.runtime import RETRY_DB, begin_post, delivery, end_post, sessions
from tasks.webhooks import send_deliveries

log = logging.getLogger(__name__)


@app.task(name="sentibot.evaluate_alert", **RETRY_DB)
def evaluate_alert(rule_id: int) -> None:
    with sessions().begin() as session:
        outcome = alert_checks.evaluate(session, rule_id, utcnow(), embed)
        hooks = webhook_events.record_alert(session, outcome, utcnow())
    send_deliveries(hooks)
    if outcome is None:
        return
    new_message = outcome.action in (AlertAction.FIRE, AlertAction.REPOST)
    recorded, since = (
        begin_post(outcome.team_id, outcome.message_key, outcome.channel_id)
        if new_message
        else (None, None)
    )
    try:
        ts = delivery(outcome.team_id).alert(outcome, recorded=recorded, maybe_posted_since=since)
    except Undeliverable as exc:
        # The bot left the channel (or was uninstalled): the rule's state stands, unsaid.
        log.warning("alert %s not delivered: %s", rule_id, exc.error)
        return
    if ts is not None:
        end_post(outcome.message_key, Posted(outcome.channel_id, ts))
        with sessions().begin() as session:
            alert_store.set_message_ts(session, rule_id, ts)
    log.info("alert %s: %s (%s)", rule_id, outcome.action, outcome.value)
