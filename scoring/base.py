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


# A post in a language its model does not read is stored with this label, counted, and left out
# of every figure: an English lexicon reads Japanese as neutral, which would be a lie.
UNSCORED = "unscored"
NOT_SCORED = Sentiment(UNSCORED, 0.0, 0.0, 0.0, 0.0)
_ENGLISH = frozenset({"en"})


def languages_read(model: str) -> frozenset[str] | None:
    """The languages `model` reads; None for any (an `hf:` model says nothing checkable)."""
    return _ENGLISH if model in ("vader", "transformer") else None


def reads(model: str, lang: str | None) -> bool:
    """Whether `model` can score a post in `lang` (a post of unknown language is tried)."""
    langs = languages_read(model)
    return langs is None or lang is None or lang in langs


def score_known_languages(
    scorer: Scorer, model: str, texts: Sequence[tuple[str, str | None]]
) -> list[Sentiment]:
    """(text, language) pairs scored where `model` reads the language, NOT_SCORED elsewhere."""
    readable = [i for i, (_, lang) in enumerate(texts) if reads(model, lang)]
    scored = scorer.score([texts[i][0] for i in readable]) if readable else []
    out = [NOT_SCORED] * len(texts)
    for i, sentiment in zip(readable, scored, strict=True):
        out[i] = sentiment
    return out


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
