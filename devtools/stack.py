"""The whole service on one machine: stand-ins, database, broker, worker and bot processes.

`make demo` and the end-to-end tests both run this; only the corpus and the broker differ.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from slack_sdk.signature import SignatureVerifier

from devtools.bluesky_standin import BlueskyStandIn
from devtools.corpus import Corpus, DemoCorpus
from devtools.github_standin import GitHubStandIn
from devtools.hn_standin import HackerNewsStandIn
from devtools.http_standin import StandIn
from devtools.mastodon_standin import MastodonStandIn
from devtools.news_standin import NewsStandIn
from devtools.reddit_standin import RedditStandIn
from devtools.slack_standin import SlackStandIn
from devtools.stackexchange_standin import StackExchangeStandIn
from devtools.twitter_standin import TwitterStandIn
from devtools.webhook_receiver import WebhookReceiver
from sentibot.config.settings import Settings
from sentibot.embedded import start_redis_server, stop_redis_server
from sentibot.queues import LIVE
from sentibot.storage.migrate import upgrade

SIGNING_SECRET = "standin-signing-secret"
BOT_TOKEN = "xoxb-standin"
TEAM_ID = "T0STANDIN"
METRICS_TOKEN = "standin-metrics-token"
# Every variable Settings reads: the stack's processes get only the ones it sets.
SENTIBOT_VARS = [name.upper() for name in Settings.model_fields]


LIVE_QUEUES = ",".join(LIVE)
BACKFILL_WORKER = ["worker", "--queues", "backfill", "--concurrency", "1"]
WEBHOOK_WORKER = ["worker", "--queues", "webhooks", "--concurrency", "4"]


def local_redis_url() -> str | None:
    """A Redis already answering on 127.0.0.1:6379, if one does (else the stack embeds one)."""
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
    except redis.RedisError:
        return None
    return "redis://127.0.0.1:6379/0"


def cpu_model() -> str:
    """What benchmarks print as the machine."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_headers(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body) or ""
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


