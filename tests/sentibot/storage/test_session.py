"""Connections the database dropped while they sat in the pool are replaced, not used."""

from __future__ import annotations

import time

import psycopg
import pytest
from sqlalchemy import text

from sentibot.storage import session as session_module
from sentibot.storage.session import make_engine


def test_a_connection_killed_while_idle_is_replaced_before_use(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "PING_IDLE_AFTER_S", 0.2)
    engine = make_engine(postgresql_url)
    with engine.connect() as conn:
        first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    # What a database restart or an idle-connection reaper does to a pooled connection.
    with psycopg.connect(postgresql_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    time.sleep(0.3)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first
    engine.dispose()


def test_a_connection_back_from_work_moments_ago_is_not_pinged(postgresql_url: str) -> None:
    engine = make_engine(postgresql_url)
    statements: list[str] = []
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    engine.pool._dialect.do_ping = lambda _c: statements.append("ping")  # type: ignore[attr-defined]
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert statements == []
    engine.dispose()
