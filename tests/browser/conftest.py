"""Browser journeys: a real `civic serve` in a subprocess, driven by Debian's Chromium via Playwright.

By default the server runs embedded (SQLite under a temporary directory, in-process bus). With
CIVIC_TEST_BACKEND=postgres it runs in production mode instead: a fresh PostgreSQL database
(dropped at the end), Redis with a key prefix and RQ queue of its own, and a `civic worker`
subprocess beside it — the same processes a deployment runs.

Chromium is never downloaded (`playwright install` is not used): the tests drive the distribution's
/usr/bin/chromium (CIVIC_CHROMIUM overrides the path). Without it the tests fail when CI=true and
are skipped with a loud reason otherwise; scripts/install-chromium installs it.

Every step of a journey is saved as artifacts/screenshots/<test>[-backend]-<lang>/<nn-step>.png and
checked with axe-core (serious or critical findings fail the step), and the server's log is kept as
artifacts/browser/<backend>-*.log, so a failure in CI can be read after the fact.

Journeys run in English and in Azerbaijani (`@both_languages` and `T()` from tests/browser/i18n.py):
the browser context says which language it wants the way a real browser does, with Accept-Language.

What the journeys share lives here too: the live server's database (`server_runtime`, for writing
the agencies and officials nobody can register through the site) and the steps every journey takes
(`register`, `log_in`, `log_out`, `reload_until`).

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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from civic.identity.models import Account
from civic.participation import consultations
from civic.participation.models import Consultation
from civic.participation.schemas import ConsultationInput, PhaseChange
from civic.runtime import Runtime, build_runtime
from civic.settings import Settings
from tests.browser import i18n
from tests.browser.accessibility import assert_accessible
from tests.browser.i18n import ACCEPT_LANGUAGE, BROWSER_LOCALE, T
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
PASSWORD = "correct horse battery staple"  # every account the journeys write or register

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
        # No WAL flush wait at commit: no test here crashes PostgreSQL itself.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
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

    for lang in i18n.LANGUAGES:  # read the catalogs when the server does: `T()` and the pages agree
        i18n.translations(lang)
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


@pytest.fixture
def lang(request: pytest.FixtureRequest) -> Iterator[str]:
    """The journey's language: "en" unless `@both_languages` (indirect) says otherwise."""
    chosen = getattr(request, "param", "en")
    i18n.use(chosen)
    try:
        yield chosen
    finally:
        i18n.use("en")


