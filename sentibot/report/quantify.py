"""Shares as estimates: how many of the posts are negative, neutral and positive, corrected for
how the model errs, with a 95% interval.

Counting each post's label ("classify and count") carries the model's errors into the share, and
they do not cancel: a model under-reports negative when a topic is mostly negative and
over-reports it when a topic is mostly positive. Here the share is estimated by *adjusted*
classify-and-count (probabilistic where the model gives probabilities; Bella et al. 2010,
Forman 2008): for labelled posts the mean of the model's output is known for each true class
(the 3x3 matrix `M`, fitted by `sentibot fit-shares`), and the mean output over a topic's posts
is `M^T pi` for the topic's true shares `pi`; pi is solved on the simplex by least squares.

The interval bootstraps over the posts (Poisson weights) and over the fit (each draw takes one
of the fit's own bootstrap replicates of `M`). Posts the team corrected count with their label,
outside the estimate. A model with no fit (an `hf:` model) is counted, and says so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import numpy as np

from sentibot.sentiment import LABELS, Sentiment, split_scope

FITS = Path(__file__).resolve().parent / "shares.json"
DRAWS = 400
MAX_CELLS = 4_000_000  # draws x posts per bootstrap; large windows take fewer draws
MIN_DRAWS = 100
# A team's own fit (`pooled`) weighs the shipped fit as this many labelled posts per class.
SHIPPED_WEIGHT = 5
# Below this many posts (effective, after copies and capped authors) a share is "too few posts".
MIN_POSTS = 20

ADJUSTED = "adjusted"  # corrected for the model's errors (fitted on labelled data)
COUNTED = "counted"  # labels counted: no fit for this model


@dataclass(frozen=True)
class Fit:
    """How a model errs on labelled posts: row i of `matrix` is its mean output over posts
    whose true class is LABELS[i]; `replicates` are the same fitted on bootstrap resamples."""

    model: str
    output: str  # "probabilities" (the model's own) or "labels" (one-hot of its label)
    matrix: np.ndarray
    replicates: np.ndarray
    fitted_on: str = ""
    # How many labelled posts of each true class the fit saw (its weight beside a team's own).
    counts: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def as_dict(self) -> dict[str, object]:
        return {
            "output": self.output,
            "matrix": np.round(self.matrix, 6).tolist(),
            "replicates": np.round(self.replicates, 5).tolist(),
            "fitted_on": self.fitted_on,
            "counts": list(self.counts),
        }


@lru_cache(maxsize=1)
def _fits(path: Path = FITS) -> dict[str, Fit]:
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    return {
        model: Fit(
            model,
            f["output"],
            np.asarray(f["matrix"], dtype=float),
            np.asarray(f["replicates"], dtype=float),
            f.get("fitted_on", ""),
            tuple(f.get("counts", (0.0, 0.0, 0.0))),
        )
        for model, f in raw.items()
    }


def fit_for(model: str | None) -> Fit | None:
    """The shipped fit of `model` (a stored key scoped to a topic reads its model's)."""
    if not model:
        return None
    return _fits().get(split_scope(model)[0])


def outputs(sentiments: Sequence[Sentiment], output: str) -> np.ndarray:
    """The model's output per post, as the fit saw it (n x 3)."""
    if output == "probabilities":
        rows = [(s.negative, s.neutral, s.positive) for s in sentiments]
        out = np.asarray(rows, dtype=float).reshape(-1, 3)
        total = out.sum(1, keepdims=True)
        return np.divide(out, total, out=np.full_like(out, 1 / 3), where=total > 0)
    return one_hot([s.label for s in sentiments])


def one_hot(labels: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(labels), 3))
    for i, label in enumerate(labels):
        if label in LABELS:
            out[i, LABELS.index(label)] = 1.0
    return out


