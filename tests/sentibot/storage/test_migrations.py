import pytest
from sqlalchemy import inspect

from sentibot.storage.migrate import downgrade, upgrade
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
