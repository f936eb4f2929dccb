"""One alert rule's evaluation, as a plain function over a session.

The rule row is locked while it is decided, so two workers never both fire it; the decision and
its history event commit together. The result is plain data (an `Outcome` carrying an
`AlertReport`); the Slack side renders and delivers it (bot/delivery.py, from tasks/alerts.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy.orm import Session

from sentibot.monitoring import alert_rules
from sentibot.monitoring.alert_rules import SNOOZE_S, AlertAction
from sentibot.monitoring.share_fits import team_fit
from sentibot.report.aggregate import (
    Breakdown,
    Driver,
    ScoredText,
    breakdown,
    contrast,
    drivers,
    top_posts,
)
from sentibot.report.integrity import Weighing, weigh
from sentibot.report.movers import Movement, movement, rows_of
from sentibot.report.quantify import Fit
from sentibot.report.themes import Embed, Theme, find_themes, member_labels
from sentibot.storage import alerts as alert_store
from sentibot.storage import posts as post_store
from sentibot.storage import watches as watch_store
from sentibot.storage.models import AlertRule, AlertState, Watch


@dataclass(frozen=True)
class AlertReport:
    """What an alert message says: the rule, its value, the window's split and what drove it."""

    rule_id: int
    topic: str
    metric: str
    op: str
    threshold: float
    value: float
    window_s: int
    split: Breakdown
    drivers: Sequence[Driver]
    posts: Sequence[ScoredText]
    state: AlertState
    note: str = ""
    themes: Sequence[Theme] = ()  # what drove it, most first
    watch_id: int | None = None
    # The negative share against the window before, and what moved it.
    moved: Movement | None = None


@dataclass(frozen=True)
class Outcome:
    action: AlertAction
    rule_id: int
    team_id: str
    channel_id: str
    message_ts: str | None
    report: AlertReport
    fired_at: datetime | None = None

    @property
    def message_key(self) -> str:
        """The idempotency key of this firing's message (one message per firing)."""
        fired = int(self.fired_at.timestamp()) if self.fired_at else 0
        return f"alert:{self.rule_id}:{fired}"

    @property
    def metric(self) -> str:
        return self.report.metric

    @property
    def value(self) -> float:
        return self.report.value


def measure(
    session: Session,
    rule: AlertRule,
    watch: Watch,
    now: datetime,
    *,
    raw: bool = False,
    fit: Fit | None = None,
) -> tuple[alert_rules.Measure, list]:
    """The rule's value over its window: each message once and each author capped
    (report/integrity.py), or with `raw` every post as it came; a negative share estimated
    with `fit` (the workspace's, share_fits.team_fit) where given."""
    window = timedelta(seconds=rule.window_s)
    posts = post_store.window_posts(session, watch, now - window, now)
    found = None if raw else weigh([p.text for p in posts], [p.author for p in posts])
    weights = found.weights if found else None
    messages = found.messages if found else None
    if rule.metric == "sentiment":
        compounds = [p.sentiment.compound for p in posts]
        return alert_rules.sentiment_value(compounds, rule.min_posts, weights, messages), posts
    if rule.metric == "negative":
        sentiments = [p.sentiment for p in posts]
        found_value = alert_rules.negative_value(
            sentiments, rule.min_posts, weights, messages, watch.model, fit
        )
        return found_value, posts
    same_hour, trailing = alert_rules.baseline_windows(now, window)
    result = alert_rules.volume_value(
        len(posts) if messages is None else messages,
        post_store.window_counts(session, watch, same_hour),
        post_store.window_counts(session, watch, trailing),
        rule.min_posts,
    )
    return result, posts


def held_back(posts: list) -> str:
    """Why a window that crossed the threshold post by post did not fire."""
    found = weigh([p.text for p in posts], [p.author for p in posts])
    parts = []
    if found.duplicates_merged:
        parts.append(
            f"{found.duplicates_merged} of {len(posts)} posts were copies "
            f"({found.messages} distinct messages)"
        )
    for author, n in sorted(found.capped_authors.items(), key=lambda kv: -kv[1])[:2]:
        parts.append(f"one author ({author}) wrote {n} of {len(posts)} posts")
    return "not fired: " + ("; ".join(parts) or "the swing came from copies or one author")


