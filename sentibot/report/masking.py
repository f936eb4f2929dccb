"""The topic's own words never count as sentiment.

VADER rates `united` +1.8, `kind` +2.4, `super` +2.9; a post that merely names such a brand
would lean positive. Before a post is scored for a topic, every term of the topic's query (its
words and phrases, written with spaces, hyphens or nothing between the words, and hashtags and
@handles that contain them) is replaced by `@user`: VADER's lexicon does not know it, and the
transformer was trained with it standing for any account.

A score is stored under a *scoped* model key, `vader|topic:best buy,kind`, so the stored score
says which topic it was scored for, and a post stored for two topics is scored once for each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from sentibot.sentiment import SCOPE, Scorer, Sentiment, split_scope

PLACEHOLDER = "@user"
MAX_KEY = 255  # the stored model key's column
_MIN_HANDLE_TERM = 3  # shorter terms mask only as whole words (`@hp` but not `@shpx`)


def scoped(model: str, terms: Iterable[str]) -> str:
    """The stored model key of `model` scoring for a topic of `terms` (none: `model` itself).
    Terms that would not fit the key's column are left unmasked, the shortest kept first."""
    kept = sorted({" ".join(t.lower().replace(",", " ").split()) for t in terms} - {""})
    chosen: list[str] = []
    for term in sorted(kept, key=len):
        if len(model + SCOPE + ",".join([*chosen, term])) > MAX_KEY:
            break
        chosen.append(term)
    return model + SCOPE + ",".join(sorted(chosen)) if chosen else model


def model_name(key: str) -> str:
    """The model of a stored key, for people to read."""
    return split_scope(key)[0]


@lru_cache(maxsize=256)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = []
    for term in sorted(terms, key=len, reverse=True):
        words = [re.escape(w) for w in term.split() if w]
        if not words:
            continue
        joined = r"[\s_\-]*".join(words)
        squashed = re.escape("".join(term.split()))
        # The words themselves (possessive too); a hashtag or handle naming them.
        parts.append(rf"(?<![\w@#])(?:{joined})(?:['’]s)?(?!\w)")
        if len(squashed) >= _MIN_HANDLE_TERM:
            parts.append(rf"[#@]\w*{squashed}\w*")
        else:
            parts.append(rf"[#@]{squashed}(?!\w)")
    if not parts:
        return None
    return re.compile("|".join(parts), re.IGNORECASE)


def mask(text: str, terms: Sequence[str]) -> str:
    """`text` with every mention of the topic's `terms` replaced by the placeholder."""
    pattern = _pattern(tuple(terms))
    return pattern.sub(PLACEHOLDER, text) if pattern is not None else text


def topic_pattern(topic: str) -> re.Pattern[str] | None:
    """What `mask` would find of a topic's words, from the topic as written (its words,
    quoted phrases and alternatives; `-excluded` words and operators are not its own)."""
    phrases = re.findall(r'"([^"]+)"', topic)
    rest = re.sub(r'"[^"]+"', " ", topic)
    words = [
        w.strip("()#@").lower()
        for w in rest.split()
        if not w.startswith("-") and ":" not in w and w.upper() not in ("OR", "AND")
    ]
    return _pattern(tuple(t for t in (*phrases, *words) if t.strip()))


class MaskedScorer:
    """A scorer that reads each text with the topic's terms masked."""

    def __init__(self, inner: Scorer, terms: Sequence[str], name: str) -> None:
        self.inner = inner
        self.terms = tuple(terms)
        self.name = name

    def score(self, texts: Sequence[str]) -> list[Sentiment]:
        return self.inner.score([mask(t, self.terms) for t in texts])
