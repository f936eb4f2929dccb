"""Prometheus metrics for `GET /metrics`.

Two kinds:
- measured in the bot's processes: request (ack) latency, a histogram. `sentibot serve` runs
  several gunicorn workers, so it sets PROMETHEUS_MULTIPROC_DIR and a scrape sums them all;
- read from what every process shares (the database and the broker): jobs by state, analysis
  durations over the last hour, queue depth, posts collected and scored per source, watches,
  firing alerts. These are right however many workers run, on any machine; they are read at
  most once a minute per process (SHARED_STATE_TTL_S) and served from that in between.

Served only with METRICS_TOKEN set, to a scraper that sends it (bot/serve.py).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from prometheus_client import CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from sentibot.config.settings import Settings
from sentibot.queues import QUEUES
from sentibot.report.masking import model_name
from sentibot.sentiment import UNSCORED
from sentibot.storage.models import AlertRule, AlertState, Job, Post, Score, Watch, utcnow
from sentibot.storage.session import sessionmaker_for

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
JOB_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600)

REQUEST_SECONDS = Histogram(
    "sentibot_request_seconds",
    "Time to answer Slack's requests (slash commands: the acknowledgement)",
    ["kind"],
    buckets=ACK_BUCKETS,
)


def timed(kind: str, handle: Callable[[], object]) -> object:
    started = time.perf_counter()
    try:
        return handle()
    finally:
        REQUEST_SECONDS.labels(kind).observe(time.perf_counter() - started)


class SharedStateCollector(Collector):
    """Figures read from the database and the broker at scrape time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        with sessionmaker_for(self.settings.effective_database_url)() as session:
            jobs = GaugeMetricFamily("sentibot_jobs", "Analysis jobs by state", labels=["state"])
            counts = dict(
                session.execute(select(Job.state, func.count()).group_by(Job.state)).all()
            )
            for state in ("queued", "started", "done", "failed"):
                jobs.add_metric([state], counts.get(state, 0))
            yield jobs
            yield self._durations(session)
            posts = GaugeMetricFamily(
                "sentibot_posts_collected", "Posts stored, by source", labels=["source"]
            )
            for source, n in session.execute(
                select(Post.source, func.count()).group_by(Post.source)
            ):
                posts.add_metric([source], n)
            yield posts
            scored = GaugeMetricFamily(
                "sentibot_posts_scored",
                "Scores stored, by source and model",
                labels=["source", "model"],
            )
            rows = session.execute(
                select(Post.source, Score.model, func.count())
                .join(Score, Score.post_id == Post.id)
                .where(Score.label != UNSCORED)
                .group_by(Post.source, Score.model)
            )
            by_model: dict[tuple[str, str], int] = {}
            for source, model, n in rows:  # keys scoped to topics counted under their model
                key = (source, model_name(model))
                by_model[key] = by_model.get(key, 0) + n
            for labels, n in by_model.items():
                scored.add_metric(list(labels), n)
            yield scored
            yield GaugeMetricFamily(
                "sentibot_watches",
                "Watches",
                value=session.scalar(select(func.count()).select_from(Watch)) or 0,
            )
            firing = session.scalar(
                select(func.count())
                .select_from(AlertRule)
                .where(AlertRule.state == AlertState.FIRING)
            )
            yield GaugeMetricFamily(
                "sentibot_alerts_firing", "Alert rules firing", value=firing or 0
            )
        yield self._queues()

    def _durations(self, session) -> HistogramMetricFamily:
        """Request to answer, for analyses finished in the last hour."""
        since = utcnow() - timedelta(hours=1)
        rows = session.execute(
            select(Job.created_at, Job.finished_at).where(
                Job.finished_at.is_not(None), Job.finished_at >= since
            )
        ).all()
        seconds = [(end - start).total_seconds() for start, end in rows]
        buckets = [(str(b), sum(1 for s in seconds if s <= b)) for b in JOB_BUCKETS]
        buckets.append(("+Inf", len(seconds)))
        family = HistogramMetricFamily(
            "sentibot_job_seconds", "Analyses finished in the last hour: request to answer"
        )
        family.add_metric([], buckets, sum_value=sum(seconds))
        return family

    def _queues(self) -> GaugeMetricFamily:
        import redis

        from sentibot.embedded import redis_client_url

        depth = GaugeMetricFamily(
            "sentibot_queue_depth", "Messages waiting per queue", labels=["queue"]
        )
        try:
            client = redis.Redis.from_url(redis_client_url(self.settings), socket_timeout=2)
            for queue in QUEUES:
                depth.add_metric(
                    [queue], client.llen(f"{self.settings.sentibot_broker_prefix}{queue}")
                )
        except redis.RedisError:
            pass  # the broker's health is /healthz's business; the scrape still answers
        return depth


# The shared-state figures count whole tables: read them at most this often per process, so a
# scrape every few seconds (or a flood of them) costs one count a minute.
SHARED_STATE_TTL_S = 60.0
_shared: dict[str, tuple[float, bytes]] = {}
_shared_lock = threading.Lock()


def render(settings: Settings) -> bytes:
    registry = CollectorRegistry()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
    return generate_latest(registry) + _shared_state(settings)


def _shared_state(settings: Settings) -> bytes:
    key = settings.effective_database_url
    with _shared_lock:
        cached = _shared.get(key)
        if cached is None or time.monotonic() - cached[0] > SHARED_STATE_TTL_S:
            registry = CollectorRegistry()
            registry.register(SharedStateCollector(settings))
            cached = (time.monotonic(), generate_latest(registry))
            _shared[key] = cached
    return cached[1]
