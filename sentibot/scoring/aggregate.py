"""Pure aggregation of scored posts into the numbers a report shows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sentibot.scoring.base import Sentiment


@dataclass(frozen=True)
class Breakdown:
    count: int
    mean_compound: float
    negative_share: float
    neutral_share: float
    positive_share: float

    @property
    def net(self) -> float:
        return self.positive_share - self.negative_share


@dataclass(frozen=True)
class Summary:
    topic: str
    overall: Breakdown
    by_source: dict[str, Breakdown] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.overall.count


def breakdown(sentiments: Iterable[Sentiment]) -> Breakdown:
    items = list(sentiments)
    n = len(items)
    if n == 0:
        return Breakdown(0, 0.0, 0.0, 0.0, 0.0)
    labels = [s.label for s in items]
    return Breakdown(
        count=n,
        mean_compound=sum(s.compound for s in items) / n,
        negative_share=labels.count("negative") / n,
        neutral_share=labels.count("neutral") / n,
        positive_share=labels.count("positive") / n,
    )


def summarize(topic: str, scored: Sequence[tuple[str, Sentiment]]) -> Summary:
    """`scored` is (source name, sentiment) per post."""
    per_source: dict[str, list[Sentiment]] = {}
    for source, sentiment in scored:
        per_source.setdefault(source, []).append(sentiment)
    return Summary(
        topic=topic,
        overall=breakdown(s for _, s in scored),
        by_source={name: breakdown(items) for name, items in sorted(per_source.items())},
    )
