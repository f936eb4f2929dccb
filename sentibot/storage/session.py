"""Engine and session factories. Built in functions, never at import time."""

from __future__ import annotations

import time
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from sqlalchemy import Dialect, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs (the driver sentibot ships)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No server-side prepared statements: psycopg prepares a query after 5 runs, and a generic
    # plan made while a table was small (a seq scan) stays in use as it grows; planning each
    # statement stored posts 3.5x faster (bench/ingest.py). It also suits PgBouncer.
    # hide_parameters: an error's log line never carries bound values (response_url, tokens).
    engine = create_engine(
        url,
        hide_parameters=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"prepare_threshold": None},
    )
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", partial(_ping_if_idle, engine.dialect))
    return engine


# A connection back from work less than this long ago is used as is; an older one is pinged
# first (SQLAlchemy's pool_pre_ping pings every checkout: one more round trip on every ack).
PING_IDLE_AFTER_S = 10.0


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect: Dialect, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_IDLE_AFTER_S:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as exc:
        # The pool drops this connection and checks out (or opens) another.
        raise DisconnectionError("idle connection is gone") from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the bot write while a worker reads; NORMAL sync is durable across app crashes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_urls: set[str] = set()


@lru_cache(maxsize=8)
def sessionmaker_for(url: str) -> sessionmaker[Session]:
    """One engine and session factory per database URL per process."""
    _urls.add(url)
    return make_sessionmaker(make_engine(url))


def forget_engines() -> None:
    """Close every engine this process made and forget them: before a server forks its
    workers, so none inherits a pooled connection."""
    for url in list(_urls):
        sessionmaker_for(url).kw["bind"].dispose()
    _urls.clear()
    sessionmaker_for.cache_clear()
