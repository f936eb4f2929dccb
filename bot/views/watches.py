"""Replies to `/sentiment watch`, `unwatch` and `list`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.grammar import format_duration
from bot.views.backfills import progress as backfill_progress
from bot.views.mrkdwn import escape, quote_inline
from sentibot.monitoring.overview import WatchStatus
from sentibot.monitoring.source_overview import SourceLine
from sentibot.sources import display_name
from sentibot.storage.models import SourceHealth

HEALTH_ICON = {"ok": ":large_green_circle:", "failing": ":red_circle:", "silent": ":zzz:"}


def watch_started(
    topic: str, sources: Sequence[str], every_s: int, created: bool, backfill_s: int = 0
) -> str:
    names = ", ".join(display_name(s) for s in sources)
    verb = "Watching" if created else "Updated the watch on"
    back = (
        f" It first reads back {format_duration(backfill_s)} (each source as far as its search "
        "goes; X says what that costs before spending it), so alerts and digests have a "
        "baseline from the start."
        if backfill_s
        else ""
    )
    return (
        f"{verb} “{quote_inline(topic)}” on {names} every {format_duration(every_s)} for this "
        f"channel.{back} The first collection starts within a minute; I'll tell this channel if "
        "a source fails or goes quiet. `/sentiment list` shows how it is doing."
    )


def watch_removed(topic: str, removed: bool) -> str:
    if removed:
        return f"Stopped watching “{quote_inline(topic)}” in this channel."
    return (
        f"This channel has no watch on “{quote_inline(topic)}”. "
        "`/sentiment list` shows the ones it has."
    )


def watch_list(lines: Sequence[WatchStatus], x_read_today: int, x_cap: int, now: datetime) -> str:
    out = []
    if not lines:
        out.append("This channel watches nothing yet. Start with `/sentiment watch &lt;topic&gt;`.")
    else:
        out.append(f"*Watches in this channel* ({len(lines)})")
    for w in lines:
        minutes = max(0, round((w.next_run_at - now).total_seconds() / 60))
        out.append(
            f"• “{quote_inline(w.topic)}” every {format_duration(w.every_s)} · "
            f"{w.posts_24h} posts in 24 h · next run in {minutes} min"
        )
        for s in w.sources:
            icon = HEALTH_ICON.get(s.health, ":white_circle:")
            note = (
                f": {escape(s.last_error)}"
                if s.health == SourceHealth.FAILING and s.last_error
                else ""
            )
            out.append(f"    {icon} {display_name(s.source)} {s.health}{note}")
        back = backfill_progress(w.backfills)
        if back:
            out.append(f"    :rewind: {back}")
    out.append(
        f"X posts read today by this workspace: {x_read_today:,} of {x_cap:,} (resets 00:00 UTC)"
    )
    return "\n".join(out)


def source_list(lines: Sequence[SourceLine]) -> str:
    """Every source: on or off (and the setting that turns it on), allowance left, health."""
    on = [s for s in lines if s.configured]
    out = [f"*Sources* ({len(on)} of {len(lines)} on)"]
    for s in lines:
        if not s.configured:
            out.append(
                f"• :white_circle: {s.display}: off, {escape(s.reason or '')}; needs {s.needs}"
            )
            continue
        icon = HEALTH_ICON.get(s.health or "ok", ":white_circle:")
        parts = [f"• {icon} {s.display}: on"]
        if s.health:
            note = (
                f" ({escape(s.last_error)})"
                if s.health == SourceHealth.FAILING and s.last_error
                else ""
            )
            parts.append(f"{s.health} in this channel's watches{note}")
        if s.quota:
            parts.append(escape(s.quota))
        out.append(" · ".join(parts))
    out.append("Pick sources with `--sources`, for example `--sources bluesky,mastodon,news`.")
    return "\n".join(out)


def export_needs_watch(topic: str) -> str:
    return (
        f"This channel does not watch “{quote_inline(topic)}”: an export holds a watch's posts. "
        f"`/sentiment watch {quote_inline(topic)}` starts one."
    )
