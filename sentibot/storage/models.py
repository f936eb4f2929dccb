"""SQLAlchemy 2 typed models. The same schema runs on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigID = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the app is uninstalled (or its tokens revoked): nothing of the workspace runs,
    # and nothing is deleted, until a reinstall clears it.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobState(StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"


# A job in one of these still owes its user an answer.
UNFINISHED = (JobState.QUEUED, JobState.STARTED)


# Job kinds: an analysis reports to the channel; a preview answers only the person who asked.
ANALYZE = "analyze"
PREVIEW = "preview"
EXPORT = "export"


class JobStage(StrEnum):
    COLLECT = "collect"
    SCORE = "score"
    NOTIFY = "notify"


class Job(Base):
    """A user's request, written before it is acknowledged (the outbox the sweeper reads)."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_state_updated", "state", "updated_at"),
        # A person's analyses of the last minute (the quota), however long the team's history.
        Index("ix_jobs_team_user_created", "team_id", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default=ANALYZE)
    topic: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_limit: Mapped[int] = mapped_column(Integer, default=200)
    # The report covers posts of the last `window_s` seconds, against the window before.
    window_s: Mapped[int] = mapped_column(Integer, default=86_400, server_default="86400")
    model: Mapped[str] = mapped_column(String(255), default="vader")
    channel_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    response_url: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED)
    stage: Mapped[str] = mapped_column(String(16), default=JobStage.COLLECT)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Per-source outcome of collection: {"x": {"status": "ok", "count": 12, "reason": null}, ...}
    source_reports: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    message_channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # The chart uploaded in the summary's thread (so a redelivered notify does not upload twice).
    chart_file_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker running the job's stage now ("host pid"), and when it last said it was alive.
    worker: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Watch(Base):
    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "topic"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id"), index=True)
    topic: Mapped[str] = mapped_column(Text)
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel_id: Mapped[str] = mapped_column(String(32))
    interval_s: Mapped[int] = mapped_column(Integer, default=900)
    model: Mapped[str] = mapped_column(String(255), default="vader")
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Alerts on the watch's topic are silent until then (`/sentiment mute`).
    muted_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where the watch's history is complete: its creation, or earlier once a backfill read
    # every source back to here (volume baselines count windows from then on).
    history_from: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def history_start(self) -> datetime:
        """From when the watch's posts are complete (windows before it are unknown, not 0)."""
        if self.history_from is not None and self.history_from < self.created_at:
            return self.history_from
        return self.created_at


