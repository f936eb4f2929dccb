import pytest

from sentibot.report.aggregate import breakdown, summarize
from sentibot.sentiment import Sentiment


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


# -- properties ---------------------------------------------------------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sentibot.report.aggregate import ScoredText, change, drivers, top_posts  # noqa: E402

sentiments = st.builds(
    lambda label, c: Sentiment(label, c, 0.0, 0.0, 0.0),
    st.sampled_from(["negative", "neutral", "positive"]),
    st.floats(-1, 1, allow_nan=False),
)


@given(st.lists(sentiments, max_size=200))
def test_shares_sum_to_one_and_the_mean_lies_inside_its_interval(items) -> None:
    b = breakdown(items)
    assert b.count == len(items)
    if items:
        total = b.negative_share + b.neutral_share + b.positive_share
        assert total == pytest.approx(1.0)
        assert -1.0 <= b.ci_low <= b.mean_compound + 1e-12
        assert b.mean_compound - 1e-12 <= b.ci_high <= 1.0
        assert -1.0 <= b.net <= 1.0


@given(st.lists(sentiments, min_size=2, max_size=100))
def test_the_interval_narrows_with_more_of_the_same_data(items) -> None:
    one, four = breakdown(items), breakdown(items * 4)
    assert (four.ci_high - four.ci_low) <= (one.ci_high - one.ci_low) + 1e-9


def test_change_against_the_previous_window() -> None:
    now = breakdown([s("negative", -0.5)] * 3 + [s("positive", 0.5)])
    before = breakdown([s("positive", 0.5)] * 2)
    moved = change(now, before)
    assert moved.net_delta == pytest.approx(-0.5 - 1.0)
    assert moved.volume_ratio == 2.0
    assert change(now, breakdown([])).volume_ratio is None


def test_top_posts_weigh_engagement_by_strength() -> None:
    posts = [
        ScoredText("meh", s("negative", -0.1), engagement=100),
        ScoredText("awful", s("negative", -0.9), engagement=50),
        ScoredText("great", s("positive", 0.9), engagement=1000),
    ]
    assert [p.text for p in top_posts(posts, "negative")] == ["awful", "meh"]


def test_drivers_find_what_the_negative_posts_share() -> None:
    neg = [f"acme battery died again {i}" for i in range(12)] + ["acme billing error"] * 3
    pos = [f"acme camera is lovely {i}" for i in range(12)] + ["acme battery fine"]
    posts = [ScoredText(t, s("negative", -0.6)) for t in neg] + [
        ScoredText(t, s("positive", 0.6)) for t in pos
    ]
    found = drivers(posts, "negative", topic="acme")
    names = [d.term for d in found]
    assert names[0] in ("battery died", "died")
    assert "battery died" in names
    assert "acme" not in names
    assert not any("acme" in n for n in names)
    assert "camera" not in names
    assert all(d.z > 1.96 for d in found)
    assert [d.term for d in drivers(posts, "positive", topic="acme")][:1] in (
        ["camera"],
        ["lovely"],
        ["camera lovely"],
    )


@given(st.lists(st.tuples(st.text(max_size=40), sentiments), max_size=40), st.text(max_size=10))
def test_drivers_never_fail_on_any_text(rows, topic) -> None:
    posts = [ScoredText(t, sent) for t, sent in rows]
    for label in ("negative", "positive"):
        assert all(d.z > 1.96 for d in drivers(posts, label, topic=topic))


def test_drivers_name_a_complaint_once_not_as_its_words_and_inflections() -> None:
    neg = [
        f"cancelled flight again, stuck at gate {i} @JetBlue https://t.co/a{i}" for i in range(10)
    ]
    neg += [f"they cancelled my flights {i}" for i in range(4)]
    pos = [f"great crew and comfy seats {i}" for i in range(14)]
    posts = [ScoredText(t, s("negative", -0.6)) for t in neg] + [
        ScoredText(t, s("positive", 0.6)) for t in pos
    ]
    names = [d.term for d in drivers(posts, "negative", topic="jetblue")]
    assert "cancelled flight" in names
    assert not {"cancelled", "flight", "flights"} & set(names)
    assert not {"co", "https", "jetblue"} & {w for n in names for w in n.split()}
