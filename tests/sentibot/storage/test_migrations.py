import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from migrations.env_filters import include_name as _ours
from sentibot.storage.migrate import downgrade, upgrade
from sentibot.storage.models import Base
from sentibot.storage.session import make_engine

TABLES = {"workspaces", "jobs", "watches", "posts", "scores", "job_posts"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_downgrade_upgrade(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    upgrade(url)
    engine = make_engine(url)
    assert TABLES <= set(inspect(engine).get_table_names())
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