@dataclass
class ServiceStack:
    data_dir: Path
    database_url: str | None = None
    redis_url: str | None = None
    broker_prefix: str = ""
    x_corpus: Corpus = field(default_factory=lambda: DemoCorpus("x"))
    reddit_corpus: Corpus = field(default_factory=lambda: DemoCorpus("reddit"))
    hn_corpus: Corpus = field(default_factory=lambda: DemoCorpus("hn"))
    bluesky_corpus: Corpus = field(default_factory=lambda: DemoCorpus("bluesky"))
    mastodon_corpus: Corpus = field(default_factory=lambda: DemoCorpus("mastodon"))
    github_corpus: Corpus = field(default_factory=lambda: DemoCorpus("github"))
    stackexchange_corpus: Corpus = field(default_factory=lambda: DemoCorpus("stackexchange"))
    news_corpus: Corpus = field(default_factory=lambda: DemoCorpus("news"))
    configure_x: bool = True
    configure_reddit: bool = True
    worker_concurrency: int = 2
    start_worker_process: bool = True
    # Beat ticks the dispatcher (watches, scoring batches, notices); tests tick it themselves.
    start_beat_process: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    sentiment_model: str = "transformer"

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.slack = SlackStandIn(BOT_TOKEN, TEAM_ID)
        self.x = TwitterStandIn(self.x_corpus)
        self.reddit = RedditStandIn(self.reddit_corpus)
        self.hn = HackerNewsStandIn(self.hn_corpus)
        self.bluesky = BlueskyStandIn(self.bluesky_corpus)
        self.mastodon = MastodonStandIn(self.mastodon_corpus)
        self.github = GitHubStandIn(self.github_corpus)
        self.stackexchange = StackExchangeStandIn(self.stackexchange_corpus)
        self.news = NewsStandIn(self.news_corpus)
        self.webhooks = WebhookReceiver()
        self.processes: dict[str, subprocess.Popen] = {}
        self.bot_url = ""
        self._own_redis = False

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'sentibot.db'}"

    def settings(self) -> Settings:
        """The settings the stack's processes run with."""
        values = {k.lower(): v for k, v in self.env().items() if k in SENTIBOT_VARS}
        build: Any = Settings  # pydantic-settings reads `_env_file` and parses the strings
        return build(_env_file=None, **values)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SENTIBOT_VARS}
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.slack.api_url,
            DATABASE_URL=self.effective_database_url,
            SENTIBOT_DATA_DIR=str(self.data_dir),
            SENTIBOT_BROKER_PREFIX=self.broker_prefix,
            HN_API_URL=self.hn.url,
            BLUESKY_HANDLE=self.bluesky.handle,
            BLUESKY_APP_PASSWORD=self.bluesky.app_password,
            BLUESKY_API_URL=self.bluesky.url,
            MASTODON_INSTANCES=self.mastodon.url,
            GITHUB_API_URL=self.github.url,
            STACKEXCHANGE_API_URL=self.stackexchange.url,
            NEWS_SEARCH_URL=self.news.search_url,
            # The stand-ins answer at once: a failed webhook delivery is retried in a second.
            WEBHOOK_RETRY_BASE_S="1",
            METRICS_TOKEN=METRICS_TOKEN,
            # The webhook receivers here are local: allowed by name, as an operator would.
            WEBHOOK_PRIVATE_HOSTS="127.0.0.1",
            PYTHONUNBUFFERED="1",
            SENTIMENT_MODEL=self.sentiment_model,
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        if self.configure_x:
            env.update(TWITTER_BEARER_TOKEN=self.x.bearer_token, TWITTER_API_URL=self.x.url)
        if self.configure_reddit:
            env.update(
                REDDIT_CLIENT_ID=self.reddit.client_id,
                REDDIT_CLIENT_SECRET=self.reddit.client_secret,
                REDDIT_API_URL=self.reddit.url,
            )
        env.update(self.extra_env)
        return env

    def standins(self) -> tuple[StandIn, ...]:
        return (
            self.slack,
            self.x,
            self.reddit,
            self.hn,
            self.bluesky,
            self.mastodon,
            self.github,
            self.stackexchange,
            self.news,
            self.webhooks,
        )

    def start(self) -> ServiceStack:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for standin in self.standins():
            standin.start()
        if not self.redis_url:
            start_redis_server(self.data_dir)
            self._own_redis = True
        upgrade(self.effective_database_url)
        if self.start_worker_process:
            self.start_worker()
            # As in production: backfills have a worker of their own, so they never wait in
            # front of a live run.
            self._spawn("backfill-worker", [*BACKFILL_WORKER, "--loglevel", "info"])
            self._spawn("webhook-worker", [*WEBHOOK_WORKER, "--loglevel", "info"])
        if self.start_beat_process:
            self._spawn("beat", ["beat", "--loglevel", "warning"])
        port = free_port()
        self.bot_url = f"http://127.0.0.1:{port}"
        self._spawn("bot", ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"])
        self._wait_healthy(timeout=60)
        return self

    def start_worker(self) -> None:
        self._spawn(
            "worker",
            [
                "worker",
                "--queues",
                LIVE_QUEUES,
                "--concurrency",
                str(self.worker_concurrency),
                "--loglevel",
                "info",
            ],
        )

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115 (lives with the process)
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "sentibot", *args],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bot = self.processes["bot"]
            if bot.poll() is not None:
                raise RuntimeError(f"bot exited; see {self.data_dir / 'bot.log'}")
            try:
                if requests.get(self.bot_url + "/healthz", timeout=2).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or its worker is still loading the app
            time.sleep(0.2)
        raise RuntimeError(f"bot not healthy after {timeout}s; see {self.data_dir / 'bot.log'}")

    def command(
        self,
        text: str,
        *,
        command: str = "/sentiment",
        channel: str = "C0GENERAL",
        user: str | None = None,
        team_id: str = TEAM_ID,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
        signed: bool = True,
        response_key: str | None = None,
    ) -> requests.Response:
        """Send a slash command to the bot exactly as Slack would."""
        key = response_key or f"{channel}-{time.monotonic_ns()}"
        body = urlencode(
            {
                "token": "deprecated-verification-token",
                "team_id": team_id,
                "team_domain": "standin",
                "channel_id": channel,
                "channel_name": "general",
                "user_id": user or "U" + channel[1:],  # someone of that channel
                "user_name": "demo",
                "command": command,
                "text": text,
                "api_app_id": "A0SENTIBOT",
                "response_url": self.slack.response_url(key),
                "trigger_id": "1.2.3",
            }
        )
        headers = (
            signed_headers(body, secret, timestamp)
            if signed
            else {"Content-Type": "application/x-www-form-urlencoded"}
        )
        return requests.post(self.bot_url + "/slack/events", data=body, headers=headers, timeout=10)

    def answer(self, text: str, timeout: float = 30.0, **kwargs: Any) -> str:
        """A slash command's answer, as the person sees it: the acknowledgement's text, or
        (commands answered after the acknowledgement) the message sent to its response URL."""
        key = f"answer-{time.monotonic_ns()}"
        ack = self.command(text, response_key=key, **kwargs)
        ack.raise_for_status()
        if ack.content and ack.json().get("text"):
            return ack.json()["text"]
        found = self.slack.wait_for(
            lambda s: [r for r in s.responses if r["key"] == key], timeout=timeout
        )
        if not found:
            raise AssertionError(f"no answer to {text!r} within {timeout} s")
        return found[0]["text"]

    def post_interaction(self, payload: dict) -> requests.Response:
        """A signed interactive payload (a button press), as Slack sends it."""
        body = urlencode({"payload": json.dumps(payload)})
        headers = signed_headers(body, SIGNING_SECRET)
        return requests.post(self.bot_url + "/slack/events", data=body, headers=headers, timeout=10)

    def stop_process(self, name: str, kill: bool = False) -> None:
        self._stop([name], kill)

    def _stop(self, names: list[str], kill: bool = False) -> None:
        """Signal every process first, then wait: they shut down side by side."""
        stopping = []
        for name in names:
            proc = self.processes.pop(name, None)
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, 9 if kill else 15)
                stopping.append(proc)
        for proc in stopping:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()

    def stop(self) -> None:
        self._stop(list(self.processes))
        for standin in self.standins():
            standin.stop()
        if self._own_redis:
            stop_redis_server(self.data_dir)

    def __enter__(self) -> ServiceStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def remove_data(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)
