"""The on-demand analysis, step by step, as plain functions over a database session.

Tasks call these one stage at a time; the CLI runs the same domain steps in-process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from sentibot.collectors.base import Collector, Post, SourceSkipped
from sentibot.collectors.query import parse_query
from sentibot.collectors.registry import SourceReport, collect
from sentibot.scoring.aggregate import Breakdown, ScoredText, Summary, summarize
from sentibot.scoring.base import Scorer
from sentibot.storage import queries
from sentibot.storage.models import Job

SCORE_BATCH = 256


def store_collection(
    session: Session, job: Job, posts: Sequence[Post], reports: Mapping[str, SourceReport]
) -> int:
    """Store posts once per (source, external id), link them to the job, record each source."""
    ids = queries.store_posts(session, posts)
    queries.link_job_posts(session, job.id, ids)
    queries.set_source_reports(job, {name: r.as_dict() for name, r in reports.items()})
    return len(ids)


def score_job_posts(session: Session, job: Job, scorer: Scorer, batch: int = SCORE_BATCH) -> int:
    """Score the job's posts that have no score under the job's model yet, in batches."""
    done = 0
    while rows := queries.unscored_job_posts(session, job.id, job.model, limit=batch):
        sentiments = scorer.score([text for _, text in rows])
        queries.store_scores(
            session, job.model, list(zip([pid for pid, _ in rows], sentiments, strict=True))
        )
        session.flush()
        done += len(rows)
    return done


@dataclass(frozen=True)
class JobReport:
    summary: Summary
    sources: dict[str, SourceReport]
    posts: list[ScoredText] = field(default_factory=list)
    # (when posted, compound) per post, for the chart.
    timeline: list[tuple[datetime, float]] = field(default_factory=list)


def job_report(session: Session, job: Job) -> JobReport:
    scored = queries.scored_job_posts(session, job)
    summary = summarize(job.topic, [(p.source, p.sentiment) for p in scored])
    sources = {name: SourceReport.from_dict(r) for name, r in (job.source_reports or {}).items()}
    posts = [ScoredText(p.text, p.sentiment, p.engagement, p.url, p.source) for p in scored]
    timeline = [(p.posted_at, p.sentiment.compound) for p in scored if p.posted_at]
    return JobReport(summary, sources, posts, timeline)


def analyze_in_process(
    topic: str,
    collectors: Mapping[str, Collector | SourceSkipped],
    scorer: Scorer,
    limit: int,
) -> JobReport:
    """One analysis with no broker and no database: collect, score, summarize."""
    collection = collect(parse_query(topic), collectors, limit)
    reports = collection.reports
    unique = list({(p.source, p.external_id): p for p in collection.posts}.values())
    sentiments = scorer.score([p.text for p in unique]) if unique else []
    pairs = list(zip(unique, sentiments, strict=True))
    summary = summarize(topic, [(p.source, s) for p, s in pairs])
    posts = [ScoredText(p.text, s, p.engagement, p.url, p.source) for p, s in pairs]
    timeline = [(p.created_at, s.compound) for p, s in pairs if p.created_at]
    return JobReport(summary, reports, posts, timeline)


def report_as_json(report: JobReport) -> dict[str, object]:
    s = report.summary
    return {
        "topic": s.topic,
        "count": s.count,
        "mean_compound": round(s.overall.mean_compound, 4),
        "mean_compound_ci95": [round(s.overall.ci_low, 4), round(s.overall.ci_high, 4)],
        "shares": _shares(s.overall),
        "net_sentiment": round(s.overall.net, 4),
        "by_source": {name: b.count for name, b in s.by_source.items()},
        "sources": {
            name: {
                **r.as_dict(),
                **(
                    {
                        "mean_compound": round(s.by_source[name].mean_compound, 4),
                        "shares": _shares(s.by_source[name]),
                    }
                    if name in s.by_source
                    else {}
                ),
            }
            for name, r in report.sources.items()
        },
    }


def _shares(b: Breakdown) -> dict[str, float]:
    return {
        "negative": round(b.negative_share, 4),
        "neutral": round(b.neutral_share, 4),
        "positive": round(b.positive_share, 4),
    }
