"""Alembic environment: the URL comes from `sentibot.storage.migrate` or from the settings."""

from __future__ import annotations

from alembic import context

from migrations.env_filters import include_name
from sentibot.config.settings import get_settings
from sentibot.storage.models import Base
from sentibot.storage.session import make_engine, normalize_url

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    """The URL `sentibot migrate` set, or the settings' database for a bare `alembic` call."""
    return config.get_main_option("sqlalchemy.url") or normalize_url(
        get_settings().effective_database_url
    )


def run_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
