import pytest

from sentibot.scoring.aggregate import breakdown, summarize
from sentibot.scoring.base import Sentiment


def s(label: str, compound: float) -> Sentiment:
    return Sentiment(label, compound, 0.0, 0.0, 0.0)


def test_breakdown_shares_and_mean() -> None:
    b = breakdown([s("positive", 0.8), s("negative", -0.4), s("neutral", 0.0), s("positive", 0.4)])
    assert b.count == 4
    assert b.mean_compound == pytest.approx(0.2)
    assert (b.negative_share, b.neutral_share, b.positive_share) == (0.25, 0.25, 0.5)
    assert b.net == pytest.approx(0.25)


def test_empty_window_is_zero_not_an_error() -> None:
    assert breakdown([]).count == 0


def test_summary_is_per_source_and_overall() -> None:
    summary = summarize("t", [("x", s("positive", 0.5)), ("reddit", s("negative", -0.5))])
    assert summary.count == 2
    assert summary.overall.mean_compound == 0
    assert summary.by_source["x"].positive_share == 1.0
    assert summary.by_source["reddit"].negative_share == 1.0
