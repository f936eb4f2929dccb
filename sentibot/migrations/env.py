"""Alembic environment: the URL comes from the config `sentibot.storage.migrate` builds."""

from __future__ import annotations

from alembic import context

from sentibot.storage.models import Base
from sentibot.storage.session import make_engine

config = context.config
target_metadata = Base.metadata


def _ours(name: str | None, type_: str, parent_names: dict) -> bool:
    """Autogenerate compares our models only; slack-sdk's tables come from revision 0005."""
    return not (type_ == "table" and name is not None and name.startswith("slack_"))


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=_ours,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=_ours,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
