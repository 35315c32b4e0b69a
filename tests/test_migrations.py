"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL.

Every test starts from an empty database: an SQLite file in tmp_path, or (services pass) a fresh
PostgreSQL database created for the test and dropped after it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from civic.migrate import (
    DatabaseUnreachable,
    alembic_config,
    downgrade,
    head_revision,
    redact_url,
    schema_status,
    upgrade,
)
from civic.wiring import import_models
from tests.conftest import PG_ADMIN_URL


@contextmanager
def empty_postgres_database(prefix: str = "civic_mig") -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped (connections and all) when the block ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield re.sub(r"/[^/]*$", f"/{name}", PG_ADMIN_URL)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'civic.sqlite3'}"
        return
    with empty_postgres_database() as url:
        yield url


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, import_models().metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_there_is_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert heads == [head_revision()], f"several heads, merge them: {heads}"


def test_upgrade_from_empty_builds_exactly_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)

    assert _differences(empty_database_url) == []
    status = schema_status(empty_database_url)
    assert status.up_to_date and status.known


def test_partial_indexes_keep_their_condition(empty_database_url: str) -> None:
    """compare_metadata does not look at WHERE clauses: an index that lost its condition would
    still pass the test above while the relay's query for unpublished rows scans the whole table."""
    upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    dialect = engine.dialect.name
    try:
        reflected = inspect(engine)
        partial = [
            (table.name, index)
            for table in import_models().metadata.sorted_tables
            for index in table.indexes
            if index.dialect_kwargs.get(f"{dialect}_where") is not None
        ]
        assert partial, "the models declare at least one partial index (outbox_event's unpublished rows)"
        for table_name, index in partial:
            found = {i["name"]: i for i in reflected.get_indexes(table_name)}[index.name]
            where = found["dialect_options"].get(f"{dialect}_where")
            assert where is not None, f"{index.name} was created without its WHERE clause"
            assert _normalised(where) == _normalised(index.dialect_kwargs[f"{dialect}_where"])
    finally:
        engine.dispose()


def _normalised(clause: object) -> str:
    # PostgreSQL reflects a condition on a varchar column with its casts: state::text = 'open'::text.
    return re.sub(r"[\s()]|::[a-z ]+", "", str(clause)).lower()


def test_downgrade_to_base_removes_every_table_and_upgrade_works_again(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    downgrade(empty_database_url, "base")

    assert _tables(empty_database_url) <= {"alembic_version"}
    assert schema_status(empty_database_url).current is None

    upgrade(empty_database_url)
    assert _differences(empty_database_url) == []


def test_each_migration_goes_up_down_and_up_again(empty_database_url: str) -> None:
    """The "stairway": every revision's downgrade undoes exactly its upgrade, one step at a time."""
    script = ScriptDirectory.from_config(alembic_config(empty_database_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        upgrade(empty_database_url, revision)
        downgrade(empty_database_url, "-1")
        upgrade(empty_database_url, revision)
        assert schema_status(empty_database_url).current == revision
    assert _differences(empty_database_url) == []


def test_upgrading_an_up_to_date_database_changes_nothing(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)

    assert schema_status(empty_database_url).up_to_date


def test_schema_status_tells_empty_from_foreign_tables_and_newer_revisions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'civic.sqlite3'}"
    empty = schema_status(url)
    assert (empty.current, empty.has_tables) == (None, False)

    engine = create_engine(url)
    import_models().metadata.create_all(engine)  # tables, but not made by `civic migrate`
    unversioned = schema_status(url)
    assert (unversioned.current, unversioned.has_tables) == (None, True)

    import_models().metadata.drop_all(engine)
    upgrade(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    engine.dispose()
    newer = schema_status(url)
    assert newer.current == "f00dcafe"
    assert not newer.known and not newer.up_to_date


def test_an_unreachable_database_is_reported_in_one_line_without_the_password() -> None:
    url = "postgresql+psycopg://civic:hunter2@127.0.0.1:1/civic"
    with pytest.raises(DatabaseUnreachable) as caught:
        upgrade(url)

    message = str(caught.value)
    assert "127.0.0.1:1" in message and "refused" in message.lower()
    assert "hunter2" not in message
    assert "\n" not in message


def test_redact_url_hides_only_the_password() -> None:
    assert redact_url("postgresql+psycopg://civic:s3cret@db:5432/civic") == (
        "postgresql+psycopg://civic:***@db:5432/civic"
    )
    assert redact_url("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert redact_url("sqlite:///var/civic.sqlite3") == "sqlite:///var/civic.sqlite3"


@pytest.mark.services
def test_concurrent_migrations_on_postgres_wait_for_each_other() -> None:
    """Several containers running `civic migrate` at start: one migrates, the others find it done."""
    with empty_postgres_database() as url:
        code = f"from civic.migrate import upgrade; upgrade({url!r})"
        procs = [
            subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
            for _ in range(3)
        ]
        try:
            results = [(proc.wait(timeout=60), proc.stderr.read()) for proc in procs]  # type: ignore[union-attr]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                if proc.stderr:
                    proc.stderr.close()
        assert [code for code, _ in results] == [0, 0, 0], "\n".join(err for _, err in results)
        assert _differences(url) == []
