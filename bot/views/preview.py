"""The ephemeral answer to `/sentiment preview`: one section per source."""

from __future__ import annotations

from collections.abc import Sequence

from bot.views.mrkdwn import escape, quote_inline
from sentibot.monitoring.preview import SourcePreview
from sentibot.sources import ReportStatus


def render_preview(topic: str, found: Sequence[SourcePreview]) -> tuple[str, list[dict]]:
    text = f"Preview of “{quote_inline(topic)}”: what a watch would find"
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}}]
    for p in found:
        lines = [f"*{p.display}*: {_headline(p)}"]
        lines += [f">{escape(sample)}" for sample in p.samples]
        lines += [f"_{escape(note)}_" for note in p.notes]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Watch it with `/sentiment watch`."}],
        }
    )
    return text, blocks


def _headline(p: SourcePreview) -> str:
    if p.status != ReportStatus.OK:
        return f"{p.status}, {escape(p.reason or '')}"
    line = f"{p.matches_24h:,} posts in the last 24 h"
    if p.per_day is not None:
        line += f", about {p.per_day:,.0f} a day"
    if p.x_cost_per_day:
        line += f" (X bills about {p.x_cost_per_day:,.0f} posts a day)"
    return line
