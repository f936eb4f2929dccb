"""Replies to a correction, and `/sentiment accuracy`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.views.mrkdwn import escape, quote_inline
from sentibot.monitoring.corrections import LABELS, Agreement, Corrected
from sentibot.monitoring.share_fits import FIT_AFTER

EXCLUDE_ACTION = "watch_exclude"


def corrected(done: Corrected | None) -> tuple[str, list[dict]]:
    if done is None:
        text = "That post is no longer stored."
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if done.label == "off_topic":
        text = (
            "Noted: this post is not about the topic; it is left out of this workspace's figures."
        )
    elif done.model_label == done.label:
        text = f"Noted: *{done.label}* is right; it counts towards `/sentiment accuracy`."
    else:
        was = f" (the model said {done.model_label})" if done.model_label else ""
        text = f"Noted: this post counts as *{done.label}* in this workspace's figures{was}."
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if done.exclusion and done.watch_id and done.topic:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": EXCLUDE_ACTION,
                        "text": {
                            "type": "plain_text",
                            "text": f"Exclude -{done.exclusion} from “{done.topic}”"[:75],
                        },
                        "value": f"{done.watch_id}|{done.exclusion}",
                    }
                ],
            }
        )
    return text, blocks


def accuracy(found: Sequence[Agreement], topic: str | None) -> str:
    scope = f"“{quote_inline(topic)}” in this channel" if topic else "this workspace"
    if not found:
        return (
            f"No corrections yet for {scope}. Use the ⋯ menu beside a post in a report, alert or "
            "digest to say what it really is."
        )
    lines = [f"*How the models agree with your corrections* ({scope})"]
    for a in found:
        lines.append(
            f"• `{escape(a.model)}`: {a.agreeing} of {a.corrections} "
            f"({a.share * 100:.0f}%) as your team labelled them"
        )
        for team_label in LABELS:
            row: dict[str, int] = a.confusion.get(team_label) or {}
            total = sum(row.values())
            if total:
                said = ", ".join(f"{row.get(m, 0)} {m}" for m in LABELS if row.get(m))
                lines.append(f"    {team_label} ({total}): the model said {said}")
        j = a.shares
        if j is not None and j.shipped_error is not None and j.pooled_error is not None:
            verdict = (
                "reports here use them"
                if j.used
                else "reports here keep the shipped fit, which does as well"
            )
            lines.append(
                f"    shares with your {a.corrections} corrections: off by "
                f"{j.pooled_error:.1f} points on corrected posts left out of the fit, against "
                f"{j.shipped_error:.1f} without; {verdict}"
            )
        else:
            lines.append(
                f"    from {FIT_AFTER} corrections they also correct the shares "
                f"({max(0, FIT_AFTER - a.corrections)} to go)"
            )
    return "\n".join(lines)
