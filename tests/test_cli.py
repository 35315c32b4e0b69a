"""The `civic` command as an operator meets it: help, migrate, the refusals, and a real `civic serve`.

In-process runs use click's CliRunner; the real console script runs as a subprocess where the exit
code, the absence of a traceback or a listening server is the point. Every run gets a clean
environment: no CIVIC_* variable of the developer's leaks in, ./var is a temporary directory,
and argon2 uses the cheapest parameters the settings accept.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from civic.cli import main
from civic.migrate import head_revision, schema_status
from civic.wiring import import_models
from tests.conftest import PG_ADMIN_URL, REDIS_URL, with_code_under_test

CHEAP_ARGON2 = {
    "CIVIC_ARGON2_MEMORY_KIB": "19456",
    "CIVIC_ARGON2_TIME_COST": "2",
    "CIVIC_ARGON2_PARALLELISM": "1",
}
COMMANDS = ("serve", "worker", "migrate", "demo", "engagement", "notifications", "ledger", "i18n", "bench")
CLOSED_PORT_PG = "postgresql+psycopg://civic:hunter2@127.0.0.1:1/civic"


def civic_executable() -> str:
    """The installed console script (`pip install -e .` puts it beside the interpreter)."""
    found = shutil.which("civic", path=str(Path(sys.executable).parent)) or shutil.which("civic")
    assert found, "the `civic` console script is not installed: run pip install -e '.[test]'"
    return found


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
    return with_code_under_test({**env, **CHEAP_ARGON2, "COLUMNS": "80", **extra})


def runner_env(**extra: str) -> dict[str, str | None]:
    """For CliRunner: unset every CIVIC_* variable, then set ours."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CIVIC_")}
    env.update(CHEAP_ARGON2)
    env.update(extra)
    return env


def run_civic(*args: str, cwd: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [civic_executable(), *args],
        cwd=cwd,
        env=subprocess_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


ServeCalls = list[dict[str, Any]]  # what `civic serve` passed to uvicorn.run, had it got that far


class Invoke(Protocol):
    def __call__(self, *args: str, **env: str) -> Result: ...


@pytest.fixture
def serve_calls(monkeypatch: pytest.MonkeyPatch) -> ServeCalls:
    """In-process runs must never block in a real server: record the call instead."""
    import uvicorn

    calls: ServeCalls = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    return calls


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve_calls: ServeCalls) -> Invoke:
    """Run `civic ARGS` in-process in tmp_path with CIVIC_VAR_DIR=tmp_path/var (plus extra env)."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def _invoke(*args: str, **env: str) -> Result:
        return runner.invoke(main, list(args), env=runner_env(CIVIC_VAR_DIR=str(tmp_path / "var"), **env))

    return _invoke


def assert_refused(result: Result, *needles: str) -> None:
    """A clear refusal: exit code 1, a message naming each needle, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    for needle in needles:
        assert needle in result.output, f"{needle!r} not in:\n{result.output}"


# ---- help -------------------------------------------------------------------------------------


