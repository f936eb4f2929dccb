from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from devtools.corpus import CorpusPost, StaticCorpus
from devtools.reddit_standin import RedditStandIn
from devtools.twitter_standin import TwitterStandIn
from sentibot.sources import RetryPolicy

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def corpus(n: int, topic: str = "acme") -> StaticCorpus:
    posts = [
        CorpusPost(
            id=str(1000 + i),
            text=f"{topic} post number {i}",
            author=f"user{i % 7}",
            created_at=T0 + timedelta(minutes=i),
            likes=i,
            replies=1,
        )
        for i in range(n)
    ]
    posts.append(CorpusPost(id="9", text="nothing relevant here"))
    return StaticCorpus(posts)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def retry(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(attempts=3, backoff_s=0.5, max_wait_s=30, sleep=sleeps)


@pytest.fixture
def x_standin() -> Iterator[TwitterStandIn]:
    with TwitterStandIn(corpus(250)) as standin:
        yield standin


@pytest.fixture
def reddit_standin() -> Iterator[RedditStandIn]:
    with RedditStandIn(corpus(250)) as standin:
        yield standin
