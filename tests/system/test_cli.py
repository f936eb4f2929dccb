"""The `sentibot` command as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from devtools.bluesky_standin import BlueskyStandIn
from devtools.corpus import DemoCorpus
from devtools.github_standin import GitHubStandIn
from devtools.hn_standin import HackerNewsStandIn
from devtools.mastodon_standin import MastodonStandIn
from devtools.news_standin import NewsStandIn
from devtools.reddit_standin import RedditStandIn
from devtools.stack import SENTIBOT_VARS
from devtools.stackexchange_standin import StackExchangeStandIn
from devtools.twitter_standin import TwitterStandIn
from sentibot.storage.session import make_engine


def run(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in SENTIBOT_VARS}
    return subprocess.run(
        [sys.executable, "-m", "sentibot", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=240,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def sources_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    with (
        TwitterStandIn(DemoCorpus("x")) as x,
        RedditStandIn(DemoCorpus("reddit")) as reddit,
        HackerNewsStandIn(DemoCorpus("hn")) as hn,
        BlueskyStandIn(DemoCorpus("bluesky")) as bluesky,
        MastodonStandIn(DemoCorpus("mastodon")) as mastodon,
        GitHubStandIn(DemoCorpus("github")) as github,
        StackExchangeStandIn(DemoCorpus("stackexchange")) as stackexchange,
        NewsStandIn(DemoCorpus("news")) as news,
    ):
        yield {
            "BLUESKY_HANDLE": bluesky.handle,
            "BLUESKY_APP_PASSWORD": bluesky.app_password,
            "BLUESKY_API_URL": bluesky.url,
            "MASTODON_INSTANCES": mastodon.url,
            "GITHUB_API_URL": github.url,
            "STACKEXCHANGE_API_URL": stackexchange.url,
            "NEWS_SEARCH_URL": news.search_url,
            "HN_API_URL": hn.url,
            "TWITTER_BEARER_TOKEN": x.bearer_token,
            "TWITTER_API_URL": x.url,
            "REDDIT_CLIENT_ID": reddit.client_id,
            "REDDIT_CLIENT_SECRET": reddit.client_secret,
            "REDDIT_API_URL": reddit.url,
            "SENTIBOT_DATA_DIR": str(tmp_path),
        }


def test_analyze_json(sources_env: dict[str, str]) -> None:
    result = run(["analyze", "acme", "--json"], sources_env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["topic"] == "acme"
    assert doc["count"] == 320
    assert doc["by_source"] == {
        name: 40
        for name in ("x", "reddit", "hn", "bluesky", "mastodon", "github", "stackexchange", "news")
    }
    assert doc["sources"]["rss"] == {
        "status": "skipped",
        "count": 0,
        "reason": "not configured (RSS_FEEDS is not set)",
    }
    assert -1 <= doc["mean_compound"] <= 1
    assert sum(doc["shares"].values()) == pytest.approx(1.0, abs=1e-3)
    assert doc["sources"]["x"]["status"] == "ok"


def test_analyze_the_sources_a_team_without_x_or_reddit_has(sources_env: dict[str, str]) -> None:
    wanted = "bluesky,mastodon,github,stackexchange,news"
    result = run(["analyze", "acme", "--sources", wanted, "--json"], sources_env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["by_source"] == dict.fromkeys(wanted.split(","), 40)
    assert doc["sources"]["stackexchange"]["quota"] == "299 of 300 requests left today"
    assert "httpx" not in result.stderr  # the SDKs' per-request lines stay out of the log


def test_preview_shows_each_source_before_a_watch(sources_env: dict[str, str]) -> None:
    result = run(
        ["preview", "acme lang:en", "--sources", "x,reddit,mastodon", "--json"], sources_env
    )
    assert result.returncode == 0, result.stderr
    found = {p["name"]: p for p in json.loads(result.stdout)}
    assert found["x"]["matches_24h"] == 40
    assert found["x"]["x_cost_per_day"] == 40
    assert len(found["reddit"]["samples"]) == 3
    assert any("Reddit has no language filter" in n for n in found["reddit"]["notes"])
    assert any("#acme" in n for n in found["mastodon"]["notes"])
    text = run(["preview", "acme", "--sources", "mastodon"], sources_env).stdout
    assert "Mastodon: 40 in the last 24 h, about 40 a day" in text


def test_analyze_names_unconfigured_sources(sources_env: dict[str, str]) -> None:
    env = {k: v for k, v in sources_env.items() if not k.startswith("REDDIT")}
    result = run(["analyze", "acme", "--sources", "x,reddit", "--json"], env)
    doc = json.loads(result.stdout)
    assert doc["by_source"] == {"x": 40}
    assert doc["sources"]["reddit"]["status"] == "skipped"
    assert "REDDIT_CLIENT_ID" in doc["sources"]["reddit"]["reason"]


def test_analyze_text_summary(sources_env: dict[str, str]) -> None:
    result = run(["analyze", "acme", "--sources", "reddit"], sources_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("acme: 40 posts")
    assert "Reddit: 40 posts" in result.stdout


def test_analyze_unknown_source_is_a_clear_error(sources_env: dict[str, str]) -> None:
    result = run(["analyze", "acme", "--sources", "myspace"], sources_env)
    assert result.returncode == 2
    assert "unknown source 'myspace'" in result.stderr


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = run(["migrate"], {"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "jobs" in inspect(make_engine(url)).get_table_names()


def test_serve_without_signing_secret_names_the_variable(tmp_path: Path) -> None:
    result = run(["serve"], {"SLACK_BOT_TOKEN": "xoxb-1", "SENTIBOT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in result.stderr


@pytest.mark.slow
def test_demo_with_piped_input_prints_the_replies_and_exits_0(tmp_path: Path) -> None:
    commands = "/sentiment help\n/sentiment analyze acme\n/sentiment analyze\n"
    result = run(["demo"], {"TMPDIR": str(tmp_path)}, input=commands)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "/sentiment analyze <topic>" in out  # help
    assert "Analyzing “acme”" in out  # the ack
    assert "Sentiment for “acme”" in out  # the summary posted by the worker
    assert "X: 40 posts" in out.replace("*", "")
    assert "Tell me which topic" in out  # usage for bad input
    assert not list(tmp_path.glob("sentibot-demo-*"))  # cleaned up, server stopped


@pytest.mark.slow
def test_beat_ticks_the_dispatcher_on_the_default_queue(
    redis_url: str, broker_prefix: str, tmp_path: Path
) -> None:
    from tests.conftest import redis_client

    env = {
        "REDIS_URL": redis_url,
        "SENTIBOT_BROKER_PREFIX": broker_prefix,
        "SENTIBOT_DATA_DIR": str(tmp_path),
    }
    base = {k: v for k, v in os.environ.items() if k not in SENTIBOT_VARS}
    beat = subprocess.Popen(
        [sys.executable, "-m", "sentibot", "beat", "--loglevel", "warning"],
        env={**base, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis_client(redis_url)
    try:
        deadline = time.monotonic() + 45
        while client.llen(broker_prefix + "default") == 0 and time.monotonic() < deadline:
            time.sleep(0.25)
        raw = client.lindex(broker_prefix + "default", 0)
    finally:
        beat.terminate()
        beat.wait(timeout=15)
    assert raw is not None, "Beat sent no dispatch tick within 45 s"
    assert json.loads(raw)["headers"]["task"] == "sentibot.dispatch"
    assert (tmp_path / "celerybeat-schedule").exists() or list(
        tmp_path.glob("celerybeat-schedule*")
    )
