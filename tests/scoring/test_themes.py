"""Themes by meaning on built corpora: a theme that appears in the second window is named and
marked new; the same posts give the same themes."""

from __future__ import annotations

import itertools

from scoring.base import get_scorer
from scoring.embed import embed
from scoring.integrity import weigh
from scoring.themes import find_themes

BATTERY = [
    f"the acme phone battery {a} {b}"
    for a, b in itertools.product(
        ["lasts two days", "drains overnight", "charges quickly", "gets warm when charging"],
        ["for me", "since the update", "on my old model", "compared to my last phone"],
    )
]
SHIPPING = [
    f"my acme order {a} {b}"
    for a, b in itertools.product(
        ["shipped in two days", "arrived in a crushed box", "came with tracking", "was delayed"],
        ["by the courier", "to my office", "before the weekend", "with a free case"],
    )
]
CHECKOUT = [
    f"acme checkout {a} {b}"
    for a, b in itertools.product(
        ["throws a payment error", "fails with error 500", "rejects my card", "times out"],
        ["when I pay", "on the last step", "every single time", "on mobile and desktop"],
    )
]


def _themes(texts: list[str], previous: list[str]):
    sentiments = get_scorer("vader").score(texts)
    found = weigh(texts, [f"u{i}" for i in range(len(texts))])
    return find_themes(texts, sentiments, found, "acme", embed, previous)


def test_a_theme_new_in_the_second_window_is_named_and_marked_new() -> None:
    themes = _themes(BATTERY + SHIPPING + CHECKOUT, previous=BATTERY + SHIPPING)
    checkout = [t for t in themes if "checkout" in t.label or "error" in " ".join(t.terms)]
    assert checkout, [t.label for t in themes]
    assert checkout[0].count >= 12
    assert checkout[0].change() == "new"
    assert checkout[0].negative_share > 0.3
    others = [t for t in themes if t is not checkout[0]]
    assert all(t.before for t in others)  # battery and shipping were there before


def test_the_same_posts_give_the_same_themes() -> None:
    texts = BATTERY + SHIPPING + CHECKOUT
    assert _themes(texts, []) == _themes(list(texts), [])


def test_too_few_messages_make_no_themes() -> None:
    assert _themes(BATTERY[:5], []) == []