def _explain(
    session: Session,
    rule: AlertRule,
    watch: Watch,
    posts: list,
    now: datetime,
    found_now: Weighing,
    fit: Fit | None,
) -> tuple[Breakdown, list[Driver], list[ScoredText]]:
    texts = [
        ScoredText(p.text, p.sentiment, p.engagement, p.url, p.source, p.post_id) for p in posts
    ]
    split = breakdown([p.sentiment for p in posts], found_now.weights, watch.model, fit)
    if rule.metric == "volume":
        window = timedelta(seconds=rule.window_s)
        before = post_store.window_posts(session, watch, now - window * 13, now - window)
        found = contrast([p.text for p in posts], [p.text for p in before], rule.topic, n=6)
        chosen = sorted(texts, key=lambda p: p.engagement, reverse=True)[:3]
    else:
        label = "negative" if rule.metric == "negative" or rule.op == "<" else "positive"
        found = drivers(texts, label, rule.topic, n=6)
        chosen = top_posts(texts, label, n=3)
    return split, found, chosen


def _movement(
    watch: Watch,
    posts: list,
    found_now: Weighing,
    earlier: list,
    found_before: Weighing,
    split: Breakdown,
    themes: Sequence[Theme],
    fit: Fit | None,
) -> Movement | None:
    """The negative share against the window before, and what moved it."""
    if not earlier or not posts:
        return None
    now_theme, before_theme = member_labels(themes)
    return movement(
        rows_of(posts, found_now.weights, now_theme),
        rows_of(earlier, found_before.weights, before_theme),
        watch.model,
        split.shares,
        fit=fit,
    )


def _driving_themes(
    rule: AlertRule,
    posts: list,
    found: Weighing,
    before: list,
    earlier: Weighing,
    embed: Embed,
) -> list[Theme]:
    """The window's themes ordered by how much they push the way the rule looks: growth for
    volume, negative posts for negative share and a falling mean, positive ones otherwise."""
    themes = find_themes(
        [p.text for p in posts],
        [p.sentiment for p in posts],
        found,
        rule.topic,
        embed,
        [p.text for p in before],
        earlier,
    )
    if rule.metric == "volume":
        return sorted(themes, key=lambda t: -(t.count - (t.before or 0)))
    sign = 1 if rule.metric == "negative" or rule.op == "<" else -1
    return sorted(
        themes, key=lambda t: -t.count * (t.negative_share if sign > 0 else 1 - t.negative_share)
    )


def _report(
    session: Session,
    rule: AlertRule,
    watch: Watch,
    posts: list,
    now: datetime,
    fit: Fit | None,
    note: str = "",
    embed: Embed | None = None,
) -> AlertReport:
    # The window and the one before, fetched and weighed once for the split, themes and movers.
    window = timedelta(seconds=rule.window_s)
    before = post_store.window_posts(session, watch, now - 2 * window, now - window)
    found_now = weigh([p.text for p in posts], [p.author for p in posts])
    found_before = weigh([p.text for p in before], [p.author for p in before])
    split, found, chosen = _explain(session, rule, watch, posts, now, found_now, fit)
    themes = _driving_themes(rule, posts, found_now, before, found_before, embed) if embed else []
    moved = _movement(watch, posts, found_now, before, found_before, split, themes, fit)
    return AlertReport(
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
        state=AlertState(rule.state),
        note=note,
        themes=themes[:2],
        watch_id=watch.id,
        moved=moved,
    )


def _outcome(rule: AlertRule, action: AlertAction, report: AlertReport) -> Outcome:
    return Outcome(
        action, rule.id, rule.team_id, rule.channel_id, rule.message_ts, report, rule.fired_at
    )


