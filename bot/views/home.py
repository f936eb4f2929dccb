"""The App Home tab: the workspace's watches by channel, each source's health, X spend."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.grammar import format_duration
from bot.views.backfills import progress as backfill_progress
from bot.views.mrkdwn import clip, escape, quote_inline
from bot.views.watches import HEALTH_ICON, source_list
from sentibot.monitoring.alert_rules import describe, show_value
from sentibot.monitoring.overview import DigestSchedule, RuleStatus, WatchStatus
from sentibot.monitoring.source_overview import SourceLine
from sentibot.sources import display_name
from sentibot.storage.models import AlertState

MAX_WATCH_BLOCKS = 40  # Home views hold 100 blocks; leave room for the rest
_DAYS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def home_view(
    watches: Sequence[WatchStatus],
    x_read_today: int,
    x_cap: int,
    now: datetime,
    alerts: Sequence[RuleStatus] = (),
    digests: Sequence[DigestSchedule] = (),
    every_source: Sequence[SourceLine] = (),
) -> dict:
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "sentibot"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "How people feel about your topics on social media, forums and news. "
                "In any channel: `/sentiment analyze &lt;topic&gt;`, "
                "`/sentiment watch &lt;topic&gt;`, `/sentiment list`, `/sentiment help`.",
            },
        },
        {"type": "divider"},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*Watches in your channels* ({len(watches)})"},
        },
    ]
    if not watches:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": "None yet: `/sentiment watch acme` in a channel."}
                ],
            }
        )
    for w in list(watches)[:MAX_WATCH_BLOCKS]:
        minutes = max(0, round((w.next_run_at - now).total_seconds() / 60))
        sources = " ".join(
            f"{HEALTH_ICON.get(s.health, ':white_circle:')} {display_name(s.source)}"
            for s in w.sources
        )
        text = (
            f"*“{quote_inline(w.topic)}”* in <#{escape(w.channel_id)}> · every "
            f"{format_duration(w.every_s)} · {w.posts_24h} posts in 24 h · next run in "
            f"{minutes} min\n{sources}"
        )
        back = backfill_progress(w.backfills)
        if back:
            text += f"\n:rewind: {back}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}})
    if len(watches) > MAX_WATCH_BLOCKS:
        more = len(watches) - MAX_WATCH_BLOCKS
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"…and {more} more: `/sentiment list` per channel."}
                ],
            }
        )
    blocks += [
        {"type": "divider"},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Alerts* ({len(alerts)})"}},
    ]
    for rule in list(alerts)[:20]:
        icon = ":rotating_light:" if rule.state == AlertState.FIRING else ":white_check_mark:"
        text = (
            f"{icon} “{quote_inline(rule.topic)}” in <#{escape(rule.channel_id)}>: "
            f"`{escape(describe(rule.metric, rule.op, rule.threshold))}` · now "
            f"{show_value(rule.metric, rule.value)}"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}})
    blocks.append(
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Digests* ({len(digests)})"}}
    )
    for d in list(digests)[:10]:
        day = f"{_DAYS[d.weekday]} " if d.weekday is not None else "daily "
        text = (
            f"<#{escape(d.channel_id)}>: {day}at {d.local_time} {escape(d.tz)} · next "
            f"{d.next_due_at:%Y-%m-%d %H:%M} UTC"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if every_source:
        blocks += [
            {"type": "divider"},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": clip(source_list(every_source), 3000)},
            },
        ]
    blocks += [
        {"type": "divider"},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"X posts read today: {x_read_today:,} of {x_cap:,} (resets 00:00 UTC)",
                }
            ],
        },
    ]
    return {"type": "home", "blocks": blocks}