def fit(
    model: str,
    sentiments: Sequence[Sentiment],
    truth: Sequence[str],
    output: str,
    fitted_on: str = "",
    replicates: int = 200,
    seed: int = 7,
) -> Fit:
    """The model's fit from its scores of labelled posts (`truth`: their true labels)."""
    x = outputs(sentiments, output)
    y = np.asarray([LABELS.index(t) for t in truth])
    rng = np.random.default_rng(seed)

    def matrix(rows: np.ndarray) -> np.ndarray:
        return np.stack([x[rows][y[rows] == k].mean(0) for k in range(3)])

    everything = np.arange(len(y))
    reps = [matrix(rng.choice(everything, len(y))) for _ in range(replicates)]
    counts = (float((y == 0).sum()), float((y == 1).sum()), float((y == 2).sum()))
    return Fit(model, output, matrix(everything), np.stack(reps), fitted_on, counts)


def pooled(base: Fit, sentiments: Sequence[Sentiment], truth: Sequence[str], seed: int = 7) -> Fit:
    """`base` with a team's own labelled posts (its corrections): each class's row is the mean
    output over these and the base, which counts as at most SHIPPED_WEIGHT posts of the class
    (a team's posts are its domain; they soon outweigh the shipped fit). The replicates
    resample these beside the base's own."""
    x = outputs(sentiments, base.output)
    y = np.asarray([LABELS.index(t) for t in truth])
    c = np.minimum(np.asarray(base.counts, dtype=float), SHIPPED_WEIGHT)
    rng = np.random.default_rng(seed)

    def combined(base_matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = base_matrix.copy()
        for k in range(3):
            mine = x[rows][y[rows] == k]
            if len(mine):
                out[k] = (c[k] * base_matrix[k] + mine.sum(0)) / (c[k] + len(mine))
        return out

    everything = np.arange(len(y))
    reps = np.stack([combined(r, rng.choice(everything, len(y))) for r in base.replicates])
    had = base.counts
    counts = (
        float(had[0] + (y == 0).sum()),
        float(had[1] + (y == 1).sum()),
        float(had[2] + (y == 2).sum()),
    )
    where = f"{base.fitted_on} and {len(y)} of the team's corrections"
    return Fit(base.model, base.output, combined(base.matrix, everything), reps, where, counts)


# Every support of the simplex's faces: the solution lies in the interior of exactly one.
_SUPPORTS = [s for k in (1, 2, 3) for s in combinations(range(3), k)]


def solve(mean_output: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The shares pi on the simplex nearest to explaining `mean_output` as `matrix^T pi`, for
    each of a batch (b x 3 outputs, b x 3 x 3 matrices) at once."""
    b = mean_output.shape[0]
    best = np.full(b, np.inf)
    found = np.zeros((b, 3))
    for support in _SUPPORTS:
        k = len(support)
        a = np.transpose(matrix[:, list(support), :], (0, 2, 1))  # b x 3 x k
        if k == 1:
            pi_s = np.ones((b, 1))
        else:
            kkt = np.zeros((b, k + 1, k + 1))
            kkt[:, :k, :k] = 2 * a.transpose(0, 2, 1) @ a
            kkt[:, :k, k] = 1
            kkt[:, k, :k] = 1
            rhs = np.zeros((b, k + 1))
            rhs[:, :k] = 2 * np.einsum("bjk,bj->bk", a, mean_output)
            rhs[:, k] = 1
            pi_s = (np.linalg.pinv(kkt) @ rhs[..., None])[:, :k, 0]
        feasible = (pi_s >= -1e-9).all(1)
        residual = ((np.einsum("bjk,bk->bj", a, pi_s) - mean_output) ** 2).sum(1)
        better = feasible & (residual < best - 1e-15)
        best = np.where(better, residual, best)
        pi = np.zeros((b, 3))
        pi[:, list(support)] = np.clip(pi_s, 0, None)
        found = np.where(better[:, None], pi, found)
    return found / found.sum(1, keepdims=True)


@dataclass(frozen=True)
class Shares:
    """Estimated shares of negative, neutral and positive, with their 95% intervals."""

    values: tuple[float, float, float]
    ci95: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]
    counted: tuple[float, float, float]  # the labels as counted, for comparison
    method: str
    effective: float  # Kish's effective number of posts
    # Bootstrap draws of the shares (draws x 3): differences between windows and movers use them.
    draws: np.ndarray = field(compare=False, repr=False, default_factory=lambda: np.zeros((0, 3)))

    @property
    def enough(self) -> bool:
        return self.effective >= MIN_POSTS

    def as_dict(self) -> dict[str, list[float]]:
        return {
            label: [round(lo, 4), round(hi, 4)]
            for label, (lo, hi) in zip(LABELS, self.ci95, strict=True)
        }


NO_POSTS = Shares((0.0, 0.0, 0.0), ((0.0, 1.0),) * 3, (0.0, 0.0, 0.0), COUNTED, 0.0)


def estimate(
    sentiments: Sequence[Sentiment],
    weights: Sequence[float] | None = None,
    model: str | None = None,
    draws: int = DRAWS,
    seed: int = 20261207,
    fit: Fit | None = None,
) -> Shares:
    """The shares among `sentiments` (each weighed by `weights`), estimated for `model`'s
    errors: its shipped fit, or `fit` where given (a workspace's, from its corrections)."""
    n = len(sentiments)
    w = np.asarray(weights if weights is not None else [1.0] * n, dtype=float)
    if n == 0 or w.sum() <= 0:
        return NO_POSTS
    chosen = fit or fit_for(model)
    known = np.asarray([s.known for s in sentiments], dtype=bool)
    labels = one_hot([s.label for s in sentiments])
    x = outputs(sentiments, chosen.output) if chosen else labels
    matrix = chosen.matrix if chosen else np.eye(3)
    replicates = chosen.replicates if chosen else np.eye(3)[None]
    counted = tuple((w @ labels / w.sum()).tolist())
    point = _shares(w[None], x, labels, known, matrix[None])[0] if chosen else np.array(counted)
    draws = max(MIN_DRAWS, min(draws, MAX_CELLS // n))
    rng = np.random.default_rng(seed + n)
    g = rng.poisson(1.0, size=(draws, n)) * w[None]
    drawn = _shares(g, x, labels, known, replicates[np.arange(draws) % len(replicates)])
    lo, hi = np.percentile(drawn, [2.5, 97.5], axis=0)
    return Shares(
        tuple(point.tolist()),
        ((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])), (float(lo[2]), float(hi[2]))),
        counted,
        ADJUSTED if chosen else COUNTED,
        float(w.sum() ** 2 / (w**2).sum()),
        drawn,
    )


def _shares(
    g: np.ndarray, x: np.ndarray, labels: np.ndarray, known: np.ndarray, matrix: np.ndarray
) -> np.ndarray:
    """Shares under each row of post weights `g` (b x n) and fit matrices (b x 3 x 3)."""
    total = g.sum(1)
    unknown = g * ~known
    u_total = unknown.sum(1)
    mean = (unknown @ x) / np.maximum(u_total, 1e-12)[:, None]
    pi = solve(mean, matrix)
    known_part = (g * known) @ labels
    out = (known_part + u_total[:, None] * pi) / np.maximum(total, 1e-12)[:, None]
    empty = total <= 0
    out[empty] = 1 / 3
    return out


def difference_ci(now: Shares, before: Shares, label: int = 0) -> tuple[float, float]:
    """The 95% interval of `now` minus `before` for one class, from the two windows' draws
    (independent posts; the fit's replicates pair up, so its error mostly cancels)."""
    k = min(len(now.draws), len(before.draws))
    if k == 0:
        return (-1.0, 1.0)
    diff = now.draws[:k, label] - before.draws[:k, label]
    lo, hi = np.percentile(diff, [2.5, 97.5])
    return float(lo), float(hi)
