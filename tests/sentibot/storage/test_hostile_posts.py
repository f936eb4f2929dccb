"""A post the database refuses costs that post, never its batch (PostgreSQL and SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from sentibot.sources import Post
from sentibot.storage import posts as post_store
from sentibot.storage.models import Post as PostRow


def _post(i: int, text: str) -> Post:
    return Post("rss", str(i), text, "ann", None, datetime(2026, 1, 1, tzinfo=UTC))


def test_a_refused_post_is_skipped_and_the_rest_are_stored(sessions) -> None:
    hostile = [
        _post(1, "fine before"),
        _post(2, "a NUL \x00 byte"),  # PostgreSQL refuses NUL in text
        _post(3, "a lone \ud800 surrogate"),  # neither driver can encode it
        Post("rss", "4", "an author too long", "a" * 300, None, None),  # over VARCHAR(255)
        _post(5, "fine after"),
    ]
    with sessions.begin() as s:
        ids = post_store.store_posts(s, hostile)
    with sessions() as s:
        texts = set(s.scalars(select(PostRow.text)))
        count = s.scalar(select(func.count()).select_from(PostRow))
    assert {"fine before", "fine after"} <= texts
    assert "a lone \ud800 surrogate" not in texts
    assert len(ids) == count >= 2
