"""The on-demand analysis, step by step, as plain functions over a database session.

Tasks call these one stage at a time; the CLI runs the same domain steps in-process.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from sentibot.monitoring.share_fits import team_fit
from sentibot.query import parse_query
from sentibot.report.aggregate import Breakdown, ScoredText, Summary, breakdown, summarize
from sentibot.report.integrity import weigh
from sentibot.report.movers import Movement, Row, movement
from sentibot.report.quantify import Fit
from sentibot.report.themes import Embed, Theme, find_themes, member_labels
from sentibot.sentiment import UNSCORED, Scorer, score_known_languages
from sentibot.sources import Collection, Collector, SourceReport, SourceSkipped, collect
from sentibot.storage import jobs as job_store
from sentibot.storage import posts as post_store
from sentibot.storage.models import Job, JobStage, utcnow

SCORE_BATCH = 256


@dataclass(frozen=True)
class SourceStored:
    reports: dict[str, SourceReport]
    complete: bool  # every source of the job has reported: it moved on to scoring
    posts: int  # posts linked to the job so far


def store_source(
    session: Session, job_id: int, source: str, collection: Collection
) -> SourceStored | None:
    """One source's part of an analysis: its posts stored and linked, its report merged into
    the job's; the call that completes the set moves the job on to scoring. None when the
    source had reported already (a duplicate task) or the job moved on."""
    job = job_store.lock_job(session, job_id)
    if job is None or source in (job.source_reports or {}) or job.stage != JobStage.COLLECT:
        return None
    ids = post_store.store_posts(session, collection.posts)
    job_store.link_job_posts(session, job.id, ids)
    reports = {**(job.source_reports or {}), source: collection.reports[source].as_dict()}
    job_store.set_source_reports(job, reports)
    complete = all(s in reports for s in job.sources)
    if complete:
        job_store.advance_job(session, job, stage=JobStage.SCORE)
        job.worker, job.heartbeat_at = None, None  # collecting is over, whoever held it
    else:
        job.updated_at = utcnow()
    return SourceStored(
        {name: SourceReport.from_dict(r) for name, r in reports.items()},
        complete,
        job_store.job_post_count(session, job.id),
    )


def score_job_posts(
    session: Session,
    job: Job,
    scorer: Scorer,
    batch: int = SCORE_BATCH,
    routes: Mapping[str, Scorer] | None = None,
) -> int:
    """Score the job's posts that have no score under the job's model yet, in batches; those in
    languages the model does not read are stored as unscored."""
    done = 0
    while rows := job_store.unscored_job_posts(session, job.id, job.model, limit=batch):
        sentiments = score_known_languages(
            scorer, job.model, [(text, lang) for _, text, lang in rows], routes
        )
        post_store.store_scores(
            session, job.model, list(zip([pid for pid, _, _ in rows], sentiments, strict=True))
        )
        session.flush()
        done += len(rows)
    return done


@dataclass(frozen=True)
class JobReport:
    summary: Summary
    sources: dict[str, SourceReport]
    posts: list[ScoredText] = field(default_factory=list)
    # (when posted, compound) per post of the window, for the chart.
    timeline: list[tuple[datetime, float]] = field(default_factory=list)
    # The window before, and its length in seconds (None: the report has no window).
    previous: Breakdown | None = None
    window_s: int | None = None
    # Posts per language ("?": unknown), and how many were left out as unscored for theirs.
    languages: dict[str, int] = field(default_factory=dict)
    unscored: int = 0
    # Integrity (report/integrity.py): distinct messages, posts merged as copies, authors.
    messages: int = 0
    duplicates_merged: int = 0
    unique_authors: int = 0
    themes: list[Theme] = field(default_factory=list)
    # The negative share then and now, and what moved it (None: no window before).
    movement: Movement | None = None


@dataclass(frozen=True)
class _Item:
    source: str
    when: datetime | None
    text: ScoredText
    author: str | None = None
    lang: str | None = None


def _windowed(
    topic: str,
    items: Sequence[_Item],
    sources: dict[str, SourceReport],
    end: datetime,
    window_s: int,
    embed: Embed | None = None,
    model: str | None = None,
    fit: Fit | None = None,
) -> JobReport:
    """The report on posts of the window ending at `end` (undated posts count as current),
    with the window before it for comparison; `fit`: the workspace's own fit of `model`."""
    start, prior = end - timedelta(seconds=window_s), end - timedelta(seconds=2 * window_s)
    current = [i for i in items if i.when is None or i.when >= start]
    previous = [i for i in items if i.when is not None and prior <= i.when < start]
    # Each message once, each author capped: copies and one busy account cannot swing it.
    found = weigh([i.text.text for i in current], [i.author for i in current])
    earlier = weigh([i.text.text for i in previous], [i.author for i in previous])
    summary = summarize(
        topic, [(i.source, i.text.sentiment) for i in current], found.weights, model, fit
    )
    timeline = [(i.when, i.text.sentiment.compound) for i in current if i.when]
    before = breakdown([i.text.sentiment for i in previous], earlier.weights, model, fit)
    themes = (
        find_themes(
            [i.text.text for i in current],
            [i.text.sentiment for i in current],
            found,
            topic,
            embed,
            [i.text.text for i in previous],
            earlier,
        )
        if embed is not None
        else []
    )
    now_theme, before_theme = member_labels(themes)
    moved = (
        movement(
            _rows(current, found.weights, now_theme),
            _rows(previous, earlier.weights, before_theme),
            model,
            summary.overall.shares,
            before.shares,
            fit,
        )
        if previous
        else None
    )
    return JobReport(
        summary,
        sources,
        [i.text for i, w in zip(current, found.weights, strict=True) if w > 0],
        timeline,
        before,
        window_s,
        messages=found.messages,
        duplicates_merged=found.duplicates_merged,
        unique_authors=found.unique_authors,
        themes=themes,
        movement=moved,
    )


