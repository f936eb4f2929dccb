"""Posts the X and Reddit stand-ins serve: a fixed list for tests, or the generated demo corpus."""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sentibot.query import Query, QueryError, parse_query


@dataclass(frozen=True)
class CorpusPost:
    id: str
    text: str
    author: str = "someone"
    created_at: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    likes: int = 0
    replies: int = 0
    lang: str = "en"
    # When the service indexed it, where that differs from what the client wrote (Bluesky).
    indexed_at: datetime | None = None
    # (shown text, full URL) of links a client shortened in the text (Bluesky's link facets).
    links: tuple[tuple[str, str], ...] = ()


class Corpus(Protocol):
    def search(self, query: Query) -> list[CorpusPost]:
        """Posts matching the query, newest first."""
        ...


def source_query(text: str, dialect: str) -> Query | None:
    """What a stand-in received, read back into sentibot's grammar (None: it does not parse).

    The compilers write X operators, Reddit's NOT, or Algolia's syntax; undoing them here keeps
    the stand-ins honest about what the collectors really sent.
    """
    if dialect == "x":
        text = text.replace("-is:retweet", " ")
    if dialect == "reddit":
        text = re.sub(r"\bNOT\s+", "-", text)
    text = re.sub(r"(^|\s)\(|\)(\s|$)", r"\1\2", text)
    try:
        return parse_query(text)
    except QueryError:
        return None


class StaticCorpus:
    def __init__(self, posts: Sequence[CorpusPost]) -> None:
        self.posts = list(posts)

    def search(self, query: Query) -> list[CorpusPost]:
        found = [p for p in self.posts if query.matches(p.text, p.lang)]
        return sorted(found, key=lambda p: (p.created_at, p.id), reverse=True)


POSITIVE = [
    "I love the new {t} update, it is fantastic!",
    "{t} support fixed my problem in minutes. Great service :)",
    "Honestly {t} is the best thing I bought this year",
    "Really impressed by {t}, smooth and fast",
    "Big thanks to the {t} team, awesome work",
]
NEGATIVE = [
    "{t} crashed again and I lost my work. Terrible.",
    "Worst experience with {t} support, still waiting after 3 days",
    "I hate how slow {t} has become, so frustrating",
    "{t} billing charged me twice. Not happy at all",
    "Disappointed with {t}, the latest release broke everything",
]
NEUTRAL = [
    "Anyone know if {t} ships to Canada?",
    "{t} announced a new version today",
    "Reading the {t} release notes",
    "Is {t} open on Sundays?",
]


# Where and when people say it: a clause per post, so the demo reads like many people talking
# rather than a few texts copied (report/integrity.py would rightly merge those).
WHEN = ["this morning", "last night", "after the weekend", "on my lunch break", "today",
        "since Tuesday", "for a week now", "again this evening"]  # fmt: skip
WHERE = ["on my laptop at work", "with the family plan", "here in Leeds", "from Lisbon",
         "on the train home", "in our small office", "at my parents' place", "on the old tablet",
         "with two kids around", "from the Denver store"]  # fmt: skip


class DemoCorpus:
    """A deterministic mix of opinions about any topic, different per source (seeded by name)."""

    def __init__(self, source: str, size: int = 40) -> None:
        self.source = source
        self.size = size

    def search(self, query: Query) -> list[CorpusPost]:
        topic = " ".join(group[0].text for group in query.groups)
        rng = random.Random(zlib.crc32(f"{self.source}:{topic.lower()}".encode()))
        now = datetime.now(UTC).replace(microsecond=0)
        pools = [POSITIVE] * 5 + [NEGATIVE] * 3 + [NEUTRAL] * 2
        posts = []
        base = zlib.crc32(topic.lower().encode()) % 10_000_000
        for i in range(self.size):
            template = rng.choice(rng.choice(pools))
            context = f"({rng.choice(WHEN)}, {rng.choice(WHERE)})"
            posts.append(
                CorpusPost(
                    id=str(10**15 + base * 100 + i),
                    text=f"{template.format(t=topic)} {context}",
                    author=f"{self.source}_user{rng.randint(1, 500)}",
                    created_at=now - timedelta(minutes=7 * i + rng.randint(0, 6)),
                    likes=rng.randint(0, 200),
                    replies=rng.randint(0, 30),
                )
            )
        return posts


CANCELLED = [
    "{t} cancelled my flight again, terrible, nobody answers the phone",
    "Third cancelled flight with {t} this month, awful and no refund",
    "{t} cancelled our flight at the gate, furious and stuck overnight",
    "So angry, {t} cancelled the flight and the rebooking is a disaster",
]


class MoodShiftCorpus:
    """A day of mostly content posts about `topic`, then a day in which cancelled flights turn
    it negative: what "why it moved" must explain. Other topics come from `rest`."""

    def __init__(
        self, topic: str, rest: Corpus | None = None, per_day: int = 60, source: str = ""
    ) -> None:
        self.topic, self.rest = topic, rest
        seed = zlib.crc32(f"{source}:{topic}".encode())
        rng = random.Random(seed)
        now = datetime.now(UTC).replace(microsecond=0)
        before = [POSITIVE] * 6 + [NEUTRAL] * 3 + [NEGATIVE] * 1
        after = [CANCELLED] * 6 + [POSITIVE] * 2 + [NEUTRAL] * 2
        self.posts: list[CorpusPost] = []
        for day, pools in ((1, before), (0, after)):
            for i in range(per_day):
                pool = pools[i % len(pools)]
                text = rng.choice(pool).format(t=topic)
                n = len(self.posts)
                self.posts.append(
                    CorpusPost(
                        id=str(9 * 10**15 + seed * 1000 + n),
                        text=f"{text} ({rng.choice(WHEN)}, {rng.choice(WHERE)}, #{n})",
                        author=f"{source or 'someone'}_traveller{n}",
                        created_at=now - timedelta(days=day, minutes=20 * i + 30),
                    )
                )

    def search(self, query: Query) -> list[CorpusPost]:
        if self.topic not in query.canonical():
            return self.rest.search(query) if self.rest is not None else []
        found = [p for p in self.posts if query.matches(p.text, p.lang)]
        return sorted(found, key=lambda p: (p.created_at, p.id), reverse=True)
