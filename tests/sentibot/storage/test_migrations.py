import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from migrations.env_filters import include_name as _ours
from sentibot.storage.migrate import downgrade, upgrade
from sentibot.storage.models import Base
from sentibot.storage.session import make_engine
from sentibot.storage.slack_tokens import TOKEN_COLUMNS

TABLES = {"workspaces", "jobs", "watches", "posts", "scores", "job_posts"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_downgrade_upgrade(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    upgrade(url)
    engine = make_engine(url)
    assert TABLES <= set(inspect(engine).get_table_names())
    with engine.begin() as conn:  # tokens other tests installed, under keys long gone
        for name in TOKEN_COLUMNS:
            conn.execute(text(f"DELETE FROM {name}"))
    downgrade(url, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    assert TABLES <= names


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_models_and_migrations_agree(backend: str, request: pytest.FixtureRequest) -> None:
    """What `alembic check` asks: autogenerate against the newest revision finds nothing."""
    url = request.getfixturevalue(f"{backend}_url")
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_name": _ours, "compare_type": True}
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_alembic_works_from_the_repository_root(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'alembic.db'}"
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "DATABASE_URL": url}
    for args in (["upgrade", "head"], ["check"]):
        done = subprocess.run(
            [sys.executable, "-m", "alembic", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert "No new upgrade operations detected" in done.stdout + done.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_tokens_stored_in_plaintext_are_encrypted_by_the_migration(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentibot.secrets import Cipher, new_key

    url = request.getfixturevalue(f"{backend}_url")
    engine = make_engine(url)
    upgrade(url)
    with engine.begin() as conn:
        for name in TOKEN_COLUMNS:
            conn.execute(text(f"DELETE FROM {name}"))
    downgrade(url, "0007")
    with engine.begin() as conn:  # a database from before encryption, with a live token
        conn.execute(
            text(
                "INSERT INTO slack_bots (client_id, app_id, team_id, bot_token, installed_at, "
                "is_enterprise_install) VALUES ('1.2', 'A1', 'T1', 'xoxb-plain-secret', "
                "CURRENT_TIMESTAMP, false)"
            )
        )
    monkeypatch.delenv("SENTIBOT_SECRET_KEYS", raising=False)
    with pytest.raises(RuntimeError, match="set SENTIBOT_SECRET_KEYS"):
        upgrade(url)
    key = new_key()
    monkeypatch.setenv("SENTIBOT_SECRET_KEYS", key)
    upgrade(url)
    with engine.begin() as conn:
        (stored,) = conn.execute(text("SELECT bot_token FROM slack_bots")).scalars()
        conn.execute(text("DELETE FROM slack_bots"))
    engine.dispose()
    assert "xoxb-plain-secret" not in stored
    assert Cipher(key).decrypt(stored) == "xoxb-plain-secret"
