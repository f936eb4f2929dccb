"""What the posts of a window are about: themes found by meaning (sentence embeddings, k-means
with a fixed seed, so the same posts give the same themes), each named by its most distinctive
terms, with its size, mood and change against the window before.

Each message counts once (copies merged, report/integrity.py), so a copied post cannot make a
theme of its own size; a theme's size is the posts its messages stand for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sentibot.report.aggregate import LINK_OR_MENTION, contrast, stems, terms
from sentibot.report.integrity import Weighing
from sentibot.report.masking import topic_pattern
from sentibot.sentiment import Sentiment

if TYPE_CHECKING:
    from sklearn.cluster import KMeans

Embed = Callable[[Sequence[str]], np.ndarray]

MIN_MESSAGES = 12  # fewer distinct messages than this make no themes worth naming
MAX_THEMES = 5
MAX_PREVIOUS = 300  # messages of the window before placed on the themes (a sample beyond)


@dataclass(frozen=True)
class Theme:
    label: str
    terms: tuple[str, ...]
    count: int  # posts, copies included
    mean_compound: float
    negative_share: float
    before: int | None  # posts of the window before nearest this theme; None: no window before
    # Indices (into the texts given) of the messages in this theme; copies are not listed.
    members: tuple[int, ...] = field(default=(), compare=False, repr=False)
    # Indices (into the previous window's texts) of the sampled messages placed on it.
    before_members: tuple[int, ...] = field(default=(), compare=False, repr=False)

    def change(self) -> str:
        if self.before is None:
            return ""
        if self.before == 0:
            return "new"
        return f"{(self.count - self.before) / self.before:+.0%}"

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "terms": list(self.terms),
            "count": self.count,
            "mean_compound": round(self.mean_compound, 4),
            "negative_share": round(self.negative_share, 4),
            "before": self.before,
            "change": self.change() or None,
        }


def find_themes(
    texts: Sequence[str],
    sentiments: Sequence[Sentiment],
    found: Weighing,
    topic: str,
    embed: Embed,
    previous: Sequence[str] = (),
    earlier: Weighing | None = None,
) -> list[Theme]:
    """Themes of a window's posts, largest first. `found` is the window's `integrity.weigh`
    (a merged copy has weight 0; its message's first post carries the count); `previous` are
    the texts of the window before, and `earlier` their weighing (its copies are placed once)."""
    from sklearn.cluster import KMeans

    weights, copies = found.weights, found.copies
    kept = list(range(len(previous)))
    if earlier is not None:
        kept = [i for i, w in zip(kept, earlier.weights, strict=True) if w > 0]

    messages = [i for i, w in enumerate(weights) if w > 0]
    if len(messages) < MIN_MESSAGES:
        return []
    vectors = embed([plain(texts[i], topic) for i in messages])
    k = min(MAX_THEMES, max(2, round(math.sqrt(len(messages) / 4))))
    model = KMeans(n_clusters=k, n_init=4, random_state=0).fit(vectors)
    groups = [[m for m, c in zip(messages, model.labels_, strict=True) if c == g] for g in range(k)]
    before, placed = _placed([plain(previous[i], topic) for i in kept], model, embed)
    themes: list[Theme] = []
    for g, members in enumerate(groups):
        if not members:
            continue
        others = [texts[i] for i in messages if i not in set(members)]
        named = [d.term for d in contrast([texts[i] for i in members], others, topic, n=6)]
        named = _distinct(named or _frequent([texts[i] for i in members], topic))[:3]
        w = sum(weights[i] for i in members)
        themes.append(
            Theme(
                label=" / ".join(named[:2]) or "other",
                terms=tuple(named),
                count=sum(max(copies[i], 1) for i in members),
                mean_compound=sum(weights[i] * sentiments[i].compound for i in members) / w,
                negative_share=sum(weights[i] for i in members if sentiments[i].label == "negative")
                / w,
                before=None if before is None else int(before[g]),
                members=tuple(members),
                before_members=tuple(kept[i] for i, c in placed if c == g),
            )
        )
    return sorted(themes, key=lambda t: (-t.count, t.label))


def member_labels(themes: Sequence[Theme]) -> tuple[dict[int, str], dict[int, str]]:
    """Each placed message's theme label: (index in the window -> label, index in the window
    before -> label), as `movers.Row.theme` takes them."""
    now = {m: t.label for t in themes for m in t.members}
    before = {m: t.label for t in themes for m in t.before_members}
    return now, before


def _placed(
    previous: Sequence[str], model: KMeans, embed: Embed
) -> tuple[np.ndarray | None, list[tuple[int, int]]]:
    """Posts of the window before per theme (scaled up from a sample past MAX_PREVIOUS), and
    (index, theme) of each sampled one."""
    if not previous:
        return None, []
    step = max(1, math.ceil(len(previous) / MAX_PREVIOUS))
    sample = list(previous)[::step]
    nearest = model.predict(embed(sample))
    counts = np.bincount(nearest, minlength=model.n_clusters)
    placed = [(i * step, int(c)) for i, c in enumerate(nearest)]
    return np.round(counts * len(previous) / len(sample)), placed


def plain(text: str, topic: str) -> str:
    """What a post says, for finding themes: without links, @mentions and the topic's own
    words (they would group posts by brand or account rather than by what they say)."""
    text = LINK_OR_MENTION.sub(" ", text)
    pattern = topic_pattern(topic)
    if pattern is not None:
        text = pattern.sub(" ", text)
    return " ".join(text.split()) or text


def _distinct(found: list[str]) -> list[str]:
    """Terms that do not repeat each other's words or their inflections (`phone`, not also
    `phone battery` or `phones`)."""
    kept: list[str] = []
    for term in found:
        if not any(stems(term) & stems(k) for k in kept):
            kept.append(term)
    return kept


def _frequent(texts: Sequence[str], topic: str) -> list[str]:
    from collections import Counter

    exclude = frozenset(terms(topic))
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(set(terms(text, exclude)))
    return [t for t, _ in counts.most_common(3)]
