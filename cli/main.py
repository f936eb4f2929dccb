"""The `sentibot` command: serve, socket, worker, beat, migrate, analyze, train, demo.

The composition root: each command imports, lazily, the packages it runs (bot, tasks,
devtools); nothing else in the core imports them."""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sentibot import logs
from sentibot.config.settings import MissingSetting, get_settings
from sentibot.sources import ReportStatus

if TYPE_CHECKING:
    from slack_bolt import App


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sentibot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve Slack's HTTP requests on POST /slack/events")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", 3000)))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=8)

    sub.add_parser("socket", help="connect to Slack over Socket Mode (needs SLACK_APP_TOKEN)")

    p = sub.add_parser("worker", help="run a Celery worker")
    p.add_argument("--queues", default="collect,score,notify,default,backfill,webhooks")
    p.add_argument("--concurrency", type=int, default=None)
    p.add_argument("--loglevel", default="info")

    p = sub.add_parser("beat", help="run Celery Beat (ticks the dispatcher)")
    p.add_argument("--loglevel", default="info")

    sub.add_parser("migrate", help="bring the database to the newest Alembic revision")
    sub.add_parser("new-secret-key", help="print a new key for SENTIBOT_SECRET_KEYS")
    sub.add_parser(
        "reencrypt",
        help="re-encrypt stored Slack tokens and webhook secrets with the first "
        "SENTIBOT_SECRET_KEYS key",
    )

    p = sub.add_parser("analyze", help="run one analysis in-process and print the summary")
    p.add_argument("topic")
    p.add_argument("--sources", default="all", help="comma-separated source names (default: all)")
    p.add_argument("--limit", type=int, default=None, help="posts per source")
    p.add_argument("--since", default="24h", help="the window reported on, 1h to 7d (24h)")
    p.add_argument("--json", action="store_true", help="print one JSON document")

    p = sub.add_parser(
        "preview", help="before watching: matches per source, samples, posts a day, notes"
    )
    p.add_argument("topic")
    p.add_argument("--sources", default="all", help="comma-separated source names (default: all)")
    p.add_argument("--json", action="store_true", help="print one JSON document")

    p = sub.add_parser("export", help="a watched topic's posts as CSV (to a file or stdout)")
    p.add_argument("topic")
    p.add_argument("--since", default="7d", help="the period exported, 1h to 90d (7d)")
    p.add_argument("--channel", default=None, help="the watching channel, where several watch it")
    p.add_argument("--out", type=Path, default=None, help="write here instead of stdout")

    p = sub.add_parser("train", help="rebuild the transformer weights from TweetEval data")
    p.add_argument("args", nargs=argparse.REMAINDER, help="see `sentibot train --help`")
    p = sub.add_parser("distill", help="distil the transformer into fewer layers")
    p.add_argument("args", nargs=argparse.REMAINDER, help="see `sentibot distill --help`")

    p = sub.add_parser("fit-shares", help="fit how each model errs, for the share estimates")
    p.add_argument("args", nargs=argparse.REMAINDER, help="see `sentibot fit-shares --help`")

    p = sub.add_parser("demo", help="the whole service on embedded defaults, with a console")
    p.add_argument("--keep", action="store_true", help="keep the demo's data directory")

    args = parser.parse_args(argv)
    logs.configure("text" if args.command == "demo" else get_settings().log_format)
    try:
        return COMMANDS[args.command](args)
    except MissingSetting as exc:
        print(f"sentibot: {exc}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    # Before prometheus_client is imported: gunicorn's workers then share their samples.
    metrics_dir = settings.data_dir / "metrics"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)

    from bot.serve import serve_http
    from sentibot.embedded import ensure_broker

    if not settings.slack_client_id:
        settings.require("slack_bot_token", "sentibot serve")
    settings.require("slack_signing_secret", "sentibot serve")
    ensure_broker(settings)
    serve_http(settings, _bolt_app, args.host, args.port, args.workers, args.threads)
    return 0


