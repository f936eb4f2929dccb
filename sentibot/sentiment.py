"""The `Sentiment` every scorer returns, the `Scorer` protocol, and which languages a model reads.

The scorers themselves (VADER, the transformer) live in `scoring/`, which builds them by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    # The team said so (a correction): a known label, not the model's estimate.
    known: bool = False


class Scorer(Protocol):
    name: str

    def score(self, texts: Sequence[str]) -> list[Sentiment]: ...


class UnknownModel(ValueError):
    pass


# A stored model key scoped to a topic: `vader|topic:best buy,kind` (report/masking.py).
SCOPE = "|topic:"


def split_scope(key: str) -> tuple[str, tuple[str, ...]]:
    """(model, the topic's masked terms) of a stored model key."""
    model, sep, terms = key.partition(SCOPE)
    return model, tuple(t for t in terms.split(",") if t) if sep else ()


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
    langs = languages_read(split_scope(model)[0])
    return langs is None or lang is None or lang in langs


def score_known_languages(
    scorer: Scorer,
    model: str,
    texts: Sequence[tuple[str, str | None]],
    routes: Mapping[str, Scorer] | None = None,
) -> list[Sentiment]:
    """(text, language) pairs scored where `model` reads the language; a language `routes`
    names goes to its own scorer (SENTIMENT_LANGUAGE_MODELS); the rest are NOT_SCORED."""
    out = [NOT_SCORED] * len(texts)
    groups: dict[str | None, list[int]] = {}
    for i, (_, lang) in enumerate(texts):
        if reads(model, lang):
            groups.setdefault(None, []).append(i)
        elif routes and lang in routes:
            groups.setdefault(lang, []).append(i)
    for lang, rows in groups.items():
        chosen = scorer if lang is None else (routes or {})[lang]
        for i, sentiment in zip(rows, chosen.score([texts[i][0] for i in rows]), strict=True):
            out[i] = sentiment
    return out
