"""A workspace's own fit of how a model errs, from its team's corrections, for the share
estimates (report/quantify.py).

Once a workspace has corrected FIT_AFTER posts scored by a model, its corrections join the
shipped fit (`quantify.pooled`: each corrected post counts once, the shipped fit as five posts
of each class, so a team's own domain soon outweighs it). Whether that helps is judged
by share error, not by agreement: the corrected posts are split into five folds, and each
fold's shares are estimated with the shipped fit and with the pooled one fitted on the other
four; the pooled fit is used only where its mean error is lower. Teams tend to correct the
posts the model got wrong, so the judgement is on the team's own posts, as they labelled them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from sentibot.report.masking import model_name
from sentibot.report.quantify import Fit, estimate, fit_for, pooled
from sentibot.sentiment import LABELS, Sentiment
from sentibot.storage import corrections as correction_store

FIT_AFTER = 50
FOLDS = 5


@dataclass(frozen=True)
class TeamFit:
    model: str
    corrections: int
    shipped_error: float | None = None  # cross-validated share error, points (None: too few)
    pooled_error: float | None = None
    fit: Fit | None = None  # what reports use; None: the shipped fit

    @property
    def used(self) -> bool:
        return self.fit is not None


def corrected(
    session: Session, team_id: str, model: str, watch_ids: Iterable[int] | None = None
) -> tuple[list[Sentiment], list[str]]:
    """The workspace's corrected posts as `model` scored them, and the team's labels."""
    rows = correction_store.corrected_scores(session, team_id, watch_ids)
    found = sorted(
        (team_label, model_label, tuple(probs))
        for m, model_label, team_label, probs in rows
        if model_name(m) == model_name(model)
    )
    scores = [Sentiment(ml, 0.0, probs[0], probs[1], probs[2]) for _, ml, probs in found]
    return scores, [t for t, _, _ in found]


def judge(scores: list[Sentiment], truth: list[str], model: str) -> TeamFit:
    """The shipped and the pooled fit's share error on folds of the corrections left out."""
    base = fit_for(model)
    n = len(scores)
    if base is None or n < FIT_AFTER or not any(base.counts):
        return TeamFit(model_name(model), n)
    errors: dict[str, list[float]] = {"shipped": [], "pooled": []}
    for k in range(FOLDS):
        test = [i for i in range(n) if i % FOLDS == k]
        train = [i for i in range(n) if i % FOLDS != k]
        true = np.array([sum(truth[i] == c for i in test) / len(test) for c in LABELS])
        held = [scores[i] for i in test]
        team = pooled(base, [scores[i] for i in train], [truth[i] for i in train])
        for name, chosen in (("shipped", base), ("pooled", team)):
            got = np.array(estimate(held, None, model, draws=0, fit=chosen).values)
            errors[name].append(float(np.abs(got - true).mean() * 100))
    shipped, mine = float(np.mean(errors["shipped"])), float(np.mean(errors["pooled"]))
    use = pooled(base, scores, truth) if mine < shipped else None
    return TeamFit(model_name(model), n, shipped, mine, use)


def team_fit(session: Session, team_id: str | None, model: str | None) -> Fit | None:
    """The fit a workspace's reports use for `model`: its own where it helps, else None."""
    if not team_id or not model or fit_for(model) is None:
        return None
    scores, truth = corrected(session, team_id, model)
    if len(scores) < FIT_AFTER:
        return None
    return judge(scores, truth, model).fit
