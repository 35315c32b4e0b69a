"""Alembic environment: the target metadata holds every module's tables (civic.wiring).

On PostgreSQL the whole upgrade runs in one transaction that first takes an advisory lock: when
several containers run `civic migrate` at start, the first migrates and the others wait, then find
the schema at head and do nothing (without the lock they raced to create the same tables and all
but one failed).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from civic.migrate import MIGRATION_LOCK_KEY, migration_engine
from civic.settings import load_settings
from civic.wiring import import_models

config = context.config
target_metadata = import_models().metadata


def _url() -> str:
    return config.attributes.get("civic_database_url") or load_settings().effective_database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _lock_out_other_migrations(connection: Connection) -> None:
    """Wait for any other `civic migrate` on this database; released when the transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def run_migrations_online() -> None:
    url = _url()
    engine = migration_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            _lock_out_other_migrations(connection)
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
