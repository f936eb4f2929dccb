"""Corrections from the team: storing them, turning "not about this topic" into an exclusion,
and how well each model agrees with what the team said (and, once there are enough
corrections, whether they make the share estimates truer: sentibot/monitoring/share_fits.py)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sentibot.monitoring.share_fits import FIT_AFTER, TeamFit, corrected, judge
from sentibot.query import QueryError, parse_query
from sentibot.report.aggregate import terms
from sentibot.report.masking import model_name
from sentibot.storage import corrections as correction_store
from sentibot.storage import posts as post_store
from sentibot.storage import watches as watch_store
from sentibot.storage.models import AlertRule, Post, Score, Watch

LABELS = ("negative", "neutral", "positive")
_TERM = re.compile(r"^[^\W\d_][\w'-]{2,}$")


@dataclass(frozen=True)
class Corrected:
    label: str
    model: str | None  # the watch's or job's model, where known
    model_label: str | None
    watch_id: int | None
    topic: str | None
    exclusion: str | None  # a term to offer as `-term`, for "not about this topic"


def record(
    session: Session,
    team_id: str,
    channel_id: str,
    post_id: int,
    label: str,
    watch_id: int | None,
    user_id: str | None,
    now: datetime,
) -> Corrected | None:
    """Store the correction; None when the post is gone. A watch id not of this workspace's
    channel is ignored (the correction still counts for the workspace)."""
    post = session.get(Post, post_id)
    if post is None:
        return None
    watch = watch_store.get_watch(session, watch_id) if watch_id else None
    if watch is not None and (watch.team_id, watch.channel_id) != (team_id, channel_id):
        watch = None
    correction_store.correct(
        session, team_id, post_id, label, user_id, watch.id if watch else None, now
    )
    model = watch.model if watch else None
    model_label = (
        session.scalar(select(Score.label).where(Score.post_id == post_id, Score.model == model))
        if model
        else None
    )
    term = (
        distinctive_term(session, watch, post.text, now)
        if watch and label == correction_store.OFF_TOPIC
        else None
    )
    return Corrected(
        label, model, model_label, watch.id if watch else None, watch.topic if watch else None, term
    )


def distinctive_term(session: Session, watch: Watch, text: str, now: datetime) -> str | None:
    """The word of `text` most over-represented against the watch's other posts of the last
    week: what most likely made it match for the wrong reason."""
    others = [
        p.text
        for p in post_store.window_posts(session, watch, now - timedelta(days=7), now)
        if p.text != text
    ][:500]
    exclude = frozenset(terms(watch.topic))
    words = [t for t in set(terms(text, exclude)) if " " not in t and _TERM.match(t)]
    if not words:
        return None
    seen: Counter[str] = Counter()
    for other in others:
        seen.update(set(terms(other, exclude)) & set(words))
    # The rarest of its words among the watch's other posts; the longer one on a tie.
    return min(words, key=lambda w: (seen[w], -len(w), w))


def exclude(session: Session, team_id: str, channel_id: str, watch_id: int, term: str) -> str:
    """Add `-term` to the watch's query; the reply to show."""
    watch = watch_store.get_watch(session, watch_id)
    if watch is None or (watch.team_id, watch.channel_id) != (team_id, channel_id):
        return "That watch is gone."
    if not _TERM.match(term):
        return f"`{term}` cannot be excluded."
    try:
        topic = parse_query(f"{watch.topic} -{term}").canonical()
    except QueryError as exc:
        return f"Adding `-{term}` would not parse: {exc}"
    if topic == watch.topic:
        return f"“{watch.topic}” already leaves out `{term}`."
    if watch_store.channel_watch(session, team_id, channel_id, topic) is not None:
        return f"This channel already watches “{topic}”."
    old = watch.topic
    watch.topic = topic
    session.execute(update(AlertRule).where(AlertRule.watch_id == watch.id).values(topic=topic))
    return f"“{old}” now reads “{topic}”: its next run leaves out posts with `{term}`."


@dataclass(frozen=True)
class Agreement:
    model: str
    corrections: int
    agreeing: int
    confusion: dict[str, Counter[str]]  # team's label -> model's labels
    # From FIT_AFTER corrections: the share error with and without the team's own fit.
    shares: TeamFit | None = None

    @property
    def share(self) -> float:
        return self.agreeing / self.corrections if self.corrections else 0.0


def agreement(
    session: Session, team_id: str, watch_ids: list[int] | None = None
) -> list[Agreement]:
    rows = correction_store.corrected_scores(session, team_id, watch_ids)
    by_model: dict[str, list[tuple[str, str]]] = {}
    for model, model_label, team_label, _ in rows:
        by_model.setdefault(model_name(model), []).append((model_label, team_label))
    out = []
    for model, items in sorted(by_model.items()):
        confusion: dict[str, Counter[str]] = {label: Counter() for label in LABELS}
        for model_label, team_label in items:
            confusion[team_label][model_label] += 1
        agreeing = sum(m == t for m, t in items)
        judged = None
        if len(items) >= FIT_AFTER:
            judged = judge(*corrected(session, team_id, model, watch_ids), model)
        out.append(Agreement(model, len(items), agreeing, confusion, judged))
    return out
