"""What a workspace's people said a post really is (a label, or not about the topic)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sentibot.sentiment import Sentiment
from sentibot.storage.models import Correction, Score
from sentibot.storage.statements import dialect_insert, rows_changed

OFF_TOPIC = "off_topic"
LABELS = ("negative", "neutral", "positive", OFF_TOPIC)


# A corrected post counts as its label at least this strongly (a model's weak "positive"
# corrected to negative weighs like a clear negative post).
CORRECTED_STRENGTH = 0.5


def corrected(sentiment: Sentiment, label: str | None) -> Sentiment | None:
    """The post's sentiment in its workspace's figures: as scored, as corrected, or None when
    the workspace said it is not about the topic (left out of every figure)."""
    if label is None:
        return sentiment
    if label == OFF_TOPIC:
        return None
    strength = max(abs(sentiment.compound), CORRECTED_STRENGTH)
    compound = {"negative": -strength, "neutral": 0.0, "positive": strength}[label]
    shares = {k: float(k == label) for k in ("negative", "neutral", "positive")}
    return Sentiment(
        label, compound, shares["negative"], shares["neutral"], shares["positive"], known=True
    )


def correct(
    session: Session,
    team_id: str,
    post_id: int,
    label: str,
    user_id: str | None,
    watch_id: int | None,
    now: datetime,
) -> None:
    """The workspace's word on a post; a later correction of the same post replaces it."""
    if label not in LABELS:
        raise ValueError(f"unknown correction {label!r}")
    inserted = session.execute(
        dialect_insert(session, Correction.__table__)
        .values(
            team_id=team_id,
            post_id=post_id,
            label=label,
            user_id=user_id,
            watch_id=watch_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["team_id", "post_id"])
    )
    if rows_changed(inserted) == 0:
        session.execute(
            update(Correction)
            .where(Correction.team_id == team_id, Correction.post_id == post_id)
            .values(label=label, user_id=user_id, created_at=now)
        )


def team_corrections(
    session: Session, team_id: str, post_ids: Iterable[int] | None = None
) -> dict[int, str]:
    query = select(Correction.post_id, Correction.label).where(Correction.team_id == team_id)
    if post_ids is not None:
        ids = list(post_ids)
        if not ids:
            return {}
        query = query.where(Correction.post_id.in_(ids))
    return dict(session.execute(query).all())


def corrected_scores(
    session: Session, team_id: str, watch_ids: Iterable[int] | None = None
) -> list[tuple[str, str, str, list[float]]]:
    """(model, model's label, team's label, [negative, neutral, positive]) of every corrected
    post the models scored, for agreement and the workspace's share fit; posts left out as
    off-topic are not a sentiment and are not listed."""
    query = (
        select(
            Score.model,
            Score.label,
            Correction.label,
            Score.negative,
            Score.neutral,
            Score.positive,
        )
        .select_from(Correction)
        .join(Score, Score.post_id == Correction.post_id)
        .where(
            Correction.team_id == team_id,
            Correction.label != OFF_TOPIC,
            Score.label != "unscored",
        )
    )
    if watch_ids is not None:
        query = query.where(Correction.watch_id.in_(list(watch_ids)))
    return [(m, ml, tl, [n, u, p]) for m, ml, tl, n, u, p in session.execute(query)]