def act_on(
    session: Session,
    rule_id: int,
    team_id: str,
    channel_id: str,
    action: str,
    user_id: str,
    now: datetime,
) -> Outcome | None:
    """A person pressed Snooze 4h or Resolve on the alert message: only a rule of the channel
    the button was pressed in (and so of its workspace) is touched."""
    rule = alert_store.lock_rule(session, rule_id)
    if rule is None or (rule.team_id, rule.channel_id) != (team_id, channel_id):
        return None
    watch = watch_store.get_watch(session, rule.watch_id)
    if watch is None:
        return None
    if action == "snooze":
        rule.snoozed_until = now + timedelta(seconds=SNOOZE_S)
        alert_store.add_event(session, rule.id, "snoozed", rule.value, now, f"by {user_id}")
        note = f"Snoozed for 4 h by {user_id}: no updates until {rule.snoozed_until:%H:%M} UTC."
    else:
        if rule.state != AlertState.FIRING:
            return None
        rule.state, rule.resolved_at = AlertState.OK, now
        alert_store.add_event(session, rule.id, "resolved", rule.value, now, f"by {user_id}")
        note = f"Resolved by {user_id}."
    posts = post_store.window_posts(session, watch, now - timedelta(seconds=rule.window_s), now)
    fit = team_fit(session, watch.team_id, watch.model)
    report = _report(session, rule, watch, posts, now, fit, note)
    return _outcome(
        rule, AlertAction.RESOLVE if action == "resolve" else AlertAction.UPDATE, report
    )


def evaluate(
    session: Session, rule_id: int, now: datetime, embed: Embed | None = None
) -> Outcome | None:
    """Decide what happens to the rule now; None when nothing does (or it is muted/snoozed).
    With `embed` (scoring/embed.py), the message says which themes drove it."""
    rule = alert_store.lock_rule(session, rule_id)
    if rule is None:
        return None
    watch = watch_store.get_watch(session, rule.watch_id)
    if watch is None:
        return None
    if (watch.muted_until and watch.muted_until > now) or (
        rule.snoozed_until and rule.snoozed_until > now
    ):
        return None
    # The workspace's fit of the model, read and judged at most once, and only when needed:
    # for a negative share's measure, and for the report of what happens.
    fit = cache(lambda: team_fit(session, watch.team_id, watch.model))
    share_fit = fit() if rule.metric == "negative" else None
    result, posts = measure(session, rule, watch, now, fit=share_fit)
    state = alert_rules.RuleState(rule.state, rule.value, rule.fired_at, rule.cooldown_s)
    action = alert_rules.decide(state, rule.metric, rule.op, rule.threshold, result, now)
    if action is None and rule.state == AlertState.OK:
        raw, _ = measure(session, rule, watch, now, raw=True, fit=share_fit)
        if alert_rules.decide(state, rule.metric, rule.op, rule.threshold, raw, now) == (
            AlertAction.FIRE
        ) and not alert_store.held_since(session, rule.id, now - timedelta(seconds=rule.window_s)):
            # Post by post it would fire; message by message it does not: say so, once a window.
            alert_store.add_event(session, rule.id, "held", raw.value, now, held_back(posts))
    if action is None and rule.state == AlertState.FIRING and rule.message_ts is None:
        if rule.fired_at and now - rule.fired_at > timedelta(minutes=2):
            action = AlertAction.REPOST  # fired, but its message never made it to Slack
    if action is None:
        return None
    value = result.value if result.value is not None else rule.value
    if action == AlertAction.FIRE:
        rule.state, rule.fired_at, rule.message_ts = AlertState.FIRING, now, None
        alert_store.add_event(session, rule.id, "fired", value, now)
    elif action == AlertAction.RESOLVE:
        rule.state, rule.resolved_at = AlertState.OK, now
        alert_store.add_event(session, rule.id, "resolved", value, now)
    rule.value = value
    return _outcome(rule, action, _report(session, rule, watch, posts, now, fit(), embed=embed))