def _socket(args: argparse.Namespace) -> int:
    from bot.serve import serve_socket_mode
    from sentibot.embedded import ensure_broker

    settings = get_settings()
    settings.require("slack_app_token", "sentibot socket")
    settings.require("slack_bot_token", "sentibot socket")
    ensure_broker(settings)
    serve_socket_mode(settings, _bolt_app())
    return 0


def _bolt_app() -> App:
    """The Bolt app, sending its jobs through the workers' Celery app. The CLI is the one place
    that wires the Slack side to the task side (the rest of the core knows neither)."""
    from bot.app import create_app
    from tasks.celery_app import app
    from tasks.enqueue import job_enqueuer

    return create_app(get_settings(), enqueue=job_enqueuer(app))


def _worker(args: argparse.Namespace) -> int:
    from sentibot.embedded import ensure_broker

    ensure_broker(get_settings())
    from tasks.celery_app import app

    argv = [
        "worker",
        "-Q",
        args.queues,
        "--loglevel",
        args.loglevel,
        "-n",
        f"sentibot-{os.getpid()}@%h",
    ]
    if args.concurrency:
        argv += ["--concurrency", str(args.concurrency)]
    app.worker_main(argv)
    return 0


def _beat(args: argparse.Namespace) -> int:
    from sentibot.embedded import ensure_broker

    settings = get_settings()
    ensure_broker(settings)
    from tasks.celery_app import app

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    schedule = settings.data_dir / "celerybeat-schedule"
    app.start(["beat", "--loglevel", args.loglevel, "--schedule", str(schedule)])
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from sentibot.storage.migrate import upgrade

    settings = get_settings()
    upgrade(settings.effective_database_url)
    print("database is at the newest revision")
    return 0


def _new_secret_key(args: argparse.Namespace) -> int:
    from sentibot.secrets import new_key

    print(new_key())
    return 0


def _reencrypt(args: argparse.Namespace) -> int:
    from sentibot.secrets import cipher_for
    from sentibot.storage.session import make_engine
    from sentibot.storage.slack_tokens import ENCRYPTED_COLUMNS, rewrite_tokens

    settings = get_settings()
    cipher = cipher_for(settings)
    with make_engine(settings.effective_database_url).begin() as connection:
        changed = rewrite_tokens(connection, cipher.rotate, ENCRYPTED_COLUMNS)
    print(f"{changed} rows re-encrypted with the newest key")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from bot.grammar import parse_duration
    from bot.views.summary import breakdown_line, language_line, source_line, theme_line
    from scoring.base import get_scorer, language_routes
    from scoring.embed import embed
    from sentibot.monitoring.analysis import analyze_in_process, report_as_json
    from sentibot.query import QueryError, parse_query
    from sentibot.sources import build_collectors
    from sentibot.topic_scope import scored_as

    names = _source_names(args.sources)
    if names is None:
        return 2
    try:
        topic = parse_query(args.topic).canonical()
    except QueryError as exc:
        print(f"sentibot: the topic does not parse: {exc}", file=sys.stderr)
        return 2
    window_s = parse_duration(args.since)
    if window_s is None or not 3600 <= window_s <= 7 * 86400:
        print("sentibot: --since takes a duration from 1h to 7d, like 6h or 3d", file=sys.stderr)
        return 2
    settings = get_settings()
    report = analyze_in_process(
        topic,
        build_collectors(settings, names),
        get_scorer(scored_as(settings.sentiment_model, topic), settings.sentiment_precision),
        args.limit or settings.analyze_limit,
        window_s,
        embed,
        language_routes(settings.sentiment_language_models, settings.sentiment_precision),
    )
    if args.json:
        print(json.dumps(report_as_json(report), indent=2))
        return 0
    s = report.summary
    print(f"{s.topic}: {breakdown_line(s.overall)}")
    for name, source_report in report.sources.items():
        line = source_line(name, source_report, s.by_source.get(name))
        print("  " + html.unescape(line.replace("*", "")))
    mix = language_line(report.languages, report.unscored, settings.sentiment_model)
    if mix:
        print("  " + html.unescape(mix.replace("*", "")))
    for theme in report.themes:
        print("  theme: " + html.unescape(theme_line(theme).replace("*", "")))
    return 0