def test_help_lists_every_command_with_a_one_line_description(tmp_path: Path) -> None:
    done = run_civic("--help", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("Commands:", 1)[1].strip().splitlines()
    descriptions = dict(line.split(None, 1) for line in listed)
    assert set(descriptions) == set(COMMANDS)
    for command, description in descriptions.items():
        assert len(description) > 10, f"{command} has no description"
        assert not description.endswith("..."), f"{command}'s description is cut off: {description!r}"


# ---- migrate ----------------------------------------------------------------------------------


def test_migrate_on_a_fresh_machine_creates_var_civic_sqlite3_at_head(tmp_path: Path) -> None:
    done = run_civic("migrate", cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    database = tmp_path / "var" / "civic.sqlite3"
    assert database.exists()
    assert schema_status(f"sqlite:///{database}").up_to_date
    assert f"from empty to revision {head_revision()}" in done.stdout


def test_migrate_again_says_it_is_already_up_to_date(invoke: Invoke) -> None:
    assert invoke("migrate").exit_code == 0

    again = invoke("migrate")

    assert again.exit_code == 0, again.output
    assert f"Already up to date at revision {head_revision()}" in again.output


def test_migrate_with_an_unreachable_database_says_what_to_do(invoke: Invoke) -> None:
    result = invoke("migrate", CIVIC_DATABASE_URL=CLOSED_PORT_PG)

    assert_refused(result, "Cannot connect to the database", "127.0.0.1:1", "CIVIC_DATABASE_URL")
    assert "Connection refused" in result.output
    assert "hunter2" not in result.output


def test_migrate_to_an_unknown_revision_is_refused_clearly(invoke: Invoke) -> None:
    assert_refused(invoke("migrate", "--revision", "nope"), "Migration failed", "'nope'")


def test_migrate_refuses_tables_it_did_not_create(invoke: Invoke, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    engine = create_engine(url)
    import_models().metadata.create_all(engine)
    engine.dispose()

    result = invoke("migrate", CIVIC_DATABASE_URL=url)

    assert_refused(result, "no migration history", "empty database")


def test_invalid_configuration_names_the_variable(invoke: Invoke) -> None:
    assert_refused(invoke("migrate", CIVIC_PORT="eighty"), "CIVIC_PORT")


# ---- serve and worker refuse to start wrongly -------------------------------------------------


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_production_without_a_secret_key_refuses_naming_it(tmp_path: Path, command: str) -> None:
    done = run_civic(
        command,
        cwd=tmp_path,
        timeout=30,
        CIVIC_REDIS_URL=REDIS_URL,
        CIVIC_DATABASE_URL=PG_ADMIN_URL,
    )

    assert done.returncode != 0
    assert "CIVIC_SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_production_on_sqlite_refuses_naming_the_database_url(tmp_path: Path, command: str) -> None:
    done = run_civic(
        command,
        cwd=tmp_path,
        timeout=30,
        CIVIC_REDIS_URL=REDIS_URL,
        CIVIC_SECRET_KEY="a-long-enough-secret-for-this-test",
    )

    assert done.returncode != 0
    assert "CIVIC_DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_several_web_processes_in_embedded_mode_are_refused(invoke: Invoke, serve_calls: ServeCalls) -> None:
    assert invoke("migrate").exit_code == 0

    result = invoke("serve", "--workers", "2")

    assert_refused(result, "production mode", "CIVIC_REDIS_URL", "--workers 1")
    assert serve_calls == []


def test_serve_on_an_unmigrated_database_says_to_run_migrate(invoke: Invoke, serve_calls: ServeCalls) -> None:
    assert_refused(invoke("serve"), "civic migrate")
    assert serve_calls == []


def test_serve_on_an_unreachable_database_says_so(invoke: Invoke, serve_calls: ServeCalls) -> None:
    assert_refused(invoke("serve", CIVIC_DATABASE_URL=CLOSED_PORT_PG), "Cannot connect", "CIVIC_DATABASE_URL")
    assert serve_calls == []


def test_serve_on_a_database_migrated_by_a_newer_release_warns_and_serves(
    invoke: Invoke, serve_calls: ServeCalls, tmp_path: Path
) -> None:
    """A rolling deploy: the new release migrated, the old one keeps serving until replaced."""
    assert invoke("migrate").exit_code == 0
    engine = create_engine(f"sqlite:///{tmp_path / 'var' / 'civic.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    engine.dispose()

    result = invoke("serve", "--port", "8123")

    assert result.exit_code == 0, result.output
    assert "Warning" in result.output and "f00dcafe" in result.output
    assert [call["port"] for call in serve_calls] == [8123]


def test_production_with_unreachable_redis_is_refused_before_touching_the_database(invoke: Invoke) -> None:
    result = invoke(
        "demo",
        "--no-serve",
        CIVIC_REDIS_URL="redis://:s3cret@127.0.0.1:1/0",
        CIVIC_DATABASE_URL=CLOSED_PORT_PG,
        CIVIC_SECRET_KEY="a-long-enough-secret-for-this-test",
    )

    assert_refused(result, "Cannot reach Redis", "CIVIC_REDIS_URL")
    assert "s3cret" not in result.output
    assert "Migrating" not in result.output


def test_worker_burst_in_embedded_mode_relays_and_exits(invoke: Invoke) -> None:
    assert invoke("migrate").exit_code == 0

    result = invoke("worker", "--burst")

    assert result.exit_code == 0, result.output
    assert "Relayed 0 events" in result.output


# ---- a real server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stopped_at_end() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Subprocesses to terminate (then kill) when the test ends, whatever happened."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def test_serve_answers_healthz_after_migrate(
    tmp_path: Path, stopped_at_end: list[subprocess.Popen[bytes]]
) -> None:
    env = {"CIVIC_VAR_DIR": str(tmp_path / "var")}
    migrated = run_civic("migrate", cwd=tmp_path, **env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [civic_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path,
            env=subprocess_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    stopped_at_end.append(server)

    health = _wait_for_health(f"http://127.0.0.1:{port}/healthz", server, log_path)

    assert health == {
        "status": "ok",
        "mode": "embedded",
        "database": "ok",
        "redis": "not configured (embedded mode)",
    }


def _wait_for_health(url: str, server: subprocess.Popen[bytes], log_path: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    last = "no answer"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"civic serve exited with {server.returncode}:\n{log_path.read_text()}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return dict(response.json())
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    pytest.fail(f"civic serve did not answer {url} within 20 s (last: {last}):\n{log_path.read_text()}")
