"""Browser journeys: a real `civic serve` in a subprocess, driven by Debian's Chromium via Playwright.

By default the server runs embedded (SQLite under a temporary directory, in-process bus). With
CIVIC_TEST_BACKEND=postgres it runs in production mode instead: a fresh PostgreSQL database
(dropped at the end), Redis with a key prefix and RQ queue of its own, and a `civic worker`
subprocess beside it — the same processes a deployment runs.

Chromium is never downloaded (`playwright install` is not used): the tests drive the distribution's
/usr/bin/chromium (CIVIC_CHROMIUM overrides the path). Without it the tests fail when CI=true and
are skipped with a loud reason otherwise; scripts/install-chromium installs it.

Every step of a journey is saved as artifacts/screenshots/<test>/<nn-step>.png, and the server's
log as artifacts/browser/<backend>-*.log, so a failure in CI can be read after the fact.

Why Playwright lives in a *package*-scoped fixture: between sync calls Playwright marks its own
event loop as the thread's running loop. Kept alive for the whole session, it would break every
pytest-asyncio test that runs after tests/browser in the same process; torn down when the
package ends, it leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import TEST_SIGNING_KEY, TEST_VAULT_KEY, with_code_under_test

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

CHROMIUM = os.environ.get("CIVIC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BACKEND = os.environ.get("CIVIC_TEST_BACKEND", "sqlite")
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("CIVIC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CIVIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STARTUP_TIMEOUT = 30.0

# Cheap argon2 (the OWASP minimum the settings accept) and a registration limit no journey reaches.
BASE_ENV = {
    "CIVIC_ARGON2_MEMORY_KIB": "19456",
    "CIVIC_ARGON2_TIME_COST": "2",
    "CIVIC_ARGON2_PARALLELISM": "1",
    "CIVIC_REGISTRATION_LIMIT": "1000/hour",
    "CIVIC_LOG_LEVEL": "info",
    "PYTHONUNBUFFERED": "1",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/browser is a browser test, marked or not (so `-m "not browser"` is exact)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents and "browser" not in item.keywords:
            item.add_marker(pytest.mark.browser)


# ---- the server ----------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    backend: str
    log_path: Path
    workdir: Path  # the server's working directory: its embedded database is var/civic.sqlite3 there


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(extra: dict[str, str]) -> dict[str, str]:
    # Nothing from the caller's CIVIC_* configuration may leak in (a developer's CIVIC_DATABASE_URL
    # would point the test server at their own database).
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
    env.update(BASE_ENV)
    env.update(extra)
    return with_code_under_test(env)


def _civic(*args: str) -> list[str]:
    return [sys.executable, "-m", "civic.cli", *args]


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return text[-limit:] if text else "(empty)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "no answer yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"civic serve exited with code {proc.returncode} before answering /healthz.\n"
                f"--- server log ({log_path}) ---\n{_tail(log_path)}",
                pytrace=False,
            )
        try:
            response = httpx.get(f"{url}/healthz", timeout=2.0)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}: {response.text[:300]}"
        except httpx.HTTPError as exc:
            last = f"{exc.__class__.__name__}: {exc}"
        time.sleep(0.2)
    pytest.fail(
        f"civic serve did not answer /healthz with 200 within {STARTUP_TIMEOUT:.0f} s (last: {last}).\n"
        f"--- server log ({log_path}) ---\n{_tail(log_path)}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def production_env() -> Iterator[dict[str, str]]:
    """Production-mode configuration on a fresh database and Redis namespace (postgres backend only)."""
    if BACKEND != "postgres":
        yield {}
        return
    import redis
    from sqlalchemy import create_engine, text

    token = uuid.uuid4().hex[:10]
    name = f"civic_browser_{token}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    prefix = f"civicbrowser:{token}"
    try:
        yield {
            "CIVIC_DATABASE_URL": re.sub(r"/[^/]*$", f"/{name}", PG_ADMIN_URL),
            "CIVIC_REDIS_URL": REDIS_URL,
            "CIVIC_REDIS_PREFIX": prefix,
            "CIVIC_RQ_QUEUE": f"civic-browser-{token}",
            "CIVIC_SECRET_KEY": f"browser-test-secret-{uuid.uuid4().hex}",
            "CIVIC_VAULT_KEY": TEST_VAULT_KEY,
            "CIVIC_LEDGER_SIGNING_KEY": TEST_SIGNING_KEY,
            # The browser talks plain http to localhost: a Secure cookie would never come back.
            "CIVIC_SECURE_COOKIES": "false",
        }
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"*{token}*", count=1000))
            if keys:
                client.delete(*keys)
        except redis.RedisError:
            pass
        finally:
            client.close()


@pytest.fixture(scope="session")
def live_server(production_env: dict[str, str]) -> Iterator[LiveServer]:
    """`civic migrate`, then `civic serve` (and, in production mode, `civic worker`) until the session ends."""
    logs = ARTIFACTS / "browser"
    logs.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="civic-browser-"))
    env = _server_env({"CIVIC_VAR_DIR": str(workdir / "var"), **production_env})
    log_path = logs / f"{BACKEND}-server.log"
    worker_log = logs / f"{BACKEND}-worker.log"

    migrate = subprocess.run(
        _civic("migrate"), cwd=workdir, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if migrate.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.fail(
            f"civic migrate failed ({migrate.returncode}):\n{migrate.stdout}\n{migrate.stderr}", pytrace=False
        )

    procs: list[subprocess.Popen[bytes]] = []
    try:
        if production_env:
            with worker_log.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        _civic("worker"), cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
                    )
                )
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        with log_path.open("wb") as out:
            server = subprocess.Popen(
                _civic("serve", "--host", "127.0.0.1", "--port", str(port)),
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        procs.append(server)
        _wait_healthy(url, server, log_path)
        # Guard against a harness that silently tests the wrong configuration.
        health = httpx.get(f"{url}/healthz", timeout=5.0).json()
        expected = "production" if production_env else "embedded"
        if health.get("mode") != expected:
            pytest.fail(f"expected civic serve in {expected} mode, /healthz says {health}", pytrace=False)
        if production_env and procs[0].poll() is not None:
            pytest.fail(
                f"civic worker exited with code {procs[0].returncode}.\n--- worker log ---\n{_tail(worker_log)}",
                pytrace=False,
            )
        yield LiveServer(url=url, backend=BACKEND, log_path=log_path, workdir=workdir)
    finally:
        for proc in reversed(procs):
            _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


# ---- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The distribution's Chromium; missing, it fails the run in CI and skips loudly elsewhere."""
    if not Path(CHROMIUM).exists():
        message = (
            f"!!! CHROMIUM MISSING: {CHROMIUM} does not exist, so the browser journeys cannot run. "
            "Install it with `bash scripts/install-chromium` (apt-get install chromium)."
        )
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="package")
def browser(chromium_executable: str) -> Iterator[Browser]:
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@contextlib.contextmanager
def open_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest, **options: Any
) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the live server; a final screenshot if the test failed."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, **options
    )
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    try:
        yield new_page
        if request.node.stash.get(_FAILED, False):
            directory = _screenshot_dir(request.node.name)
            directory.mkdir(parents=True, exist_ok=True)
            new_page.screenshot(path=str(directory / "99-failure.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def page(
    chromium_executable: str, live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest
) -> Iterator[Page]:
    with open_page(browser, live_server, request) as new_page:
        yield new_page


def _screenshot_dir(test_name: str) -> Path:
    suffix = "" if BACKEND == "sqlite" else f"-{BACKEND}"
    return SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name) + suffix)


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """`shot("step-name")` saves artifacts/screenshots/<test>/<nn-step-name>.png (full page)."""
    directory = _screenshot_dir(request.node.name)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 99))

    def take(step: str) -> Path:
        path = directory / f"{next(counter):02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', step)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
