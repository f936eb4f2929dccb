"""One alert rule's evaluation, as a plain function over a session (the task posts the result).

The rule row is locked while it is decided, so two workers never both fire it; the decision and
its history event commit together, and the Slack side follows (see tasks/alerts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sentibot.monitoring import alert_rules
from bot.views.alerts import SNOOZE_S, render_alert
from scoring.aggregate import ScoredText, breakdown, contrast, drivers, top_posts
from sentibot.storage import alerts as aq
from sentibot.storage import watches as wq
from sentibot.storage.models import AlertRule, AlertState, Watch


@dataclass(frozen=True)
class Outcome:
    action: str  # "fire", "update", "resolve", or "repost" (a firing whose message was lost)
    rule_id: int
    team_id: str
    channel_id: str
    message_ts: str | None
    text: str
    blocks: list[dict]
    metric: str
    value: float | None


def measure(
    session: Session, rule: AlertRule, watch: Watch, now: datetime
) -> tuple[alert_rules.Measure, list]:
    window = timedelta(seconds=rule.window_s)
    posts = aq.window_posts(session, watch, now - window, now)
    if rule.metric == "sentiment":
        return alert_rules.sentiment_value(
            [p.sentiment.compound for p in posts], rule.min_posts
        ), posts
    if rule.metric == "negative":
        return alert_rules.negative_value([p.sentiment.label for p in posts], rule.min_posts), posts
    same_hour, trailing = alert_rules.baseline_windows(now, window)
    result = alert_rules.volume_value(
        len(posts),
        aq.window_counts(session, watch, same_hour),
        aq.window_counts(session, watch, trailing),
        rule.min_posts,
    )
    return result, posts


def _explain(session: Session, rule: AlertRule, watch: Watch, posts: list, now: datetime):  # noqa: ANN202
    texts = [ScoredText(p.text, p.sentiment, p.engagement, p.url, p.source) for p in posts]
    split = breakdown(p.sentiment for p in posts)
    if rule.metric == "volume":
        window = timedelta(seconds=rule.window_s)
        before = aq.window_posts(session, watch, now - window * 13, now - window)
        found = contrast([p.text for p in posts], [p.text for p in before], rule.topic, n=6)
        chosen = sorted(texts, key=lambda p: p.engagement, reverse=True)[:3]
    else:
        label = "negative" if rule.metric == "negative" or rule.op == "<" else "positive"
        found = drivers(texts, label, rule.topic, n=6)
        chosen = top_posts(texts, label, n=3)
    return split, found, chosen


def _render(
    session: Session, rule: AlertRule, watch: Watch, posts: list, now: datetime, note: str = ""
) -> tuple[str, list[dict]]:
    split, found, chosen = _explain(session, rule, watch, posts, now)
    return render_alert(
        rule_id=rule.id,
        topic=rule.topic,
        metric=rule.metric,
        op=rule.op,
        threshold=rule.threshold,
        value=rule.value if rule.value is not None else 0.0,
        window_s=rule.window_s,
        split=split,
        drivers=found,
        posts=chosen,
        state=rule.state,
        note=note,
    )


def _outcome(rule: AlertRule, action: str, text: str, blocks: list[dict]) -> Outcome:
    return Outcome(
        action,
        rule.id,
        rule.team_id,
        rule.channel_id,
        rule.message_ts,
        text,
        blocks,
        rule.metric,
        rule.value,
    )


def act_on(
    session: Session, rule_id: int, team_id: str, action: str, user_id: str, now: datetime
) -> Outcome | None:
    """A person pressed Snooze 4h or Resolve on the alert message (its team only)."""
    rule = aq.lock_rule(session, rule_id)
    if rule is None or rule.team_id != team_id:
        return None
    watch = wq.get_watch(session, rule.watch_id)
    if watch is None:
        return None
    if action == "snooze":
        rule.snoozed_until = now + timedelta(seconds=SNOOZE_S)
        aq.add_event(session, rule.id, "snoozed", rule.value, now, f"by {user_id}")
        note = f"Snoozed for 4 h by {user_id}: no updates until {rule.snoozed_until:%H:%M} UTC."
    else:
        if rule.state != AlertState.FIRING:
            return None
        rule.state, rule.resolved_at = AlertState.OK, now
        aq.add_event(session, rule.id, "resolved", rule.value, now, f"by {user_id}")
        note = f"Resolved by {user_id}."
    posts = aq.window_posts(session, watch, now - timedelta(seconds=rule.window_s), now)
    text, blocks = _render(session, rule, watch, posts, now, note)
    return _outcome(rule, "resolve" if action == "resolve" else "update", text, blocks)


def evaluate(session: Session, rule_id: int, now: datetime) -> Outcome | None:
    """Decide what happens to the rule now; None when nothing does (or it is muted/snoozed)."""
    rule = aq.lock_rule(session, rule_id)
    if rule is None:
        return None
    watch = wq.get_watch(session, rule.watch_id)
    if watch is None:
        return None
    if (watch.muted_until and watch.muted_until > now) or (
        rule.snoozed_until and rule.snoozed_until > now
    ):
        return None
    result, posts = measure(session, rule, watch, now)
    state = alert_rules.RuleState(rule.state, rule.value, rule.fired_at, rule.cooldown_s)
    action = alert_rules.decide(state, rule.metric, rule.op, rule.threshold, result, now)
    if action is None and rule.state == AlertState.FIRING and rule.message_ts is None:
        if rule.fired_at and now - rule.fired_at > timedelta(minutes=2):
            action = "repost"  # fired, but its message never made it to Slack
    if action is None:
        return None
    value = result.value if result.value is not None else rule.value
    if action == "fire":
        rule.state, rule.fired_at, rule.message_ts = AlertState.FIRING, now, None
        aq.add_event(session, rule.id, "fired", value, now)
    elif action == "resolve":
        rule.state, rule.resolved_at = AlertState.OK, now
        aq.add_event(session, rule.id, "resolved", value, now)
    rule.value = value
    text, blocks = _render(session, rule, watch, posts, now)
    return _outcome(rule, action, text, blocks)
