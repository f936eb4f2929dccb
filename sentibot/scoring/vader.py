"""VADER, unchanged: the same numbers as `vaderSentiment`'s own `polarity_scores`."""

from __future__ import annotations

from collections.abc import Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentibot.scoring.base import Sentiment

# The thresholds VADER's authors recommend for three classes.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


def label_for(compound: float) -> str:
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


class VaderScorer:
    name = "vader"

    def __init__(self) -> None:
        self._analyzer = SentimentIntensityAnalyzer()

    def score(self, texts: Sequence[str]) -> list[Sentiment]:
        polarity = self._analyzer.polarity_scores
        out = []
        for text in texts:
            s = polarity(text)
            out.append(
                Sentiment(
                    label=label_for(s["compound"]),
                    compound=s["compound"],
                    negative=s["neg"],
                    neutral=s["neu"],
                    positive=s["pos"],
                )
            )
        return out
