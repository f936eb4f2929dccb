"""Copies merged into one message, one author capped: the rules on built corpora."""

from __future__ import annotations

import random

import pytest

from sentibot.report.aggregate import breakdown
from sentibot.report.integrity import AUTHOR_CAP, near_duplicates, weigh
from sentibot.sentiment import Sentiment

NEG = Sentiment("negative", -0.8, 0.8, 0.2, 0.0)
POS = Sentiment("positive", 0.7, 0.0, 0.3, 0.7)
COPY = "Acme lost my order again and support will not answer, avoid them! https://t.co/abc"


def test_200_copies_from_200_accounts_count_as_one_message_of_200() -> None:
    texts = [COPY.replace("abc", f"x{i}") for i in range(200)]  # each with its own link
    texts += [f"RT @ally{i}: {COPY}" for i in range(3)] + ["acme lost my order again and "
              "support will not answer. avoid them"]  # fmt: skip
    texts += [
        f"My acme order number {i} arrived early, lovely packaging and a note" for i in range(5)
    ]
    found = weigh(texts, [f"bot{i}" for i in range(len(texts))])
    assert found.copies[0] == 204  # the copies, retweets and the edited one
    assert found.messages == 1 + 1  # and the templated thank-yous are one message too
    assert found.duplicates_merged == len(texts) - 2
    split = breakdown([NEG] * 204 + [POS] * 5, found.weights)
    assert split.negative_share == 0.5  # one message each way, not 204 to 5


def test_short_common_posts_from_different_people_are_not_merged() -> None:
    found = weigh(["I love acme"] * 5, ["a", "b", "c", "d", "e"])
    assert found.messages == 5
    assert found.weights == [1.0] * 5


def _different_posts(n: int, seed: int) -> list[str]:
    words = (
        "acme phone battery screen support slow fast great terrible love hate update broke "
        "fixed price shipping box camera app crash login refund store order warranty"
    ).split()
    rnd = random.Random(seed)
    return [" ".join(rnd.choice(words) for _ in range(12)) for _ in range(n)]


def test_one_authors_50_posts_weigh_no_more_than_the_cap() -> None:
    texts = _different_posts(50, seed=1) + _different_posts(100, seed=2)
    authors = ["angry"] * 50 + [f"u{i}" for i in range(100)]
    found = weigh(texts, authors)
    assert found.messages == 150  # none of them copies
    assert found.capped_authors == {"angry": 50}
    assert sum(found.weights[:50]) == pytest.approx(AUTHOR_CAP)
    split = breakdown([NEG] * 50 + [POS] * 100, found.weights)
    assert breakdown([NEG] * 50 + [POS] * 100).negative_share == pytest.approx(1 / 3)
    assert split.negative_share == pytest.approx(AUTHOR_CAP / (AUTHOR_CAP + 100))
    assert found.unique_authors == 101


def test_the_grouping_is_deterministic() -> None:
    texts = [f"{COPY} {i % 3}" for i in range(30)] + ["unrelated words entirely here " * 3]
    assert near_duplicates(texts) == near_duplicates(list(texts))


def test_template_spam_is_one_message_per_template_however_many_copies() -> None:
    """10,000 posts of one spam template, numbered or each with a random word: a handful of
    messages, not thousands of voices (and found without comparing every pair)."""
    import random
    import string

    from sentibot.report.integrity import near_duplicates

    rng = random.Random(5)
    numbered = [
        f"Congratulations! You won a free acme phone, claim at acme-prizes{i % 97}.example "
        f"now before it expires #{i}"
        for i in range(10_000)
    ]
    assert len(near_duplicates(numbered)) == 1
    worded = [
        f"Congratulations {''.join(rng.choices(string.ascii_lowercase, k=6))}! You won a free "
        "acme phone, claim yours at acme-prizes.example right now before it expires"
        for _ in range(10_000)
    ]
    assert len(near_duplicates(worded)) <= 3
    distinct = [
        "the acme battery died right after the latest update, twice today",
        "support fixed my acme login in minutes, great team",
        "acme shipping took three weeks and the box was crushed",
    ]
    # Each with a near copy (one more word): three messages, none merged with another.
    assert len(near_duplicates(distinct + [t + " again" for t in distinct])) == 3
