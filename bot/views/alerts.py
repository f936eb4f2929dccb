"""Alert messages (one per firing, edited in place, resolved in its thread); `/sentiment alerts`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.views.mrkdwn import clip, escape, quote_inline
from bot.views.summary import movement_line, post_block, shares_text, theme_line
from sentibot.monitoring.alert_checks import AlertReport
from sentibot.monitoring.alert_rules import describe, show_value
from sentibot.monitoring.overview import RuleEvent, RuleStatus
from sentibot.storage.models import AlertState

SNOOZE_ACTION = "alert_snooze"
RESOLVE_ACTION = "alert_resolve"


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def render_alert(report: AlertReport) -> tuple[str, list[dict]]:
    r = report
    topic, metric, value, threshold, state = r.topic, r.metric, r.value, r.threshold, r.state
    split, drivers, posts, note, rule_id = r.split, r.drivers, r.posts, r.note, r.rule_id
    window_s = r.window_s
    rule = escape(describe(metric, r.op, threshold))
    head = "resolved" if state == AlertState.OK else "alert"
    minutes = window_s // 60
    window = f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
    text = (
        f":rotating_light: Sentiment alert on “{quote_inline(topic)}”: {rule} "
        f"(now {show_value(metric, value)}, threshold {show_value(metric, threshold)})"
        if state != AlertState.OK
        else f":white_check_mark: Resolved: sentiment alert on “{quote_inline(topic)}”: {rule} "
        f"(now {show_value(metric, value)})"
    )
    body = [
        f"*{head.capitalize()}:* `{rule}` over the last {window} · value "
        f"*{show_value(metric, value)}* · threshold {show_value(metric, threshold)}",
        f"{split.count} posts · {shares_text(split)} · mean {split.mean_compound:+.2f}",
    ]
    if r.moved is not None:
        body.append(f"vs the {window} before: {movement_line(r.moved)}")
    if r.themes:
        body.append("*Mostly:* " + "; ".join(theme_line(t) for t in r.themes))
    if drivers:
        body.append(
            "*Driven by:* "
            + ", ".join(f"`{escape(d.term).replace('`', '')}` ({d.count})" for d in drivers)
        )
    if note:
        body.append(f"_{escape(note)}_")
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": clip("\n".join(body), 3000)}},
    ]
    blocks += [post_block(p, r.watch_id) for p in posts[:3]]
    if state != AlertState.OK:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": SNOOZE_ACTION,
                        "text": {"type": "plain_text", "text": "Snooze 4h"},
                        "value": str(rule_id),
                    },
                    {
                        "type": "button",
                        "action_id": RESOLVE_ACTION,
                        "text": {"type": "plain_text", "text": "Resolve"},
                        "style": "primary",
                        "value": str(rule_id),
                    },
                ],
            }
        )
    return text, blocks


def resolved_reply(metric: str, value: float | None, by: str | None = None) -> str:
    who = f" by <@{escape(by)}>" if by else ""
    return f":white_check_mark: Resolved{who}: now {show_value(metric, value)}."


def alert_rule_added(
    topic: str,
    metric: str,
    op: str,
    threshold: float,
    window_s: int,
    created_watch: bool,
    updated: bool = False,
) -> str:
    extra = " I started watching it in this channel too." if created_watch else ""
    lead = "Updated: I'll now alert" if updated else "I'll alert"
    return (
        f"{lead} this channel when “{quote_inline(topic)}” has "
        f"`{escape(describe(metric, op, threshold))}` over {window_s // 60} min.{extra}"
    )


def alerts_list(rules: Sequence[RuleStatus], history: Sequence[RuleEvent], now: datetime) -> str:
    if not rules:
        return "No alerts in this channel. Add one: `/sentiment alert acme when negative > 40%`."
    lines = [f"*Alerts in this channel* ({len(rules)})"]
    for r in rules:
        state = AlertState.FIRING if r.state == AlertState.FIRING else AlertState.OK
        extra = ""
        if r.snoozed_until and r.snoozed_until > now:
            extra = f" · snoozed until {r.snoozed_until:%H:%M} UTC"
        lines.append(
            f"• “{quote_inline(r.topic)}”: `{escape(describe(r.metric, r.op, r.threshold))}` · "
            f"{state} · now {show_value(r.metric, r.value)}{extra}"
        )
    if history:
        lines.append("*History*")
        topics = {r.id: r.topic for r in rules}
        for e in history:
            lines.append(
                f"• {e.at:%Y-%m-%d %H:%M} UTC · “{quote_inline(topics.get(e.rule_id, '?'))}” "
                f"{escape(e.kind)}"
                + (f" at {e.value:.2f}" if e.value is not None else "")
                + (f": {escape(e.detail)}" if e.kind == "held" and e.detail else "")
            )
    return clip("\n".join(lines), 3000)
