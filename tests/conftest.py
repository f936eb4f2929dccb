"""Fixtures that find or start the real services the tests use.

- Redis: the one on 127.0.0.1:6379 if it answers, else an embedded redis-server started here.
- Databases: SQLite always; PostgreSQL from DATABASE_URL, else the one on 127.0.0.1:5432 if it
  answers. Without one, PostgreSQL cases are skipped, except under CI=true where that fails.
- Each test run gets its own broker key prefix and its own PostgreSQL database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from sentibot.config.settings import Settings
from sentibot.embedded import (
    drop_broker_keys,
    redis_py_url,
    start_redis_server,
    stop_redis_server,
)
from sentibot.storage.migrate import upgrade
from sentibot.storage.models import Base
from sentibot.storage.session import make_engine, make_sessionmaker

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"

# No per-example deadline: a property test checks behaviour, not speed (speed is bench/'s),
# and a loaded CI machine made examples of the query grammar miss the 200 ms default.
hypothesis_settings.register_profile("sentibot", deadline=None)
hypothesis_settings.load_profile("sentibot")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        redis.Redis.from_url(LOCAL_REDIS, socket_timeout=1).ping()
        yield LOCAL_REDIS
        return
    except redis.RedisError:
        pass
    data_dir = tmp_path_factory.mktemp("redis")
    sock = start_redis_server(data_dir)
    yield f"redis+socket://{sock}"
    stop_redis_server(data_dir)


@pytest.fixture
def broker_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own, so queues of different tests never mix."""
    prefix = f"sentibot-test-{uuid.uuid4().hex[:8]}:"
    yield prefix
    drop_broker_keys(redis_url, prefix)


def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_py_url(url))


def _postgres_admin_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    candidates = [url] if url.startswith("postgres") else [LOCAL_POSTGRES]
    for candidate in candidates:
        try:
            with psycopg.connect(candidate, connect_timeout=2):
                return candidate
        except psycopg.Error:
            continue
    return None


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    admin = _postgres_admin_url()
    if admin is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs PostgreSQL: set DATABASE_URL or run one on 127.0.0.1:5432")
        pytest.skip("no PostgreSQL answered (set DATABASE_URL to test against one)")
    name = f"sentibot_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'sentibot.db'}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest) -> str:
    url = request.getfixturevalue(f"{request.param}_url")
    upgrade(url)
    return url


SLACK_TABLES = ("slack_installations", "slack_bots", "slack_oauth_states")


@pytest.fixture
def database_url(migrated_url: str) -> Iterator[str]:
    """A migrated database, emptied before each test."""
    from sentibot.storage.workspaces import forget_active

    forget_active()  # this process's memory of the workspace rows emptied here
    engine = make_engine(migrated_url)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f"DELETE FROM {table.name}"))
        for name in SLACK_TABLES:  # slack-sdk's installation and OAuth state stores
            conn.execute(text(f"DELETE FROM {name}"))
    engine.dispose()
    return migrated_url


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def settings(database_url: str, redis_url: str, broker_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        redis_url=redis_url,
        sentibot_broker_prefix=broker_prefix,
        sentibot_data_dir=tmp_path,
        slack_bot_token="xoxb-standin",
        slack_signing_secret="standin-signing-secret",
        # The tests' figures are VADER's (the lexicon is exact and fast); the transformer, the
        # default, has tests of its own.
        sentiment_model="vader",
    )
