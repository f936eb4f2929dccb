"""The message an analysis edits in place while it runs (collecting…, scoring…, then the report)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.views.mrkdwn import quote_inline
from collectors.registry import display_name


def collecting(topic: str, sources: Sequence[str]) -> tuple[str, list[dict]]:
    names = ", ".join(display_name(s) for s in sources)
    topic_q = quote_inline(topic)
    return _message(f":hourglass_flowing_sand: Analyzing “{topic_q}”: collecting from {names}…")


def scoring(topic: str, posts: int) -> tuple[str, list[dict]]:
    return _message(
        f":hourglass_flowing_sand: Analyzing “{quote_inline(topic)}”: scoring {posts} posts…"
    )


def _message(text: str) -> tuple[str, list[dict]]:
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
