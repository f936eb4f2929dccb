"""Escaping for Slack mrkdwn: outside text must never ping, link or format."""

from __future__ import annotations


def escape(text: str) -> str:
    """Escape &, < and > as Slack asks; `<!channel>` and `<@U1>` then show as plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote_inline(text: str, limit: int = 200) -> str:
    """Escaped user text for use inside a message, clipped, without backticks breaking out."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape(text)