@contextlib.contextmanager
def open_page(
    browser: Browser,
    live_server: LiveServer,
    request: pytest.FixtureRequest,
    *,
    lang: str | None = None,
    **options: Any,
) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the live server; a final screenshot if the test failed.

    The context asks for `lang` (default: the journey's) as a browser set to that language would,
    and prefers reduced motion (pass `reduced_motion="no-preference"` to see the animations).
    """
    lang = lang or i18n.current()
    headers = {"Accept-Language": ACCEPT_LANGUAGE[lang], **options.pop("extra_http_headers", {})}
    options.setdefault("locale", BROWSER_LOCALE[lang])
    # No fade-ins: a toast caught half-transparent would fail axe's contrast check and blur screenshots.
    options.setdefault("reduced_motion", "reduce")
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        extra_http_headers=headers,
        **options,
    )
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    try:
        yield new_page
        if request.node.stash.get(_FAILED, False):
            directory = _screenshot_dir(request.node, lang)
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / "99-failure.png"
            for n in range(2, 9):  # one per browser of a several-browser journey
                if not path.exists():
                    break
                path = directory / f"99-failure-{n}.png"
            new_page.screenshot(path=str(path), full_page=True)
    finally:
        context.close()


@pytest.fixture
def page(
    chromium_executable: str,
    live_server: LiveServer,
    browser: Browser,
    request: pytest.FixtureRequest,
    lang: str,
) -> Iterator[Page]:
    with open_page(browser, live_server, request, lang=lang) as new_page:
        yield new_page


def _screenshot_dir(node: pytest.Item, lang: str) -> Path:
    name = getattr(node, "originalname", None) or node.name
    suffix = "" if BACKEND == "sqlite" else f"-{BACKEND}"
    return SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}{suffix}-{lang}"


class Shot:
    """`shot("step")` records a step of the journey on the test's page (`shot("step", other)` on
    another browser's): its <html lang> is the journey's, a full-page screenshot is saved as
    artifacts/screenshots/<test>[-backend]-<lang>/<nn-step>.png, and axe-core finds nothing
    serious or critical on it.
    """

    def __init__(self, request: pytest.FixtureRequest, lang: str) -> None:
        self.request, self.lang = request, lang
        self.directory = _screenshot_dir(request.node, lang)
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, step: str, on: Page | None = None) -> Path:
        target: Page = on if on is not None else self.request.getfixturevalue("page")
        self.count += 1
        path = self.directory / f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', step)}.png"
        target.screenshot(path=str(path), full_page=True)
        expect(target.locator("html")).to_have_attribute("lang", self.lang)
        assert_accessible(target, f"{step} [{self.lang}]")
        return path


@pytest.fixture
def shot(request: pytest.FixtureRequest, lang: str) -> Shot:
    return Shot(request, lang)


# ---- the live server's database ------------------------------------------------------------


def server_settings(live_server: LiveServer, production_env: dict[str, str]) -> Settings:
    """Settings that reach the live server's database (and, in production mode, its Redis and queue).

    The relay stays off in the test process: the server's own relay (embedded) or its worker
    (production) publishes what the tests write, as it would for anything else.
    """
    fast = {"argon2_memory_kib": 19_456, "argon2_time_cost": 2, "argon2_parallelism": 1}
    if production_env:
        return Settings(
            database_url=production_env["CIVIC_DATABASE_URL"],
            redis_url=production_env["CIVIC_REDIS_URL"],
            redis_prefix=production_env["CIVIC_REDIS_PREFIX"],
            rq_queue=production_env["CIVIC_RQ_QUEUE"],
            secret_key=production_env["CIVIC_SECRET_KEY"],
            vault_key=production_env.get("CIVIC_VAULT_KEY", ""),
            ledger_signing_key=production_env.get("CIVIC_LEDGER_SIGNING_KEY", ""),
            relay_in_web=False,
            **fast,
        )
    return Settings(var_dir=live_server.workdir / "var", relay_in_web=False, **fast)


@pytest.fixture(scope="session")
def server_runtime(live_server: LiveServer, production_env: dict[str, str]) -> Iterator[Runtime]:
    runtime = build_runtime(server_settings(live_server, production_env))
    try:
        yield runtime
    finally:
        runtime.close()


def seed_consultation(
    session: Any,
    convener: Account,
    agency_id: int | None,
    title: str,
    *,
    phase: str = "proposals",
    **fields: Any,
) -> Consultation:
    """A consultation its convener has written, published and moved to `phase` (as from the console)."""
    fields.setdefault("summary", "The city asks residents what to do first.")
    fields.setdefault("body", "The city will answer every proposal.")
    consultation = consultations.create_consultation(
        session, convener, ConsultationInput(agency_id=agency_id, title=title, **fields)
    )
    consultations.publish_consultation(session, convener, consultation.id)
    consultations.change_phase(session, convener, consultation.id, PhaseChange(phase=phase))
    return consultation


def move_to(session: Any, convener: Account, consultation_id: int | None, phase: str) -> None:
    consultations.change_phase(session, convener, consultation_id, PhaseChange(phase=phase))


# ---- steps every journey takes -------------------------------------------------------------


def nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name=T("Main"))


def register(page: Page, name: str, *, email: str | None = None, kind: str = "A citizen") -> str:
    """Register through /register (logged in afterwards); returns the e-mail address used."""
    email = email or f"citizen-{uuid.uuid4().hex[:10]}@example.org"
    page.goto("/register")
    page.get_by_label(T("E-mail address")).fill(email)
    page.get_by_label(T("Public name")).fill(name)
    page.get_by_role("group", name=T("I am joining as")).get_by_role(
        "radio", name=T(kind), exact=True
    ).check()
    page.get_by_label(T("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=T("Create account"), exact=True).click()
    expect(page).to_have_url("/account?welcome=1")
    return email


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label(T("E-mail address")).fill(email)
    page.get_by_label(T("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=T("Log in"), exact=True).click()
    expect(nav(page).get_by_role("button", name=T("Log out"), exact=True)).to_be_visible()


def log_out(page: Page) -> None:
    nav(page).get_by_role("button", name=T("Log out"), exact=True).click()
    expect(page).to_have_url("/?logged_out=1")


def reload_until(page: Page, locator: Locator, timeout: float = 20.0) -> None:
    """Reload until `locator` is on the page: what handlers write arrives a moment after the act."""
    deadline = time.monotonic() + timeout
    while locator.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.3)
        page.reload()
    expect(locator.first).to_be_visible()