def _rows(items: Sequence[_Item], weights: Sequence[float], theme: dict[int, str]) -> list[Row]:
    return [
        Row(i.text.sentiment, w, i.source, i.lang, i.author, theme.get(n))
        for n, (i, w) in enumerate(zip(items, weights, strict=True))
    ]


def job_report(session: Session, job: Job, embed: Embed | None = None) -> JobReport:
    """The job's report; with `embed` (scoring/embed.py), its themes too."""
    languages, unscored = job_store.job_languages(session, job)
    scored = job_store.scored_job_posts(session, job)
    reports = job.source_reports or {}
    # In the order the job named them, whichever finished first.
    order = [n for n in job.sources if n in reports] + [n for n in reports if n not in job.sources]
    sources = {name: SourceReport.from_dict(reports[name]) for name in order}
    items = [
        _Item(
            p.source,
            p.posted_at,
            ScoredText(p.text, p.sentiment, p.engagement, p.url, p.source, p.post_id),
            p.author,
            p.lang,
        )
        for p in scored
    ]
    fit = team_fit(session, job.team_id, job.model)
    report = _windowed(
        job.topic, items, sources, job.created_at, job.window_s, embed, job.model, fit
    )
    return replace(report, languages=languages, unscored=unscored)


def analyze_in_process(
    topic: str,
    collectors: Mapping[str, Collector | SourceSkipped],
    scorer: Scorer,
    limit: int,
    window_s: int = 86_400,
    embed: Embed | None = None,
    routes: Mapping[str, Scorer] | None = None,
) -> JobReport:
    """One analysis with no broker and no database: collect, score, summarize."""
    collection = collect(parse_query(topic), collectors, limit)
    reports = collection.reports
    unique = list({(p.source, p.external_id): p for p in collection.posts}.values())
    sentiments = score_known_languages(
        scorer, scorer.name, [(p.text, p.lang) for p in unique], routes
    )
    items = [
        _Item(
            p.source,
            p.created_at,
            ScoredText(p.text, s, p.engagement, p.url, p.source),
            p.author,
            p.lang,
        )
        for p, s in zip(unique, sentiments, strict=True)
        if s.label != UNSCORED
    ]
    languages = Counter(p.lang or "?" for p in unique)
    report = _windowed(topic, items, reports, datetime.now(UTC), window_s, embed, scorer.name)
    return replace(
        report,
        languages=dict(languages.most_common()),
        unscored=sum(s.label == UNSCORED for s in sentiments),
    )


def report_as_json(report: JobReport) -> dict[str, object]:
    s = report.summary
    return {
        "topic": s.topic,
        "count": s.count,
        "mean_compound": round(s.overall.mean_compound, 4),
        "mean_compound_ci95": [round(s.overall.ci_low, 4), round(s.overall.ci_high, 4)],
        "shares": _shares(s.overall),
        "shares_ci95": s.overall.shares.as_dict(),
        "shares_method": s.overall.shares.method,
        "shares_counted": dict(
            zip(
                ("negative", "neutral", "positive"),
                map(_round, s.overall.shares.counted),
                strict=True,
            )
        ),
        "too_few_posts": not s.overall.shares.enough,
        "net_sentiment": round(s.overall.net, 4),
        "window_s": report.window_s,
        "previous_window": (
            {
                "count": report.previous.count,
                "net_sentiment": round(report.previous.net, 4),
                "mean_compound": round(report.previous.mean_compound, 4),
                "shares": _shares(report.previous),
                "shares_ci95": report.previous.shares.as_dict(),
            }
            if report.previous is not None
            else None
        ),
        "change": report.movement.as_dict() if report.movement else None,
        "movers": [m.as_dict() for m in report.movement.movers] if report.movement else [],
        "by_source": {name: b.count for name, b in s.by_source.items()},
        "languages": report.languages,
        "unscored": report.unscored,
        "messages": report.messages,
        "duplicates_merged": report.duplicates_merged,
        "unique_authors": report.unique_authors,
        "themes": [t.as_dict() for t in report.themes],
        "sources": {
            name: {
                **r.as_dict(),
                **(
                    {
                        "mean_compound": round(s.by_source[name].mean_compound, 4),
                        "shares": _shares(s.by_source[name]),
                        "shares_ci95": s.by_source[name].shares.as_dict(),
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


def _round(x: float) -> float:
    return round(x, 4)