class BackfillState(StrEnum):
    PLANNED = "planned"  # the dispatcher sends it; X first estimates its cost
    CONFIRM = "confirm"  # X's estimate is above the share of the day's cap: waits for a button
    APPROVED = "approved"  # the button was pressed: read without asking again
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class Backfill(Base):
    """Reading a new watch's source back in time, once, in its own low-priority task."""

    __tablename__ = "backfills"
    __table_args__ = (
        UniqueConstraint("watch_id", "source"),
        Index("ix_backfills_state", "state"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    watch_id: Mapped[int] = mapped_column(BigID, ForeignKey("watches.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default=BackfillState.PLANNED)
    # X only: posts the counts endpoint expects the read to bill, told before reading.
    estimate: Mapped[int | None] = mapped_column(Integer)
    posts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # How far back the read reached: `since`, or the oldest post when the limit cut it short.
    reached: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Read from here instead of `since` when a removed watch of the topic already holds the
    # history before it (watching again re-links that instead of paying for it twice).
    read_from: Mapped[datetime | None] = mapped_column(UTCDateTime)


class KeptHistory(Base):
    """What a removed watch had read of one source: watching the topic again in the
    workspace re-links these posts instead of reading (and, on X, paying for) them again."""

    __tablename__ = "kept_histories"
    __table_args__ = (Index("ix_kept_histories_topic", "team_id", "topic", "source"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    topic: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))
    # Complete from `since` to `until` (the watch's removal).
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    post_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class WatchPost(Base):
    """A post matched by a watch (a post can match many watches; it is stored once)."""

    __tablename__ = "watch_posts"

    watch_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SourceHealth(StrEnum):
    OK = "ok"
    FAILING = "failing"
    SILENT = "silent"


class SourceState(Base):
    """Per (watch, source): where the next run starts, and what the channel was last told."""

    __tablename__ = "source_states"

    watch_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("watches.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    health: Mapped[str] = mapped_column(String(16), default=SourceHealth.OK)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posts_total: Mapped[int] = mapped_column(Integer, default=0)
    # A run is reading this source since then: a second delivery of the same run (a broker
    # that restored its message) reads nothing, and pays X nothing, while this one is out.
    reading_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class XUsage(Base):
    """X posts read per workspace per UTC day, against X_DAILY_POST_CAP."""

    __tablename__ = "x_usage"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, UTC
    posts_read: Mapped[int] = mapped_column(Integer, default=0)


class Notice(Base):
    """An outbox for channel notices (source health now; alerts and digests later): written in
    the transaction that decided it, sent by a task, re-sent by the dispatcher if lost."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_unsent", "sent_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id"), index=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Claims so far: past MAX_SENDS the message is given up (sent_at set, no ts) and logged.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # Block Kit for a notice with buttons (a backfill asking before it spends); else the text.
    blocks: Mapped[list | None] = mapped_column(JSON)


class PostingRecord(Base):
    """The idempotency ledger of messages posted to Slack: a row is written before the post and
    given its ts after, so a retry after a crash in between finds the message instead of posting
    it again."""

    __tablename__ = "deliveries"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message_channel: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))


class ScoreRequest(Base):
    """Posts the sentiment processor has sent to the score queue and not yet seen scored."""

    __tablename__ = "score_requests"

    post_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(255), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Times sent: at MAX_SCORE_ATTEMPTS the post is no longer requested (and was logged).
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Post(Base):
    """A post as collected; stored once per (source, external id) whoever asked for it."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_posts_source_external"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(16))
    engagement: Mapped[int] = mapped_column(Integer, default=0)
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobPost(Base):
    __tablename__ = "job_posts"

    job_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Score(Base):
    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("post_id", "model", name="uq_scores_post_model"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigID, ForeignKey("posts.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(16))
    compound: Mapped[float] = mapped_column(Float)
    negative: Mapped[float] = mapped_column(Float)
    neutral: Mapped[float] = mapped_column(Float)
    positive: Mapped[float] = mapped_column(Float)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Digest(Base):
    """A channel's digest schedule: daily or weekly at a local time in a named time zone."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", name="uq_digests_channel"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id"), index=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    cadence: Mapped[str] = mapped_column(String(16))  # "daily" or "weekly"
    weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday
    local_time: Mapped[str] = mapped_column(String(5))  # HH:MM
    tz: Mapped[str] = mapped_column(String(64))
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestRun(Base):
    """One period's digest: the unique key makes it exactly once per period, whoever claims it."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("digest_id", "period_end", name="uq_digest_runs_period"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    digest_id: Mapped[int] = mapped_column(BigID, ForeignKey("digests.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Claims so far: past MAX_SENDS the message is given up (sent_at set, no ts) and logged.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(32))


class AlertState(StrEnum):
    OK = "ok"
    FIRING = "firing"


class AlertRule(Base):
    """`alert <topic> when <metric> <op> <threshold>`: its settings and where its life stands."""

    __tablename__ = "alert_rules"
    __table_args__ = (Index("ix_alert_rules_next_eval", "next_eval_at"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id"), index=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    watch_id: Mapped[int] = mapped_column(BigID, ForeignKey("watches.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(Text)
    metric: Mapped[str] = mapped_column(String(16))
    op: Mapped[str] = mapped_column(String(1))
    threshold: Mapped[float] = mapped_column(Float)
    window_s: Mapped[int] = mapped_column(Integer, default=3600)
    cooldown_s: Mapped[int] = mapped_column(Integer, default=7200)
    min_posts: Mapped[int] = mapped_column(Integer, default=10)
    state: Mapped[str] = mapped_column(String(16), default=AlertState.OK)
    value: Mapped[float | None] = mapped_column(Float)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    next_eval_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertEvent(Base):
    """Alert history: every firing, update, snooze and resolution, shown by `/sentiment alerts`."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("alert_rules.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # fired, resolved, snoozed, held
    value: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Webhook(Base):
    """An HTTPS endpoint a workspace's admin asked to hear alerts and digests at."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    # The signing secret, encrypted with SENTIBOT_SECRET_KEYS where that is set.
    secret: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook: the outbox row, its attempts, and how it ended."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        BigID, ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)  # the exact JSON sent (and signed) on every attempt
    state: Mapped[str] = mapped_column(String(16), default="pending")  # delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Correction(Base):
    """What a workspace's people say a post really is: a label, or not about the topic."""

    __tablename__ = "corrections"
    __table_args__ = (UniqueConstraint("team_id", "post_id"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), ForeignKey("workspaces.team_id"), index=True)
    post_id: Mapped[int] = mapped_column(BigID, ForeignKey("posts.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(16))  # negative, neutral, positive, off_topic
    watch_id: Mapped[int | None] = mapped_column(
        BigID, ForeignKey("watches.id", ondelete="SET NULL")
    )
    user_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
