"""Take the README's screenshots from a fresh demo: `python scripts/readme_screenshots.py`.

Loads the demo into a scratch directory, serves it, and photographs the main pages in Chromium
(Debian's, at /usr/bin/chromium) into docs/screenshots/, in English and Azerbaijani and on a
360 px phone. Run it after a visible change to the pages; the journeys' own step-by-step
screenshots are under artifacts/screenshots/ after `bash scripts/test browser`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "civic-demo-2026"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="civic-shots-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
        env.update(CIVIC_VAR_DIR=tmp, CIVIC_DATABASE_URL=f"sqlite:///{tmp}/civic.sqlite3")
        print("loading the demo …", flush=True)
        subprocess.run([sys.executable, "-m", "civic.cli", "demo", "--no-serve"], env=env, check=True, cwd=tmp)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "civic.cli", "serve", "--port", str(port)], env=env, cwd=tmp
        )
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)

                def shoot(name: str, path: str, *, lang: str = "en", who: str | None = None, width: int = 1280,
                          height: int = 860, full: bool = False) -> None:  # fmt: skip
                    context = browser.new_context(
                        viewport={"width": width, "height": height},
                        extra_http_headers={"Accept-Language": lang},
                        reduced_motion="reduce",
                    )
                    page = context.new_page()
                    if who:
                        log_in(page, base, who)
                    page.goto(f"{base}{path}")
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
                    print(f"  {name}.png  {path} ({lang}{', ' + who if who else ''})", flush=True)
                    context.close()

                rows = [
                    c
                    for number in (1, 2, 3)
                    for c in httpx.get(f"{base}/api/consultations", params={"page": number}).json()["items"]
                ]
                in_azerbaijani = [c["id"] for c in rows if c["title"].startswith("Rəqəmsal")] or [1]
                shoot("home", "/")
                shoot("home-az-phone", "/", lang="az", width=360, height=780)
                shoot("consultation-az", f"/consultations/{in_azerbaijani[0]}", lang="az")
                shoot("proposal", "/proposals/1", full=True)
                shoot("transparency", "/transparency")
                shoot("profile", "/me/profile", who="citizen001@demo.civic.az")
                shoot("consents", "/me/consents", who="citizen001@demo.civic.az")
                shoot("moderation-dashboard", "/moderation/dashboard", who="moderator@gov.demo.civic.az")
                shoot("moderation-queue-az", "/moderation", lang="az", who="moderator@gov.demo.civic.az")
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
