"""The consent journey in a real browser with JavaScript off: an official asks a citizen for their
contact e-mail; the citizen fills in their data vault, answers the request in the consent centre
and downloads the receipt (checked offline); the official reads the e-mail through the gate; the
citizen sees that read in "who used my data", withdraws the consent with one click, and the
official's next read is refused — which the citizen sees too.

The agency and its convener are written with the domain actions straight into the live server's
database (an official cannot register through the site); everything else goes through the pages.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from civic.identity.models import Role
from civic.runtime import Runtime, build_runtime
from civic.settings import Settings
from civic.trust.receipts_verify import check_receipt
from civic.wiring import import_models
from tests.browser.conftest import LiveServer, open_page
from tests.factories import make_account, make_agency, make_official

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
EMAIL_IN_VAULT = "leyla.contact@example.org"
SERVED = "Calling back about the night bus proposal"
Shot = Callable[[str], Path]


@pytest.fixture
def page(live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    with open_page(
        browser, live_server, request, java_script_enabled=False, accept_downloads=True
    ) as new_page:
        yield new_page


def _server_settings(live_server: LiveServer, production_env: dict[str, str]) -> Settings:
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


@dataclass
class Cast:
    official_email: str
    citizen_email: str
    citizen_id: int


@pytest.fixture(scope="module")
def cast(live_server: LiveServer, production_env: dict[str, str]) -> Iterator[Cast]:
    runtime: Runtime = build_runtime(_server_settings(live_server, production_env))
    token = uuid.uuid4().hex[:6]
    # Trust's tables, until `civic migrate` creates them (a no-op once the migration exists).
    import_models().metadata.create_all(runtime.db.engine)
    try:
        with runtime.db.transaction() as session:
            agency = make_agency(session, "Baku Transport Agency")
            official = make_official(
                runtime, session, agency, Role.CONVENER, email=f"conv-{token}@gov.example.org"
            )
            citizen = make_account(runtime, session, email=f"leyla-{token}@example.org", name="Leyla")
            assert citizen.id is not None
            made = Cast(official.email, citizen.email, citizen.id)
        yield made
    finally:
        runtime.close()


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _read(official: Page, citizen_id: int) -> None:
    official.goto("/data/read")
    official.get_by_label("E-citizen's account number").fill(str(citizen_id))
    official.get_by_label("Data").select_option(label="Contact e-mail")
    official.get_by_label("Purpose").select_option(label="Contacting you about your proposal")
    official.get_by_label("What this read serves").fill(SERVED)
    official.get_by_role("button", name="Read through the gate").click()


def test_consent_journey(
    page: Page,
    shot: Shot,
    cast: Cast,
    browser: Browser,
    live_server: LiveServer,
    request: pytest.FixtureRequest,
) -> None:
    # The citizen keeps their contact e-mail in the vault.
    _log_in(page, cast.citizen_email)
    page.goto("/me/data")
    page.get_by_label("Contact e-mail").fill(EMAIL_IN_VAULT)
    page.get_by_role("button", name="Save my data").click()
    expect(page.get_by_role("status")).to_contain_text("Your data is saved.")
    shot("vault-saved")

    with open_page(browser, live_server, request, java_script_enabled=False) as official:
        # The official asks for it.
        _log_in(official, cast.official_email)
        official.goto("/data/requests")
        official.get_by_label("E-citizen's account number").fill(str(cast.citizen_id))
        official.get_by_label("Purpose").select_option(label="Contacting you about your proposal")
        official.get_by_label("Contact e-mail").check()
        official.get_by_label("Kept for (days)").fill("30")
        official.get_by_label("Message to the citizen (optional)").fill("We would like to call you back.")
        official.get_by_role("button", name="Send request").click()
        expect(official.get_by_role("status")).to_contain_text("Request sent.")

        # The citizen answers it in the consent centre, in plain words.
        page.goto("/me/consents")
        requests = page.get_by_test_id("requests")
        expect(requests).to_contain_text("Contacting you about your proposal")
        expect(requests).to_contain_text("We would like to call you back.")
        shot("request-waiting")
        requests.get_by_role("button", name="Give consent").click()
        expect(page.get_by_role("status")).to_contain_text("Consent given.")
        consent = page.get_by_test_id("consents").get_by_role("listitem").first
        expect(consent).to_contain_text("Given")
        shot("consent-given")

        # The receipt downloads and checks offline.
        with page.expect_download() as info:
            consent.get_by_role("link", name="Download receipt").click()
        receipt = json.loads(Path(info.value.path()).read_text())
        assert receipt["services"][0]["purposes"][0]["purpose_id"] == "contact_about_proposal"
        assert check_receipt(receipt) == []

        # The official reads through the gate.
        _read(official, cast.citizen_id)
        expect(official.get_by_test_id("read-result")).to_contain_text(EMAIL_IN_VAULT)

        # The citizen sees the read, with its purpose and what it served.
        page.goto("/me/data-access")
        rows = page.get_by_test_id("accesses")
        expect(rows).to_contain_text(SERVED)
        expect(rows).to_contain_text("convener")
        expect(rows).to_contain_text("Read")
        shot("who-used-my-data")

        # One click withdraws the consent; the next read is refused.
        page.goto("/me/consents")
        page.get_by_role("button", name="Withdraw consent").click()
        expect(page.get_by_role("status")).to_contain_text("Consent withdrawn.")
        expect(page.get_by_test_id("consents")).to_contain_text("Withdrawn")
        shot("consent-withdrawn")
        _read(official, cast.citizen_id)
        expect(official.get_by_test_id("read-refused")).to_have_attribute("data-reason", "revoked")
        expect(official.get_by_test_id("read-result")).to_have_count(0)

    page.goto("/me/data-access")
    expect(page.get_by_test_id("accesses")).to_contain_text("consent withdrawn")
    shot("refusal-listed")
