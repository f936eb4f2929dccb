"""The alert state machine on numbers: crossing, hysteresis, cooldown, thin baselines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentibot.monitoring.alert_rules import (
    Measure,
    RuleState,
    decide,
    describe,
    negative_value,
    sentiment_value,
    show_value,
    volume_value,
)
from sentibot.sentiment import Sentiment

T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)


def run(
    values: list[float | None],
    metric: str = "sentiment",
    op: str = "<",
    threshold: float = -0.2,
    cooldown_s: int = 7200,
    step: timedelta = timedelta(minutes=1),
) -> list[str | None]:  # noqa: E501
    """Feed values minute by minute through the state machine; the actions taken."""
    state, value, fired_at = "ok", None, None
    actions = []
    for i, v in enumerate(values):
        now = T0 + step * i
        action = decide(
            RuleState(state, value, fired_at, cooldown_s),
            metric,
            op,
            threshold,
            Measure(v, 50),
            now,
        )
        actions.append(action)
        if action == "fire":
            state, fired_at = "firing", now
        elif action == "resolve":
            state = "ok"
        if v is not None:
            value = v
    return actions


def test_fires_once_and_resolves_once() -> None:
    assert run([-0.1, -0.3, -0.3, -0.1]) == [None, "fire", None, "resolve"]


def test_a_value_hovering_at_the_threshold_does_not_flap() -> None:
    noisy = [-0.21, -0.19, -0.22, -0.18, -0.21, -0.17, -0.2, -0.16]
    actions = run(noisy)
    assert actions.count("fire") == 1
    assert "resolve" not in actions  # never back past -0.15
    assert run([*noisy, -0.14])[-1] == "resolve"


def test_cooldown_holds_a_second_firing_back() -> None:
    values = [-0.3, -0.1, -0.3]  # fire, resolve, cross again a minute later
    assert run(values) == ["fire", "resolve", None]
    assert run(values, cooldown_s=0) == ["fire", "resolve", "fire"]
    assert run(values, step=timedelta(hours=2)) == ["fire", "resolve", "fire"]


def test_too_little_data_neither_fires_nor_resolves() -> None:
    assert run([None, -0.5, None, None]) == [None, "fire", None, None]
    assert sentiment_value([-0.9] * 9, min_posts=10).value is None
    assert sentiment_value([-0.9] * 10, min_posts=10).value == pytest.approx(-0.9)


def test_negative_share_and_volume_rules() -> None:
    neg, pos = Sentiment("negative", -0.5, 1, 0, 0), Sentiment("positive", 0.5, 0, 0, 1)
    assert negative_value([neg] * 5 + [pos] * 5, 10).value == 0.5
    assert run([0.3, 0.5, 0.5, 0.42, 0.3], "negative", ">", 0.4) == [
        None,
        "fire",
        None,  # the same value: nothing to edit
        "update",  # it moved: the message is edited in place
        "resolve",
    ]
    assert run([2.0, 4.0, 2.8, 2.4], "volume", ">", 3.0) == [None, "fire", "update", "resolve"]


def test_volume_baseline_same_hour_of_earlier_days_then_trailing_then_thin() -> None:
    # Three earlier days with data at this hour: the baseline is their mean.
    m = volume_value(40, [10, 10, 10, None, None, None, None], [2] * 12, min_posts=10)
    assert (m.value, m.baseline) == (4.0, 10.0)
    # No history at this hour yet: the trailing windows are the baseline.
    m = volume_value(40, [None] * 7, [5] * 8 + [None] * 4, min_posts=10)
    assert (m.value, m.baseline) == (8.0, 5.0)
    # A new watch: too thin to call anything a spike.
    m = volume_value(400, [None] * 7, [5, 5] + [None] * 10, min_posts=10)
    assert m.value is None
    assert "thin" in m.reason


def test_descriptions() -> None:
    assert describe("negative", ">", 0.4) == "negative > 40%"
    assert describe("volume", ">", 3.0) == "volume > 3x"
    assert describe("sentiment", "<", -0.2) == "sentiment < -0.20"
    assert show_value("negative", 0.456) == "46%"


@given(st.lists(st.one_of(st.none(), st.floats(-1, 1)), max_size=60))
def test_fires_and_resolves_alternate(values: list[float | None]) -> None:
    actions = [a for a in run(values, cooldown_s=0) if a in ("fire", "resolve")]
    assert actions == ["fire", "resolve"] * (len(actions) // 2) + ["fire"] * (len(actions) % 2)
