"""Themes by meaning on built corpora: a theme that appears in the second window is named and
marked new; the same posts give the same themes."""

from __future__ import annotations

import itertools

from scoring.base import get_scorer
from scoring.embed import embed
from sentibot.report.integrity import weigh
from sentibot.report.themes import find_themes, plain

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


def _themes(texts: list[str], previous: list[str], topic: str = "acme"):
    sentiments = get_scorer("vader").score(texts)
    found = weigh(texts, [f"u{i}" for i in range(len(texts))])
    return find_themes(texts, sentiments, found, topic, embed, previous)


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


def test_themes_follow_what_posts_say_not_whom_they_mention() -> None:
    # Half of each complaint names @Delta, half @JetBlue: grouped by account, the two
    # complaints would mix; grouped by what they say, each theme is one complaint.
    def complaint(text: str, tails: list[str]) -> list[str]:
        pairs = enumerate(itertools.product(["Delta", "JetBlue"], tails))
        return [f"@{who} {text} {tail} https://t.co/{text[0]}{i}" for i, (who, tail) in pairs]

    lost = complaint(
        "lost my bag",
        ["in Boston", "on the way to Denver", "again", "and nobody calls back",
         "with my laptop inside", "for the second time"],
    )  # fmt: skip
    late = complaint(
        "flight delayed",
        ["three hours", "overnight", "with no explanation", "and the crew left",
         "past midnight", "until tomorrow"],
    )  # fmt: skip
    themes = _themes(lost + late, [], topic="airline")
    assert len(themes) == 2
    members = [set(t.members) for t in themes]
    assert set(range(len(lost))) in members  # every lost-bag post in one theme, nothing else
    for t in themes:
        assert not {"delta", "jetblue", "co", "https"} & set(" ".join(t.terms).split())
        words = t.label.replace(" / ", " ").split()
        assert len({w.rstrip("s") for w in words}) == len(words), t.label  # no `bag / bags`


def test_plain_drops_links_mentions_and_the_topic_s_words() -> None:
    text = (
        "Flying @united to Chicago, United's gate agent was kind https://t.co/abc #UnitedAirlines"
    )
    assert plain(text, "united") == "Flying to Chicago, gate agent was kind"
    assert plain("Best Buy lost it; bestbuy never called", '"best buy" OR bestbuy -jobs') == (
        "lost it; never called"
    )
