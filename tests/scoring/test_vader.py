from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from scoring import get_scorer

TEXTS = [
    "VADER is smart, handsome, and funny!",
    "The book was kind of good.",
    "Today SUX!",
    "Not bad at all :)",
    "I can't stand this product, it broke twice",
    "The meeting is at 3pm.",
    "",
]


def test_vader_path_gives_the_packages_own_numbers() -> None:
    reference = SentimentIntensityAnalyzer()
    results = get_scorer("vader").score(TEXTS)
    assert len(results) == len(TEXTS)
    for text, result in zip(TEXTS, results, strict=True):
        expected = reference.polarity_scores(text)
        assert result.compound == expected["compound"]
        assert (result.negative, result.neutral, result.positive) == (
            expected["neg"],
            expected["neu"],
            expected["pos"],
        )


def test_labels_use_the_standard_thresholds() -> None:
    labels = [s.label for s in get_scorer("vader").score(TEXTS)]
    assert labels[0] == "positive"
    assert labels[2] == "negative"
    assert labels[4] == "negative"
    assert labels[5] == "neutral"


def test_the_scorer_is_loaded_once_per_process() -> None:
    assert get_scorer("vader") is get_scorer("vader")


def test_unknown_model_is_a_clear_error() -> None:
    import pytest

    from sentibot.sentiment import UnknownModel

    with pytest.raises(UnknownModel, match="available: vader, transformer"):
        get_scorer("nonexistent")


def test_a_megabyte_post_is_scored_in_well_under_a_second() -> None:
    import time

    from scoring.base import get_scorer
    from sentibot.sentiment import MAX_SCORED_CHARS

    huge = ("acme is great but the update broke everything " * 30_000)[:1_000_000]
    scorer = get_scorer("vader")
    started = time.perf_counter()
    (sentiment,) = scorer.score([huge])
    assert time.perf_counter() - started < 1.0
    assert sentiment == scorer.score([huge[:MAX_SCORED_CHARS]])[0]
