"""What a channel hears of a new watch's backfill: X's cost before it is spent (with a question
above a share of the day's cap), the end of it, and its progress in `/sentiment list`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.views.mrkdwn import escape, quote_inline
from sentibot.monitoring.overview import BackfillStatus
from sentibot.sources import display_name
from sentibot.storage.models import BackfillState

APPROVE_ACTION = "backfill_approve"
SKIP_ACTION = "backfill_skip"


def _days(since: datetime, now: datetime) -> str:
    days = (now - since).total_seconds() / 86_400
    return f"{days:.0f} days" if days >= 1.5 else f"{days * 24:.0f} hours"


def x_cost(topic: str, estimate: int, since: datetime, used: int, cap: int, now: datetime) -> str:
    return (
        f":rewind: Reading back {_days(since, now)} of “{quote_inline(topic)}” on X costs about "
        f"*{estimate:,} posts* ({estimate / max(cap, 1) * 100:.0f}% of this workspace's daily X "
        f"cap of {cap:,}; {used:,} read today)."
    )


def x_cost_question(
    backfill_id: int, topic: str, estimate: int, since: datetime, used: int, cap: int, now: datetime
) -> tuple[str, list[dict]]:
    text = x_cost(topic, estimate, since, used, cap, now) + " Read them?"
    blocks: list[dict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": APPROVE_ACTION,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": f"Read {estimate:,} X posts"},
                    "value": str(backfill_id),
                },
                {
                    "type": "button",
                    "action_id": SKIP_ACTION,
                    "text": {"type": "plain_text", "text": "Skip X's history"},
                    "value": str(backfill_id),
                },
            ],
        },
    ]
    return text, blocks


def answered(topic: str, approved: bool | None, user_id: str) -> str:
    if approved is None:
        return "That backfill is no longer waiting for an answer."
    if approved:
        return (
            f"<@{user_id}> approved reading X's history of “{quote_inline(topic)}”: reading it now."
        )
    return f"<@{user_id}> skipped X's history of “{quote_inline(topic)}”; X is watched from now on."


def finished(topic: str, rows: Sequence[BackfillStatus], now: datetime) -> str:
    back = max((now - r.since for r in rows), default=None)
    span = f" {_days(now - back, now)}" if back else ""
    parts = [_part(r) for r in rows]
    return (
        f":rewind: Read back{span} of “{quote_inline(topic)}”: {' · '.join(parts)}. Volume "
        "alerts and digests compare against this history from now on."
    )


def progress(rows: Sequence[BackfillStatus]) -> str | None:
    """The list's line of a watch's backfill; None when there is none or every source is
    done."""
    if not rows or all(r.state == BackfillState.DONE for r in rows):
        return None
    return "backfill: " + " · ".join(_part(r) for r in rows)


def _part(r: BackfillStatus) -> str:
    name = display_name(r.source)
    if r.state == BackfillState.DONE:
        return f"{name} {r.posts:,} posts ✓"
    if r.state == BackfillState.CONFIRM:
        return f"{name} waits for approval (about {r.estimate or 0:,} posts)"
    if r.state in ("failed", "skipped"):
        return f"{name} {r.state}" + (f" ({escape(r.reason)})" if r.reason else "")
    if r.state == BackfillState.RUNNING:
        return f"{name} reading…"
    return f"{name} queued"
