"""The channel digest message."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.views.chart import render_chart
from bot.views.mrkdwn import clip, quote_inline
from bot.views.summary import (
    change_line,
    mood,
    post_block,
    post_line,
    share_bar,
    shares_text,
    theme_line,
)
from sentibot.monitoring.digests import MAX_CHARTS, DigestContent


def period_name(cadence: str, start: datetime, end: datetime, tz: str) -> str:
    zone = ZoneInfo(tz)
    s, e = start.astimezone(zone), end.astimezone(zone)
    if cadence == "weekly":
        return f"the week {s:%a %d %b} – {e:%a %d %b %Y} ({tz})"
    return f"{s:%a %d %b %H:%M} – {e:%a %d %b %H:%M %Y} ({tz})"


MAX_BLOCKS = 50


def render_digest(content: DigestContent) -> tuple[str, list[dict]]:
    cadence, start, end, tz = content.cadence, content.start, content.end, content.tz
    topics, late = content.topics, content.late
    label = "Weekly" if cadence == "weekly" else "Daily"
    period = period_name(cadence, start, end, tz)
    text = f"{label} sentiment digest for {period}" + (" (sent late)" if late else "")
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{label} digest"[:150]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, 3000)}]},
    ]
    if late:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": ":hourglass: Late: sentibot was unavailable when this digest "
                        "was due; this is the one for the period that ended then.",
                    }
                ],
            }
        )
    if not topics:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "This channel watches nothing yet: `/sentiment watch &lt;topic&gt;`.",
                },
            }
        )
    seconds = int((end - start).total_seconds())
    for t in topics:
        c = t.current
        lines = [f"*“{quote_inline(t.topic)}”*: {c.count} posts"]
        if c.count:
            lines[0] += f" · {mood(c)} · net {c.net * 100:+.0f}"
            lines.append(f"{share_bar(c)} {shares_text(c)}")
        lines.append(change_line(c, t.previous, seconds, t.moved))
        if t.grown:
            lines.append("*Grew:* " + "; ".join(theme_line(g) for g in t.grown))
        posts = [*t.negative, *t.positive]
        # Each post its own block (with its correction menu) while Slack's 50 blocks allow.
        separate = len(blocks) + 2 + len(posts) <= MAX_BLOCKS - 2
        if not separate:
            lines += [post_line(p) for p in posts]
        blocks.append({"type": "divider"})
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": clip("\n".join(lines), 3000)}}
        )
        if separate:
            blocks += [post_block(p, t.watch_id) for p in posts]
    if content.omitted:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"…and {content.omitted} more watched topics, not shown here: "
                        "`/sentiment list` shows every watch of this channel.",
                    }
                ],
            }
        )
    return text, blocks


def digest_charts(content: DigestContent) -> list[tuple[str, bytes]]:
    """(title, PNG) for the first topics with posts, posted in the digest's thread."""
    charts: list[tuple[str, bytes]] = []
    for t in content.topics:
        if len(charts) >= MAX_CHARTS:
            break
        png = render_chart(t.points, f"{t.topic}: this period")
        if png:
            charts.append((f"{t.topic}: sentiment and volume", png))
    return charts
