"""The message an analysis edits in place while it runs (collecting…, scoring…, then the report)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.views.mrkdwn import quote_inline
from sentibot.sources import ReportStatus, SourceReport, display_name


def collecting(
    topic: str, sources: Sequence[str], done: Mapping[str, SourceReport] | None = None
) -> tuple[str, list[dict]]:
    """Each source as it finishes: `X ✓ 300 · Reddit … · Hacker News ✗`."""
    topic_q = quote_inline(topic)
    if not done:
        names = ", ".join(display_name(s) for s in sources)
        return _message(f":hourglass_flowing_sand: Analyzing “{topic_q}”: collecting from {names}…")
    states = " · ".join(f"{display_name(s)} {_state(done.get(s))}" for s in sources)
    return _message(f":hourglass_flowing_sand: Analyzing “{topic_q}”: {states}")


def _state(report: SourceReport | None) -> str:
    if report is None:
        return "…"
    if report.status == ReportStatus.OK:
        return f"✓ {report.count}"
    return "✗" if report.status == ReportStatus.FAILED else "–"


def scoring(topic: str, posts: int) -> tuple[str, list[dict]]:
    return _message(
        f":hourglass_flowing_sand: Analyzing “{quote_inline(topic)}”: scoring {posts} posts…"
    )


def _message(text: str) -> tuple[str, list[dict]]:
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