def _export(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.grammar import MAX_EXPORT_S, MIN_SINCE_S, parse_duration
    from scoring.embed import embed
    from sentibot.monitoring import export
    from sentibot.storage.models import Watch, utcnow
    from sentibot.storage.session import sessionmaker_for

    since = parse_duration(args.since)
    if since is None or not MIN_SINCE_S <= since <= MAX_EXPORT_S:
        print("sentibot: --since takes a duration from 1h to 90d, like 7d", file=sys.stderr)
        return 2
    sessions = sessionmaker_for(get_settings().effective_database_url)
    with sessions() as session:
        query = select(Watch).where(Watch.topic == args.topic)
        if args.channel:
            query = query.where(Watch.channel_id == args.channel)
        watches = list(session.scalars(query))
        if len(watches) != 1:
            where = ", ".join(f"{w.channel_id} ({w.team_id})" for w in watches)
            why = (
                f"is watched in several channels: {where}; pick one with --channel"
                if watches
                else "is not watched"
            )
            print(f"sentibot: “{args.topic}” {why}", file=sys.stderr)
            return 2
        end = utcnow()
        made = export.build(session, watches[0], end - timedelta(seconds=since), end, embed)
    if args.out:
        args.out.write_bytes(made.csv)
        print(f"wrote {made.rows} posts to {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(made.csv)
    return 0


def _preview(args: argparse.Namespace) -> int:
    from sentibot.monitoring.preview import PREVIEW_LIMIT, preview
    from sentibot.query import QueryError, parse_query
    from sentibot.sources import build_collectors, collect

    names = _source_names(args.sources)
    if names is None:
        return 2
    try:
        query = parse_query(args.topic)
    except QueryError as exc:
        print(f"sentibot: the topic does not parse: {exc}", file=sys.stderr)
        return 2
    collection = collect(query, build_collectors(get_settings(), names), PREVIEW_LIMIT)
    found = preview(query, collection.posts, collection.reports)
    if args.json:
        print(json.dumps([dataclasses.asdict(p) for p in found], indent=2))
        return 0
    print(f"Preview of {query.canonical()}")
    for p in found:
        if p.status != ReportStatus.OK:
            print(f"  {p.display}: {p.status}, {p.reason}")
            continue
        rate = f", about {p.per_day:,.0f} a day" if p.per_day is not None else ""
        cost = f" (X would bill {p.x_cost_per_day:,.0f} posts a day)" if p.x_cost_per_day else ""
        print(f"  {p.display}: {p.matches_24h} in the last 24 h{rate}{cost}")
        for sample in p.samples:
            print(f"    > {sample}")
        for note in p.notes:
            print(f"    note: {note}")
    return 0


def _source_names(raw: str) -> list[str] | None:
    from sentibot.sources import canonical_source, source_names

    if raw == "all":
        return list(source_names())
    names = []
    for part in raw.split(","):
        name = canonical_source(part)
        if name is None:
            known = ", ".join(source_names())
            print(f"sentibot: unknown source {part!r}; sources are {known}", file=sys.stderr)
            return None
        names.append(name)
    return names


def _distill(args: argparse.Namespace) -> int:
    from scoring.distill import main as distill_main

    return distill_main(args.args)


def _train(args: argparse.Namespace) -> int:
    from scoring.train import main as train_main

    return train_main(args.args)


def _fit_shares(args: argparse.Namespace) -> int:
    from scoring.fit_shares import main as fit_main

    return fit_main(args.args)


def _demo(args: argparse.Namespace) -> int:
    from devtools.console import run_demo

    return run_demo(keep=args.keep)


COMMANDS = {
    "serve": _serve,
    "socket": _socket,
    "worker": _worker,
    "beat": _beat,
    "migrate": _migrate,
    "new-secret-key": _new_secret_key,
    "reencrypt": _reencrypt,
    "preview": _preview,
    "export": _export,
    "analyze": _analyze,
    "train": _train,
    "distill": _distill,
    "fit-shares": _fit_shares,
    "demo": _demo,
}
