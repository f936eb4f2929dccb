"""The `Sentiment` result, the `Scorer` protocol, and the per-process scorer registry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

LABELS = ("negative", "neutral", "positive")
# Every scorer reads at most this many characters of a text: VADER's cost grows faster than
# linearly with length (bench/hostile_costs.py), and the transformer reads its first 128 tokens
# anyway. A long article is scored on its opening.
MAX_SCORED_CHARS = 2_000


def scored_prefix(text: str) -> str:
    """The part of `text` a scorer reads."""
    return text[:MAX_SCORED_CHARS]


@dataclass(frozen=True)
class Sentiment:
    label: str
    compound: float
    negative: float
    neutral: float
    positive: float


class Scorer(Protocol):
    name: str

    def score(self, texts: Sequence[str]) -> list[Sentiment]: ...


class UnknownModel(ValueError):
    pass


@lru_cache(maxsize=8)
def get_scorer(name: str, precision: str = "auto") -> Scorer:
    """The scorer called `name`, loaded once per process and reused.

    `precision` (auto, fp32, bf16, int8) applies to the transformer scorers only.
    """
    if name == "vader":
        from scoring.vader import VaderScorer

        return VaderScorer()
    if name == "transformer":
        from scoring.transformer import default_scorer

        return default_scorer(precision)
    if name.startswith("hf:") and len(name) > 3:
        from scoring.transformer import hf_scorer

        return hf_scorer(name[3:], precision)
    raise UnknownModel(
        f"unknown sentiment model {name!r}; available: vader, transformer, hf:<model id or path>"
    )
