"""Alert rules, evaluated: the value a rule watches, and what its state machine does with it.

Pure functions over numbers and times. A rule is ok or firing:

- ok → firing when the value crosses the threshold, with at least `min_posts` posts in the
  window, a baseline that is not thin (volume), and the cooldown since the last firing over;
- firing → firing (the message is updated) while the value stays past the threshold
  *minus a hysteresis margin*, so a value hovering at the threshold does not flap;
- firing → ok (resolved) once the value is back past that margin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sentibot.report.quantify import Fit, estimate
from sentibot.sentiment import Sentiment
from sentibot.storage.models import AlertState

# How far back past the threshold a firing value must come to resolve.
HYSTERESIS = {"sentiment": 0.05, "negative": 0.05, "volume": 0.5}
# Volume: same-hour windows of earlier days are the baseline once this many days have data;
# until then the trailing windows are, and fewer than MIN_TRAILING of them is too thin to judge.
SAME_HOUR_DAYS = 7
MIN_SAME_HOUR_DAYS = 3
TRAILING_WINDOWS = 12
MIN_TRAILING = 6
# What Snooze on an alert message silences it for.
SNOOZE_S = 4 * 3600


class AlertAction(StrEnum):
    FIRE = "fire"
    UPDATE = "update"  # firing, and the value moved
    RESOLVE = "resolve"
    REPOST = "repost"  # firing, but its message never reached Slack


@dataclass(frozen=True)
class Measure:
    value: float | None  # None: not enough data to judge
    count: int
    reason: str = ""  # why there is no value
    baseline: float | None = None
    ci95: tuple[float, float] | None = None  # where the value is an estimate with an interval


def sentiment_value(
    compounds: Sequence[float],
    min_posts: int,
    weights: Sequence[float] | None = None,
    messages: int | None = None,
) -> Measure:
    """The (weighted) mean compound; `messages` distinct messages must reach `min_posts`."""
    count = len(compounds) if messages is None else messages
    w = list(weights) if weights is not None else [1.0] * len(compounds)
    if count < min_posts or sum(w) <= 0:
        return Measure(None, count, f"{count} posts, fewer than {min_posts}")
    return Measure(sum(c * x for c, x in zip(compounds, w, strict=True)) / sum(w), count)


def negative_value(
    sentiments: Sequence[Sentiment],
    min_posts: int,
    weights: Sequence[float] | None = None,
    messages: int | None = None,
    model: str | None = None,
    fit: Fit | None = None,
) -> Measure:
    """The (weighted) negative share, estimated for `model`'s errors (or `fit`'s) with its 95%
    interval (report/quantify.py); `messages` distinct messages must reach `min_posts`."""
    count = len(sentiments) if messages is None else messages
    w = list(weights) if weights is not None else [1.0] * len(sentiments)
    if count < min_posts or sum(w) <= 0:
        return Measure(None, count, f"{count} posts, fewer than {min_posts}")
    shares = estimate(sentiments, w, model, fit=fit)
    return Measure(shares.values[0], count, ci95=shares.ci95[0])


def baseline_windows(
    now: datetime, window: timedelta
) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]:
    """(same-hour windows of the previous days, trailing windows before this one)."""
    same_hour = [
        (now - timedelta(days=d) - window, now - timedelta(days=d))
        for d in range(1, SAME_HOUR_DAYS + 1)
    ]
    trailing = [(now - window * (k + 1), now - window * k) for k in range(1, TRAILING_WINDOWS + 1)]
    return same_hour, trailing


def volume_value(
    count: int,
    same_hour: Sequence[int | None],
    trailing: Sequence[int | None],
    min_posts: int,
) -> Measure:
    """This window's count as a multiple of its baseline. Windows from before the watch began
    collecting are None, not 0, so a new watch does not alarm on its first busy hour."""
    days = [c for c in same_hour if c is not None]
    earlier = [c for c in trailing if c is not None]
    if len(days) >= MIN_SAME_HOUR_DAYS:
        base = sum(days) / len(days)
    elif len(earlier) >= MIN_TRAILING:
        base = sum(earlier) / len(earlier)
    else:
        return Measure(None, count, "the baseline is still thin (the watch is new)")
    if count < min_posts:
        return Measure(None, count, f"{count} posts, fewer than {min_posts}", base)
    return Measure(count / max(base, 1.0), count, baseline=base)


def crossed(
    metric: str, op: str, value: float, threshold: float, ci95: tuple[float, float] | None = None
) -> bool:
    """Past the threshold; an estimate with an interval only when the whole interval is (a
    threshold crossed inside the noise is not an alert)."""
    if ci95 is not None:
        return ci95[1] < threshold if op == "<" else ci95[0] > threshold
    return value < threshold if op == "<" else value > threshold


def cleared(metric: str, op: str, value: float, threshold: float) -> bool:
    """Back on the right side of the threshold by the hysteresis margin."""
    margin = HYSTERESIS[metric]
    return value >= threshold + margin if op == "<" else value <= threshold - margin


@dataclass(frozen=True)
class RuleState:
    state: str  # "ok" or "firing"
    value: float | None
    fired_at: datetime | None
    cooldown_s: int


def decide(
    rule: RuleState, metric: str, op: str, threshold: float, measure: Measure, now: datetime
) -> AlertAction | None:
    """What the rule does now, or None when nothing changes."""
    value = measure.value
    if value is None:
        return None  # too little data either way: neither fire nor resolve on noise
    if rule.state == AlertState.FIRING:
        if cleared(metric, op, value, threshold):
            return AlertAction.RESOLVE
        if rule.value is None or round(value, 2) != round(rule.value, 2):
            return AlertAction.UPDATE
        return None
    if not crossed(metric, op, value, threshold, measure.ci95):
        return None
    if rule.fired_at is not None and now - rule.fired_at < timedelta(seconds=rule.cooldown_s):
        return None
    return AlertAction.FIRE


def describe(metric: str, op: str, threshold: float) -> str:
    """The rule as people wrote it: `sentiment < -0.20`, `negative > 40%`, `volume > 3x`."""
    if metric == "negative":
        return f"negative {op} {threshold * 100:.0f}%"
    if metric == "volume":
        return f"volume {op} {threshold:g}x"
    return f"sentiment {op} {threshold:+.2f}"


def show_value(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if metric == "negative":
        return f"{value * 100:.0f}%"
    if metric == "volume":
        return f"{value:.1f}x"
    return f"{value:+.2f}"
