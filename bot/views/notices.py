"""Channel notices about a watch's sources: one message when a source fails, falls silent, or
recovers."""

from __future__ import annotations

from datetime import datetime

from bot.views.mrkdwn import escape, quote_inline
from sentibot.monitoring.source_health import Event
from sentibot.sources import display_name


def _ago(since: datetime | None, now: datetime) -> str:
    if since is None:
        return ""
    hours = (now - since).total_seconds() / 3600
    if hours < 1:
        return f" (since {max(1, round(hours * 60))} min ago)"
    if hours < 48:
        return f" (since {round(hours)} h ago)"
    return f" (since {round(hours / 24)} days ago)"


def render_health(event: Event, topic: str, now: datetime) -> str:
    source = display_name(event.source)
    topic_q = quote_inline(topic)
    if event.kind == "failing":
        return (
            f":warning: *{source}* stopped delivering posts for the watch on “{topic_q}”: "
            f"{escape(event.reason or 'unknown error')}. I'll keep trying every run and say so "
            "here once it works again."
        )
    if event.kind == "silent":
        return (
            f":zzz: *{source}* has found no new posts about “{topic_q}”{_ago(event.since, now)}, "
            "though it used to. The source answers; the topic may have gone quiet there, or "
            "the query may need a look (`/sentiment list`)."
        )
    since = _ago(event.since, now)
    return f":white_check_mark: *{source}* is delivering again for “{topic_q}”{since}."
