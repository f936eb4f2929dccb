"""VADER, unchanged in its numbers: the same scores as `vaderSentiment`'s own `polarity_scores`.

The only difference is speed: the package rebuilds every text character by character to swap
emojis for their descriptions; texts without emojis (most of them) skip that loop here. The
rest of `polarity_scores` is the package's own code, called in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence

from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentimentIntensityAnalyzer, SentiText

from sentibot.sentiment import Sentiment, scored_prefix

# The thresholds VADER's authors recommend for three classes.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


def label_for(compound: float) -> str:
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


class FastVader(SentimentIntensityAnalyzer):
    def __init__(self) -> None:
        super().__init__()
        # The package looks emojis up one character at a time, so only 1-char keys can match.
        self._emoji_chars = frozenset(k for k in self.emojis if len(k) == 1)

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not self._emoji_chars.isdisjoint(text):
            return super().polarity_scores(text)
        text = text.strip()
        sentitext = SentiText(text)
        sentiments: list[float] = []
        words_and_emoticons = sentitext.words_and_emoticons
        for i, item in enumerate(words_and_emoticons):
            valence = 0
            if item.lower() in BOOSTER_DICT:
                sentiments.append(valence)
                continue
            if (
                i < len(words_and_emoticons) - 1
                and item.lower() == "kind"
                and words_and_emoticons[i + 1].lower() == "of"
            ):
                sentiments.append(valence)
                continue
            sentiments = self.sentiment_valence(valence, sentitext, item, i, sentiments)
        sentiments = self._but_check(words_and_emoticons, sentiments)
        return self.score_valence(sentiments, text)


class VaderScorer:
    name = "vader"

    def __init__(self) -> None:
        self._analyzer = FastVader()

    def score(self, texts: Sequence[str]) -> list[Sentiment]:
        polarity = self._analyzer.polarity_scores
        scored: dict[str, Sentiment] = {}
        for text in texts:
            if text in scored:  # reposts and copy-paste campaigns: score each text once
                continue
            s = polarity(scored_prefix(text))
            scored[text] = Sentiment(
                label=label_for(s["compound"]),
                compound=s["compound"],
                negative=s["neg"],
                neutral=s["neu"],
                positive=s["pos"],
            )
        return [scored[text] for text in texts]
