"""Shares as estimates: corrected for the model's errors, with intervals that hold the truth."""

from __future__ import annotations

import numpy as np

from scoring.base import get_scorer
from sentibot.report.aggregate import breakdown
from sentibot.report.masking import mask, scoped
from sentibot.report.movers import Row, movement
from sentibot.report.quantify import Fit, _fits, estimate, fit, solve
from sentibot.sentiment import LABELS, Sentiment

# A model that calls a tenth of the negatives neutral and a quarter of the neutrals positive.
CONFUSION = np.array([[0.8, 0.1, 0.1], [0.05, 0.7, 0.25], [0.02, 0.08, 0.9]])


def _posts(truth: tuple[float, float, float], n: int, seed: int) -> list[Sentiment]:
    rng = np.random.default_rng(seed)
    out = []
    for true in rng.choice(3, size=n, p=truth):
        said = rng.choice(3, p=CONFUSION[true])
        p = [0.0, 0.0, 0.0]
        p[said] = 1.0
        out.append(Sentiment(LABELS[said], p[2] - p[0], *p))
    return out


def _with_fit(monkeypatch) -> None:
    texts, gold = [], []
    for true in range(3):
        for s in _posts(tuple(float(k == true) for k in range(3)), 2000, 10 + true):
            texts.append(s)
            gold.append(LABELS[true])
    found = fit("toy", texts, gold, "labels")
    monkeypatch.setattr("sentibot.report.quantify._fits", lambda: {"toy": found})


def test_solve_recovers_shares_and_stays_on_the_simplex() -> None:
    pi = np.array([0.6, 0.1, 0.3])
    got = solve((CONFUSION.T @ pi)[None], CONFUSION[None])[0]
    assert np.allclose(got, pi)
    outside = solve(np.array([[1.0, 0.0, 0.0]]), CONFUSION[None])[0]
    assert outside.min() >= 0
    assert abs(outside.sum() - 1) < 1e-9


def test_estimates_are_closer_than_counting_and_their_intervals_hold_the_truth(
    monkeypatch,
) -> None:
    _with_fit(monkeypatch)
    inside = errors = counted_errors = 0
    mixes = [(0.8, 0.1, 0.1), (0.1, 0.2, 0.7), (0.4, 0.4, 0.2), (0.1, 0.8, 0.1)]
    for seed, mix in enumerate(mixes):
        posts = _posts(mix, 1500, 100 + seed)
        b = breakdown(posts, None, "toy")
        got = np.array([b.negative_share, b.neutral_share, b.positive_share])
        errors += np.abs(got - mix).max()
        counted_errors += np.abs(np.array(b.shares.counted) - mix).max()
        inside += sum(lo <= t <= hi for t, (lo, hi) in zip(mix, b.shares.ci95, strict=True))
        assert b.shares.method == "adjusted"
    assert errors / len(mixes) < 0.03
    assert counted_errors / len(mixes) > 0.08  # counting carries the errors into the share
    assert inside >= 10  # of 12 topic-class pairs


def test_a_corrected_post_counts_with_its_label_not_the_models() -> None:
    said = Sentiment("positive", 0.9, 0.0, 0.1, 0.9)
    known = Sentiment("negative", -0.9, 1.0, 0.0, 0.0, known=True)
    shares = estimate([said] * 30 + [known] * 30, None, "vader")
    assert shares.values[0] >= 0.5


def test_few_posts_say_so_and_get_a_wide_interval() -> None:
    s = estimate([Sentiment("negative", -0.5, 1, 0, 0)] * 5, None, "transformer")
    assert not s.enough
    lo, hi = s.ci95[0]
    assert hi - lo > 0.3 or lo == hi == 1.0


def test_the_shipped_fits_cover_the_shipped_models() -> None:
    fits: dict[str, Fit] = _fits()
    assert set(fits) >= {"vader", "transformer"}
    for found in fits.values():
        assert found.matrix.shape == (3, 3)
        assert np.allclose(found.matrix.sum(1), 1, atol=1e-3)
        assert found.replicates.shape[1:] == (3, 3)


def test_masking_reads_the_topic_as_an_account() -> None:
    terms = ("best buy", "kind")
    text = "Best Buy's kind staff! #bestbuy @KindSnacks kindness"
    assert mask(text, terms) == "@user @user staff! @user @user kindness"
    assert scoped("vader", ["Kind", "best  buy"]) == "vader|topic:best buy,kind"
    scorer = get_scorer(scoped("vader", ["united"]))
    assert scorer.score(["I love United"])[0].label == "positive"  # love still counts
    assert scorer.score(["United flight 12 to Denver"])[0].label == "neutral"


def _rows(n_neg: int, n_other: int, source: str, theme: str, author=None) -> list[Row]:
    neg = Sentiment("negative", -0.8, 1.0, 0.0, 0.0)
    pos = Sentiment("positive", 0.8, 0.0, 0.0, 1.0)
    rows = [Row(neg, 1.0, source, "en", author or f"{source}-n{i}", theme) for i in range(n_neg)]
    rows += [Row(pos, 1.0, source, "en", f"{source}-p{i}", theme) for i in range(n_other)]
    return rows


def test_movers_say_which_theme_and_source_moved_the_negative_share() -> None:
    before = _rows(20, 80, "x", "shipping") + _rows(20, 80, "reddit", "battery")
    now = (
        _rows(20, 80, "x", "shipping")
        + _rows(20, 80, "reddit", "battery")
        + _rows(100, 0, "x", "checkout")
    )
    moved = movement(now, before, None)
    assert moved.significant
    assert round(moved.delta, 2) == 0.27  # 20% -> 47%
    top = moved.movers[0]
    assert (top.kind, top.label) in {("theme", "checkout"), ("source", "x")}
    theme = next(m for m in moved.movers if m.kind == "theme" and m.label == "checkout")
    assert theme.contribution > 0.3
    assert theme.ci95[0] > 0
    parts = [m for m in moved.movers if m.kind == "theme"]
    assert abs(sum(m.contribution for m in parts) - moved.delta) < 0.02  # they add up


def test_the_loudest_accounts_are_taken_out_to_show_the_change_without_them() -> None:
    before = _rows(20, 80, "x", "a")
    now = _rows(20, 80, "x", "a") + _rows(60, 0, "x", "a", author="loud")
    moved = movement(now, before, None)
    loud = next(m for m in moved.movers if m.kind == "authors")
    assert loud.label == "the 1 loudest account"
    assert abs(loud.contribution - moved.delta) < 0.02  # the whole change is theirs
    assert abs(loud.now - loud.before) < 0.01


def test_a_change_inside_the_noise_is_not_a_change() -> None:
    before = _rows(10, 40, "x", "a")
    now = _rows(12, 38, "x", "a")
    assert not movement(now, before, None).significant
