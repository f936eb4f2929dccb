"""Corrections are a workspace's own: they change its figures and no other's."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from sentibot.monitoring.share_fits import FIT_AFTER, judge
from sentibot.report.quantify import estimate
from sentibot.sentiment import Sentiment
from sentibot.sources import Post as CollectedPost
from sentibot.storage import corrections as correction_store
from sentibot.storage import posts as post_store
from sentibot.storage import watches as watch_store
from sentibot.storage.models import utcnow
from sentibot.storage.workspaces import ensure_workspace
from sentibot.topic_scope import scored_as


def test_a_correction_changes_its_workspace_figures_only(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    posts = [
        CollectedPost(
            "hn", f"c{i}-{now.timestamp()}", f"acme post number {i}", created_at=now, lang="en"
        )
        for i in range(3)
    ]
    with sessions.begin() as s:
        ids = post_store.store_posts(s, posts)
        post_store.store_scores(
            s,
            scored_as("vader", "acme"),
            [(i, Sentiment("negative", -0.6, 0.7, 0.3, 0.0)) for i in ids],
        )
        watches = []
        for team in ("T1", "T2"):
            ensure_workspace(s, team)
            watch, _ = watch_store.upsert_watch(
                s, team_id=team, channel_id="C1", topic="acme", sources=["hn"], every_s=900,
                model="vader", user_id="U1", now=now,
            )  # fmt: skip
            watch_store.link_watch_posts(s, watch.id, ids)
            watches.append(watch.id)
        correction_store.correct(s, "T1", ids[0], "positive", "U1", watches[0], now)
        correction_store.correct(s, "T1", ids[1], "off_topic", "U1", watches[0], now)

    def labels(watch_id: int) -> list[str]:
        with sessions() as s:
            watch = watch_store.get_watch(s, watch_id)
            found = post_store.window_posts(s, watch, now - timedelta(hours=1), now + timedelta(1))
            return sorted(p.sentiment.label for p in found)

    assert labels(watches[0]) == ["negative", "positive"]  # one corrected, one left out
    assert labels(watches[1]) == ["negative", "negative", "negative"]

    def volume(watch_id: int) -> list[int | None]:
        with sessions() as s:
            watch = watch_store.get_watch(s, watch_id)
            return post_store.window_counts(s, watch, [(now, now + timedelta(hours=1))])

    assert volume(watches[0]) == [2]  # volume alerts do not count the off-topic post either
    assert volume(watches[1]) == [3]


def test_corrections_make_the_shares_truer_where_the_model_leans_in_a_team_s_domain() -> None:
    rng = random.Random(3)
    scores, truth = [], []
    lean = {"negative": (0.3, 0.6, 0.1), "neutral": (0.1, 0.8, 0.1), "positive": (0.05, 0.55, 0.4)}
    for _ in range(120):  # the model leans neutral here: half of what it calls so is negative
        team = rng.choice(["negative", "negative", "neutral", "positive"])
        probs = lean[team]
        scores.append(Sentiment("neutral", 0.0, *probs))
        truth.append(team)
    judged = judge(scores, truth, "transformer")
    assert judged.shipped_error is not None
    assert judged.pooled_error is not None
    assert judged.shipped_error > 20  # the shipped fit reads these as mostly neutral
    assert judged.pooled_error < judged.shipped_error / 2
    assert judged.used
    before = estimate(scores[:60], None, "transformer")
    after = estimate(scores[:60], None, "transformer", fit=judged.fit)
    true_negative = truth[:60].count("negative") / 60
    assert abs(after.values[0] - true_negative) < abs(before.values[0] - true_negative) / 2


def test_too_few_corrections_leave_the_shipped_fit() -> None:
    scores = [Sentiment("neutral", 0.0, 0.3, 0.6, 0.1)] * (FIT_AFTER - 1)
    judged = judge(scores, ["negative"] * (FIT_AFTER - 1), "transformer")
    assert judged.fit is None
    assert judged.shipped_error is None
