"""Why the mood moved: the change in negative share between two windows, decomposed.

The negative share of a window is the weighted sum of its groups' shares, `S = sum_g f_g s_g`
(f_g: the group's part of the window's weight). The change splits exactly into one term per
group, `f'_g s'_g - f_g s_g`: what a theme, a source or a language added to the change, counting
both a group that grew and a group that soured. Each term has a bootstrap interval (the group's
share estimates' draws, report/quantify.py). For accounts the question is different: how much
of the change is left without the N loudest ones (N: those that posted at least three times the
window's mean and at least 3 posts, at most 5).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sentibot.report.quantify import Fit, Shares, difference_ci, estimate
from sentibot.sentiment import Sentiment

NEGATIVE = 0
MIN_CONTRIBUTION = 0.01  # a point of the share: smaller terms are not named
PER_KIND = 3
MAX_LOUD = 5


@dataclass(frozen=True)
class Row:
    """One post of a window, as the decomposition sees it."""

    sentiment: Sentiment
    weight: float
    source: str
    lang: str | None = None
    author: str | None = None
    theme: str | None = None  # its theme's label; None where it has none (or was not placed)


@dataclass(frozen=True)
class Mover:
    kind: str  # "theme", "source", "language" or "authors"
    label: str
    before: float  # the group's negative share in the window before
    now: float
    contribution: float  # points of the overall change (a fraction: 0.09 is 9 points)
    ci95: tuple[float, float]
    # For a theme: the sources its posts of the window now come from, most first.
    sources: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind,
            "label": self.label,
            "before": round(self.before, 4),
            "now": round(self.now, 4),
            "contribution": round(self.contribution, 4),
            "ci95": [round(self.ci95[0], 4), round(self.ci95[1], 4)],
        }
        if self.kind == "theme":
            out["sources"] = list(self.sources)
        return out


@dataclass(frozen=True)
class Movement:
    """The negative share then and now, whether the change is beyond the noise, and its
    movers, largest first."""

    before: Shares
    now: Shares
    delta: float
    ci95: tuple[float, float]
    significant: bool
    movers: tuple[Mover, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "label": "negative",
            "before": round(self.before.values[NEGATIVE], 4),
            "now": round(self.now.values[NEGATIVE], 4),
            "delta": round(self.delta, 4),
            "ci95": [round(self.ci95[0], 4), round(self.ci95[1], 4)],
            "significant": self.significant,
        }


def movement(
    now: Sequence[Row],
    before: Sequence[Row],
    model: str | None,
    now_shares: Shares | None = None,
    before_shares: Shares | None = None,
    fit: Fit | None = None,
) -> Movement:
    """How the negative share moved from `before` to `now`, and what moved it (`fit`: the
    workspace's own fit of `model`, as in `estimate`)."""
    s_now = now_shares or _shares(now, model, fit)
    s_before = before_shares or _shares(before, model, fit)
    delta = s_now.values[NEGATIVE] - s_before.values[NEGATIVE]
    ci = difference_ci(s_now, s_before, NEGATIVE)
    significant = s_now.enough and s_before.enough and (ci[0] > 0 or ci[1] < 0)
    found: list[Mover] = []
    if now and before:
        for kind, key in (
            ("theme", lambda r: r.theme),
            ("source", lambda r: r.source),
            ("language", lambda r: r.lang),
        ):
            found += _by_group(kind, now, before, key, model, fit)
        loud = _loudest(now, s_now, s_before, before, model, delta, fit)
        if loud is not None:
            found.append(loud)
    found.sort(key=lambda m: -abs(m.contribution))
    return Movement(s_before, s_now, delta, ci, significant, tuple(found))


def _shares(rows: Sequence[Row], model: str | None, fit: Fit | None) -> Shares:
    return estimate([r.sentiment for r in rows], [r.weight for r in rows], model, fit=fit)


def _by_group(
    kind: str, now: Sequence[Row], before: Sequence[Row], key, model, fit: Fit | None
) -> list[Mover]:
    groups_now = _groups(now, key)
    groups_before = _groups(before, key)
    if len(set(groups_now) | set(groups_before)) < 2:
        return []  # one group is the whole window: it says nothing the total does not
    total_now = sum(r.weight for rows in groups_now.values() for r in rows)
    total_before = sum(r.weight for rows in groups_before.values() for r in rows)
    out = []
    for label in set(groups_now) | set(groups_before):
        a, b = groups_now.get(label, []), groups_before.get(label, [])
        f_now = sum(r.weight for r in a) / total_now if total_now else 0.0
        f_before = sum(r.weight for r in b) / total_before if total_before else 0.0
        s_now, s_before = _shares(a, model, fit), _shares(b, model, fit)
        share_now = s_now.values[NEGATIVE] if a else 0.0
        share_before = s_before.values[NEGATIVE] if b else 0.0
        contribution = f_now * share_now - f_before * share_before
        draws = _draws(s_now, a, f_now) - _draws(s_before, b, f_before)
        lo, hi = np.percentile(draws, [2.5, 97.5]) if len(draws) else (-1.0, 1.0)
        if abs(contribution) >= MIN_CONTRIBUTION:
            where: dict[str, float] = defaultdict(float)
            for r in a:
                where[r.source] += r.weight
            out.append(
                Mover(
                    kind,
                    label,
                    share_before,
                    share_now,
                    contribution,
                    (float(lo), float(hi)),
                    tuple(sorted(where, key=lambda n: -where[n])[:3]) if kind == "theme" else (),
                )
            )
    out.sort(key=lambda m: -abs(m.contribution))
    return out[:PER_KIND]


def _draws(shares: Shares, rows: Sequence[Row], fraction: float) -> np.ndarray:
    if not rows:
        return np.zeros(1)
    return fraction * shares.draws[:, NEGATIVE]


def _groups(rows: Sequence[Row], key) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in rows:
        k = key(r)
        if k is not None and r.weight > 0:
            out.setdefault(str(k), []).append(r)
    return out


def loudest(rows: Sequence[Row]) -> list[str]:
    """The accounts that posted at least three times the mean per account, and 3 posts, in
    the window (at most MAX_LOUD, loudest first)."""
    counts = Counter(r.author for r in rows if r.author)
    if len(counts) < 2:
        return []
    mean = sum(counts.values()) / len(counts)
    loud = [a for a, n in counts.most_common(MAX_LOUD) if n >= max(3, 3 * mean)]
    return loud


def _loudest(
    now: Sequence[Row],
    s_now: Shares,
    s_before: Shares,
    before: Sequence[Row],
    model: str | None,
    delta: float,
    fit: Fit | None,
) -> Mover | None:
    loud = set(loudest(now))
    if not loud:
        return None
    rest_now = [r for r in now if r.author not in loud]
    rest_before = [r for r in before if r.author not in loud]
    if not rest_now or not rest_before:
        return None
    q_now, q_before = _shares(rest_now, model, fit), _shares(rest_before, model, fit)
    without = q_now.values[NEGATIVE] - q_before.values[NEGATIVE]
    k = min(len(s_now.draws), len(q_now.draws), len(s_before.draws), len(q_before.draws))
    draws = (s_now.draws[:k, 0] - s_before.draws[:k, 0]) - (
        q_now.draws[:k, 0] - q_before.draws[:k, 0]
    )
    lo, hi = np.percentile(draws, [2.5, 97.5]) if k else (-1.0, 1.0)
    n = len(loud)
    return Mover(
        "authors",
        f"the {n} loudest account{'s' if n != 1 else ''}",
        q_before.values[NEGATIVE],
        q_now.values[NEGATIVE],
        delta - without,
        (float(lo), float(hi)),
    )


def rows_of(
    posts: Sequence, weights: Sequence[float], themes: dict[int, str] | None = None
) -> list[Row]:
    """Rows from stored window posts (anything with sentiment, source, lang and author)."""
    themes = themes or {}
    return [
        Row(p.sentiment, w, p.source, getattr(p, "lang", None), p.author, themes.get(n))
        for n, (p, w) in enumerate(zip(posts, weights, strict=True))
    ]
