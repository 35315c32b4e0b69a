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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from civic.identity.models import Role
from civic.runtime import Runtime
from civic.trust.purposes import ATTRIBUTES, PURPOSES
from civic.trust.receipts_verify import check_receipt
from civic.wiring import import_models
from tests.browser.conftest import LiveServer, Shot, log_in, open_page, server_settings
from tests.browser.i18n import T, both_languages, in_language
from tests.factories import make_account, make_agency, make_official

pytestmark = pytest.mark.browser

EMAIL_IN_VAULT = "leyla.contact@example.org"
SERVED = "Calling back about the night bus proposal"
_server_settings = server_settings  # the name other test modules import


def _purpose() -> str:
    contact = PURPOSES["contact_about_proposal"]
    return in_language(contact.label, contact.label_az)


def _contact_email() -> str:
    field = ATTRIBUTES["contact_email"]
    return in_language(field.label, field.label_az)


@pytest.fixture
def page(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest, lang: str
) -> Iterator[Page]:
    with open_page(
        browser, live_server, request, lang=lang, java_script_enabled=False, accept_downloads=True
    ) as new_page:
        yield new_page


@dataclass
class Cast:
    official_email: str
    citizen_email: str
    citizen_id: int


@pytest.fixture
def cast(server_runtime: Runtime) -> Cast:
    """An agency's convener and a citizen with no data, no request and no consent yet."""
    token = uuid.uuid4().hex[:6]
    # Trust's tables, until `civic migrate` creates them (a no-op once the migration exists).
    import_models().metadata.create_all(server_runtime.db.engine)
    with server_runtime.db.transaction() as session:
        agency = make_agency(session, "Baku Transport Agency")
        official = make_official(
            server_runtime, session, agency, Role.CONVENER, email=f"conv-{token}@gov.example.org"
        )
        citizen = make_account(server_runtime, session, email=f"leyla-{token}@example.org", name="Leyla")
        assert citizen.id is not None
        return Cast(official.email, citizen.email, citizen.id)


def _read(official: Page, citizen_id: int) -> None:
    official.goto("/data/read")
    official.get_by_label(T("E-citizen's account number")).fill(str(citizen_id))
    official.get_by_label(T("Data"), exact=True).select_option(label=_contact_email())
    official.get_by_label(T("Purpose"), exact=True).select_option(label=_purpose())
    official.get_by_label(T("What this read serves (the citizen is shown it)")).fill(SERVED)
    official.get_by_role("button", name=T("Read through the gate")).click()


@both_languages
def test_consent_journey(
    page: Page,
    shot: Shot,
    cast: Cast,
    browser: Browser,
    live_server: LiveServer,
    request: pytest.FixtureRequest,
) -> None:
    # The citizen keeps their contact e-mail in the vault.
    log_in(page, cast.citizen_email)
    page.goto("/me/data")
    page.get_by_label(_contact_email()).fill(EMAIL_IN_VAULT)
    page.get_by_role("button", name=T("Save my data")).click()
    expect(page.get_by_role("status")).to_contain_text(T("Your data is saved."))
    shot("vault-saved")

    with open_page(browser, live_server, request, java_script_enabled=False) as official:
        # The official asks for it.
        log_in(official, cast.official_email)
        official.goto("/data/requests")
        official.get_by_label(T("E-citizen's account number")).fill(str(cast.citizen_id))
        official.get_by_label(T("Purpose"), exact=True).select_option(label=_purpose())
        official.get_by_label(_contact_email()).check()
        official.get_by_label(T("Kept for (days)")).fill("30")
        official.get_by_label(T("Message to the citizen (optional)")).fill("We would like to call you back.")
        official.get_by_role("button", name=T("Send request")).click()
        expect(official.get_by_role("status")).to_contain_text(T("Request sent."))
        shot("official-request-sent", official)

        # The citizen answers it in the consent centre, in plain words.
        page.goto("/me/consents")
        requests = page.get_by_test_id("requests")
        expect(requests).to_contain_text(_purpose())
        expect(requests).to_contain_text("We would like to call you back.")
        shot("request-waiting")
        requests.get_by_role("button", name=T("Give consent")).click()
        expect(page.get_by_role("status")).to_contain_text(T("Consent given."))
        consent = page.get_by_test_id("consents").get_by_role("listitem").first
        expect(consent).to_contain_text(T("Given"))
        shot("consent-given")

        # The receipt downloads and checks offline.
        with page.expect_download() as info:
            consent.get_by_role("link", name=T("Download receipt")).click()
        receipt = json.loads(Path(info.value.path()).read_text())
        assert receipt["services"][0]["purposes"][0]["purpose_id"] == "contact_about_proposal"
        assert check_receipt(receipt) == []

        # The official reads through the gate.
        _read(official, cast.citizen_id)
        expect(official.get_by_test_id("read-result")).to_contain_text(EMAIL_IN_VAULT)
        shot("official-read", official)

        # The citizen sees the read, with its purpose and what it served.
        page.goto("/me/data-access")
        rows = page.get_by_test_id("accesses")
        expect(rows).to_contain_text(SERVED)
        expect(rows).to_contain_text(T("convener"))
        expect(rows).to_contain_text(T("Read"))
        shot("who-used-my-data")

        # One click withdraws the consent; the next read is refused.
        page.goto("/me/consents")
        page.get_by_role("button", name=T("Withdraw consent")).click()
        expect(page.get_by_role("status")).to_contain_text(T("Consent withdrawn. It takes effect at once."))
        expect(page.get_by_test_id("consents")).to_contain_text(T("Withdrawn"))
        shot("consent-withdrawn")
        _read(official, cast.citizen_id)
        expect(official.get_by_test_id("read-refused")).to_have_attribute("data-reason", "revoked")
        expect(official.get_by_test_id("read-result")).to_have_count(0)

    page.goto("/me/data-access")
    expect(page.get_by_test_id("accesses")).to_contain_text(T("consent withdrawn"))
    shot("refusal-listed")
