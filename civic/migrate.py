"""Alembic, driven from code: `civic migrate`, the commands that check the schema before they start,
and the tests all use the same configuration.

Connection problems are turned into `DatabaseUnreachable` with a message a person can act on
(which database, what the driver said), because the first thing a new deployment usually gets
wrong is the database URL, and a SQLAlchemy traceback hides the one line that matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, inspect, pool
from sqlalchemy.exc import ArgumentError, DBAPIError

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

# The PostgreSQL advisory lock `civic migrate` holds while it migrates (see migrations/env.py):
# several containers that each run `civic migrate` at start must not create the same tables at once.
MIGRATION_LOCK_KEY = 0x6D696772  # "migr"; the relay's lock is a different key

CONNECT_TIMEOUT_SECONDS = 10


class DatabaseUnreachable(Exception):
    """The database cannot be reached, or its URL cannot be used; the message says which and why."""


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands against this code's migrations."""

    current: str | None  # None: no migration has run there
    head: str
    known: bool  # False: the database was migrated by a newer release than this code
    has_tables: bool  # tables exist (without `current`, they were not made by `civic migrate`)

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["civic_database_url"] = database_url
    return config


def redact_url(url: str) -> str:
    """The URL without its password, fit for messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        host = parts.netloc.rsplit("@", 1)[1]
        user = f"{parts.username}:" if parts.username else ":"
        return urlunsplit(parts._replace(netloc=f"{user}***@{host}"))
    except ValueError:
        return "(a URL that cannot be parsed)"


def migration_engine(database_url: str) -> Engine:
    """An engine for one short job: no pool, a bounded connect wait, SQLite's folder created."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[1] if "///" in database_url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return create_engine(database_url, poolclass=pool.NullPool)
    connect_args = (
        {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if database_url.startswith("postgresql") else {}
    )
    return create_engine(database_url, poolclass=pool.NullPool, connect_args=connect_args)


def _connect(database_url: str) -> tuple[Engine, Connection]:
    """Open one connection or say, in one line, why it cannot be opened."""
    where = redact_url(database_url)
    try:
        engine = migration_engine(database_url)
    except ImportError as exc:
        raise DatabaseUnreachable(
            f"The database URL {where} needs a driver that is not installed ({exc}). "
            "For PostgreSQL use postgresql+psycopg://…"
        ) from exc
    except ArgumentError as exc:
        raise DatabaseUnreachable(f"The database URL {where} cannot be used: {exc}") from exc
    try:
        return engine, engine.connect()
    except DBAPIError as exc:
        engine.dispose()
        reason = " ".join(str(exc.orig or exc).split())
        raise DatabaseUnreachable(f"Cannot connect to the database at {where}: {reason}") from exc


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the repository always has migrations
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return head


def schema_status(database_url: str) -> SchemaStatus:
    """Read the database's revision. Raises DatabaseUnreachable."""
    script = ScriptDirectory.from_config(alembic_config(database_url))
    engine, connection = _connect(database_url)
    try:
        heads = MigrationContext.configure(connection).get_current_heads()
        tables = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
    finally:
        connection.close()
        engine.dispose()
    current = ",".join(heads) if heads else None
    return SchemaStatus(
        current=current,
        head=head_revision(),
        known=all(_is_known(script, rev) for rev in heads),
        has_tables=bool(tables),
    )


def _is_known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def check_reachable(database_url: str) -> None:
    """Connect once; raises DatabaseUnreachable with the reason."""
    engine, connection = _connect(database_url)
    connection.close()
    engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Upgrade to `revision`. Raises DatabaseUnreachable, before anything runs, if it cannot connect."""
    check_reachable(database_url)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
