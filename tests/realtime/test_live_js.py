"""web/static/live.js in a real Chromium against the real server: it follows the page's topics,
updates counts, resumes after the server closes its socket without losing or repeating an
event, and reloads the page (once) when told to reset.

The page is served by Playwright's router on the server's own origin, so the script, the socket
and the Origin check are all the real ones without touching the templates. Marked `browser`:
it needs Chromium (scripts/install-chromium) and is skipped without it, unless CI=true.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator

import pytest

from civic.realtime import protocol
from tests.realtime.conftest import LiveServer, Serve

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CIVIC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    # The routed page has no network address, so Chromium counts it as public and would block its
    # socket to 127.0.0.1 (Local Network Access); a page the server sends itself is not affected.
    "--disable-features=LocalNetworkAccessChecks",
]
WAIT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium for the module, torn down with it: Playwright's sync API keeps an event loop
    marked as running in this thread while it lives, which later asyncio tests must not meet."""
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium is missing at {CHROMIUM}")
        pytest.skip(f"Chromium is missing at {CHROMIUM} (scripts/install-chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_page(serve: Serve, browser) -> Iterator[tuple[LiveServer, object]]:  # type: ignore[no-untyped-def]
    live = serve()
    context = browser.new_context()
    try:
        yield live, context.new_page()
    finally:
        context.close()


def serve_page(live: LiveServer, page, body_attrs: str, inner: str = "") -> str:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{live.port}/live-test"
    html = (
        f"<!doctype html><html lang=en><head><title>live</title>"
        f'<script src="/static/live.js" defer></script></head><body {body_attrs}>{inner}</body></html>'
    )
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    return url


def position(page, topic: str):  # type: ignore[no-untyped-def]
    return page.evaluate(
        "t => (JSON.parse(sessionStorage.getItem('civic.live.v1') || '{}').positions || {})[t] || null", topic
    )


def close_sockets(live: LiveServer, code: int) -> None:
    loop = live.hub._loop
    assert loop is not None

    async def close_all() -> None:
        for connection in list(live.hub.connections):
            connection.close_soon(code, "test")

    asyncio.run_coroutine_threadsafe(close_all(), loop).result(5)


def test_live_js_updates_counts_and_resumes_after_a_reconnect(browser_page) -> None:  # type: ignore[no-untyped-def]
    live, page = browser_page
    topic = f"proposal:{live.world.proposal_id}"
    counter = f'<p>Supports: <span id="count" data-live-count="{topic}:support_count">0</span></p>'
    page.goto(serve_page(live, page, f'data-live-topics="{topic}"', counter))
    page.evaluate(
        "window.seen = []; document.addEventListener('civic:event', e => window.seen.push(e.detail))"
    )
    page.wait_for_function(
        f"document.body && (sessionStorage.getItem('civic.live.v1') || '').includes('{topic}')",
        timeout=WAIT_MS,
    )
    start = position(page, topic)["offset"]

    live.support("supporter0")
    page.wait_for_function("document.getElementById('count').textContent === '1'", timeout=WAIT_MS)

    # The browser goes offline and the server ends the socket; an event happens while it is away.
    page.context.set_offline(True)
    close_sockets(live, protocol.CLOSE_RECONNECT)
    live.support("supporter1")
    live.wait_offset(topic, start + 2)
    assert live.hub.connections == set()
    page.context.set_offline(False)
    page.wait_for_function("document.getElementById('count').textContent === '2'", timeout=WAIT_MS)

    details = page.evaluate("window.seen")
    assert [d["offset"] for d in details] == [start + 1, start + 2]
    assert [d["event"]["data"]["support_count"] for d in details] == [1, 2]
    assert len({d["event"]["id"] for d in details}) == 2
    assert position(page, topic)["offset"] == start + 2


def test_live_js_reloads_once_when_the_server_says_reset(browser_page) -> None:  # type: ignore[no-untyped-def]
    live, page = browser_page
    topic = f"consultation:{live.world.consultation_id}"
    loads: list[str] = []
    page.on("load", lambda _page: loads.append("load"))
    # A snapshot position from an epoch the server does not have: it answers reset.
    page.goto(serve_page(live, page, f'data-live-epoch="gone" data-live-topics="{topic}@3"'))
    for _ in range(WAIT_MS // 50):
        if len(loads) >= 2:
            break
        page.wait_for_timeout(50)
    page.wait_for_timeout(1500)  # time enough for a second reset, which must not reload again
    # The first page load, then one reload; the guard stops a reload loop on the same stale page.
    assert loads == ["load", "load"]
