"""Escaping for Slack mrkdwn: outside text must never ping, link or format."""

from __future__ import annotations

from sentibot.safe_text import clean_text


def escape(text: str) -> str:
    """Escape &, < and > as Slack asks; `<!channel>` and `<@U1>` then show as plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote_inline(text: str, limit: int = 200) -> str:
    """Escaped user text for use inside a message, clipped, without backticks breaking out, and
    without control, bidi or zero-width characters."""
    text = " ".join(clean_text(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape(text)


def link(url: str | None, label: str) -> str:
    """A Slack link that shows where it goes: http(s) only, its label escaped, and the
    characters that would end or re-label a link percent-encoded. Anything else: the label."""
    safe_label = escape(label.replace("|", "/"))
    if not url or not url.lower().startswith(("https://", "http://")):
        return safe_label
    for raw, encoded in (("|", "%7C"), ("<", "%3C"), (">", "%3E"), (" ", "%20")):
        url = url.replace(raw, encoded)
    return f"<{url.replace('&', '&amp;')}|{safe_label}>"


def clip(text: str, limit: int) -> str:
    """Text cut to `limit` characters (Slack rejects longer section texts)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
