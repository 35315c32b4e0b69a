"""Fixtures shared by the whole suite.

The suite runs twice (see scripts/test): on SQLite with the in-process bus (the default), and
with CIVIC_TEST_BACKEND=postgres on the real PostgreSQL and Redis, a fresh database per run that is
dropped afterwards and a Redis key prefix per test. In CI (CI=true) a missing service fails the run;
locally the services pass is skipped with a loud message.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from civic.app import create_app
from civic.runtime import Runtime, build_runtime
from civic.settings import Settings
from civic.trust.keys import new_signing_key, new_vault_key
from civic.wiring import import_models

REPO_ROOT = Path(__file__).resolve().parent.parent


def with_code_under_test(env: dict[str, str]) -> dict[str, str]:
    """A child process's environment that imports civic from this checkout, whichever checkout
    `pip install -e` last pointed the installed package at (CI installs its own clone)."""
    return {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)}


BACKEND = os.environ.get("CIVIC_TEST_BACKEND", "sqlite")
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("CIVIC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CIVIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

FAST_ARGON2 = {"argon2_memory_kib": 19_456, "argon2_time_cost": 2, "argon2_parallelism": 1}


def _service_problem() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {exc.__class__.__name__}: {exc}"
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL} is unreachable: {exc}"
    return None


SERVICES_PROBLEM = _service_problem()


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [f"civic test backend: {BACKEND}"]
    if SERVICES_PROBLEM:
        lines.append(f"!!! SERVICES MISSING: {SERVICES_PROBLEM}")
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND == "postgres" and SERVICES_PROBLEM:
        if IN_CI:
            raise pytest.UsageError(f"CI needs PostgreSQL and Redis: {SERVICES_PROBLEM}")
        skip = pytest.mark.skip(reason=f"SERVICES MISSING — {SERVICES_PROBLEM}")
        for item in items:
            item.add_marker(skip)
        return
    if BACKEND != "postgres":
        skip = pytest.mark.skip(
            reason="needs PostgreSQL + Redis: runs in the CIVIC_TEST_BACKEND=postgres pass"
        )
        for item in items:
            if "services" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, with every table; dropped at the end."""
    name = f"civic_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # Commits here need not wait for the disk: nothing in the suite crashes PostgreSQL itself,
        # and the WAL flush was ~0.4 ms of every one of the suite's commits.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = re.sub(r"/[^/]*$", f"/{name}", PG_ADMIN_URL)
    engine = create_engine(url)
    import_models().metadata.create_all(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in import_models().metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if BACKEND == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        _truncate_all(url)
        return url
    url = f"sqlite:///{tmp_path / 'civic.sqlite3'}"
    engine = create_engine(url)
    import_models().metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"civictest:{uuid.uuid4().hex[:10]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    try:
        from rq import Queue

        Queue(
            f"civic-{prefix.split(':')[1]}", connection=client
        ).empty()  # also deletes the queued job hashes
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass
    finally:
        client.close()


TEST_VAULT_KEY = new_vault_key()
TEST_SIGNING_KEY = new_signing_key()


def make_settings(tmp_path: Path, database_url: str, redis_prefix: str, **overrides: object) -> Settings:
    production = BACKEND == "postgres"
    values: dict[str, object] = {
        "var_dir": tmp_path / "var",
        "database_url": database_url,
        "redis_url": REDIS_URL if production else "",
        "redis_prefix": redis_prefix,
        "rq_queue": f"civic-{redis_prefix.split(':')[1]}",
        "secret_key": "test-secret-key-not-for-production",
        # Production needs the trust keys given; embedded would generate them under var/.
        "vault_key": TEST_VAULT_KEY,
        "ledger_signing_key": TEST_SIGNING_KEY,
        "registration_limit": "10000/hour",
        # Tests seed many posts and reports per account; tests/security/test_rate_limits.py sets real ones.
        "posting_limit": "100000/minute",
        "reporting_limit": "100000/hour",
        "relay_in_web": False,
        "secure_cookies": False,
        **FAST_ARGON2,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, redis_prefix: str) -> Settings:
    return make_settings(tmp_path, database_url, redis_prefix)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def app(runtime: Runtime):  # type: ignore[no-untyped-def]
    return create_app(runtime=runtime)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def csrf_token(client: TestClient) -> str:
    return str(client.get("/api/csrf").json()["csrf_token"])


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token field"
    return match.group(1)
