"""The one settings class. Variable names are the ones users look for (see DESIGN.md)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MissingSetting(RuntimeError):
    """A part of sentibot needs a variable that is not set."""

    def __init__(self, variable: str, needed_for: str) -> None:
        self.variable = variable
        super().__init__(f"{variable} is not set; it is needed for {needed_for}.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    # Multi-workspace installs through Slack's OAuth flow (see bot/install.py).
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    # Fernet keys, newest first, that encrypt installed workspaces' tokens (sentibot/secrets.py).
    sentibot_secret_keys: SecretStr | None = None
    slack_scopes: str = (
        "commands,chat:write,chat:write.public,files:write,channels:history,groups:history,"
        "channels:read,groups:read"
    )
    # Where the "Add to Slack" link sends people (tests point it at the stand-in).
    slack_authorize_url: str = "https://slack.com/oauth/v2/authorize"
    slack_api_url: str = "https://slack.com/api/"
    # Bolt answers Slack after the listener returns (True) or as soon as ack() is called
    # (False, which polls for ack and costs ~10 ms). bench/ack_latency.py measures both.
    slack_process_before_response: bool = True

    redis_url: str | None = None
    database_url: str | None = None
    # Where the embedded defaults keep their files (SQLite database, redis-server socket).
    sentibot_data_dir: Path = Path(".sentibot")
    # Prefix for every broker key; lets test runs share one Redis without seeing each other.
    sentibot_broker_prefix: str = ""

    twitter_bearer_token: SecretStr | None = None
    twitter_api_url: str = "https://api.twitter.com"

    reddit_client_id: str | None = None
    reddit_client_secret: SecretStr | None = None
    reddit_user_agent: str = "sentibot/0.1 (by sentibot)"
    # Replaces both of praw's base URLs (API and OAuth token endpoint) when set.
    reddit_api_url: str | None = None
    # Where Reddit searches: "all", or subreddits joined by "+" (e.g. "acme+gadgets").
    reddit_subreddits: str = "all"
    # Hacker News search (Algolia's public API; no key needed).
    hn_api_url: str = "https://hn.algolia.com"
    # RSS/Atom feeds read for every topic, comma-separated; "{topic}" in a URL is replaced by
    # the topic's first word (e.g. a Mastodon tag feed: https://mastodon.social/tags/{topic}.rss).
    rss_feeds: str = ""
    # Bluesky post search (app.bsky.feed.searchPosts) signed in with a free app password.
    bluesky_handle: str | None = None
    bluesky_app_password: SecretStr | None = None
    bluesky_api_url: str = "https://bsky.social"
    # Mastodon: hashtag timelines (and full-text search with a token) on these instances,
    # comma-separated base URLs; keyless where the instance allows it.
    mastodon_instances: str = "https://mastodon.social"
    mastodon_access_token: SecretStr | None = None
    # GitHub issue and pull request search; a token raises 10 searches a minute to 30.
    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    # Stack Exchange questions and answers; keyless allows 300 requests a day per IP.
    stackexchange_sites: str = "stackoverflow"
    stackexchange_key: SecretStr | None = None
    stackexchange_api_url: str = "https://api.stackexchange.com"
    # News search as a feed: "{query}" is replaced by the encoded query (empty: no news source).
    news_search_url: str = "https://news.google.com/rss/search?q={query}&hl=en-US&gl=US&ceid=US:en"
    # X bills per post read: most X posts one workspace may read per UTC day (0: no X reads).
    x_daily_post_cap: int = 10_000

    # GET /metrics answers only a scraper that sends this as a bearer token (unset: no metrics).
    metrics_token: SecretStr | None = None

    # The distilled transformer (macro recall 0.69 on held-out tweets against VADER's 0.57);
    # `vader` is the lexicon, one setting away.
    sentiment_model: str = "transformer"
    # Languages the model does not read, sent to another model (`ja=hf:/models/xlm-sentiment`,
    # comma-separated); posts in other languages are stored unscored and left out.
    sentiment_language_models: str = ""
    # Log lines: one JSON object each (with job/watch/rule ids), or key=value text.
    log_format: Literal["json", "text"] = "json"
    # Transformer arithmetic: auto = bfloat16 where the CPU has bf16 instructions, else fp32.
    sentiment_precision: Literal["auto", "fp32", "bf16", "int8"] = "auto"
    # Posts fetched per source for one on-demand analysis.
    analyze_limit: int = 200
    # Most posts fetched per source in one scheduled watch run.
    watch_post_limit: int = 100
    # A new watch first reads this far back (`--backfill`; 0: not at all), each source as far
    # as its search goes, at most this many posts per source; it asks before X spends more
    # than this share of the workspace's daily X cap.
    backfill_default: Annotated[str, Field(pattern=r"^(0|[1-9]\d{0,2}[hd])$")] = "7d"
    backfill_post_limit: int = 1000
    backfill_confirm_share: float = 0.1

    # Quotas (sentibot/monitoring/quotas.py): set high enough that a real team does not meet
    # them, low enough that one person cannot take the service (or the X allowance) for all.
    quota_watches_per_channel: int = 25
    quota_watches_per_workspace: int = 200
    # The shortest `--every` a watch may have (the grammar allows down to 60 s).
    quota_min_every_s: int = 60
    quota_analyses_per_user_per_minute: int = 5
    # The largest `--limit` an analysis may ask for (posts per source).
    quota_max_limit: int = 500
    quota_alert_rules_per_channel: int = 25
    quota_webhooks_per_workspace: int = 10

    # Webhooks: a failed delivery waits this × 2^(attempts − 1) seconds (at most an hour) and
    # is given up after this many attempts (30 s and 8: about an hour of trying).
    webhook_retry_base_s: float = 30.0
    webhook_max_attempts: int = 8
    # Hosts a webhook may reach although private, and over plain http (local receivers, tests):
    # none by default. Every other webhook is https to public addresses (sentibot/webhook_target).
    webhook_private_hosts: str = ""

    @property
    def webhook_private(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.webhook_private_hosts.split(",") if h)

    @property
    def data_dir(self) -> Path:
        return self.sentibot_data_dir

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sentibot.db').resolve()}"

    @property
    def backfill_default_s(self) -> int:
        value = self.backfill_default
        return 0 if value == "0" else int(value[:-1]) * (86_400 if value[-1] == "d" else 3600)

    def require(self, name: str, needed_for: str) -> str:
        """The value of a setting, or a MissingSetting error naming its variable."""
        value = getattr(self, name)
        if value is None or value == "":
            raise MissingSetting(name.upper(), needed_for)
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        return str(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
