"""A citizen's whole journey with JavaScript switched off, through forms and links only: register,
open a consultation from the list, submit a proposal, comment on it, support another citizen's
proposal, find the points on their profile, then give a consent in the consent centre and withdraw
it. After every form post the result is on the page the server answers with — nothing waits for
a script. In English and in Azerbaijani.

The agency, its convener and the two consultations (one taking proposals, one in its support phase
with Nigar's proposal) are written with the domain actions straight into the live server's
database; everything the citizen does goes through the browser.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from civic.identity.models import Role
from civic.participation import actions
from civic.participation.schemas import ProposalInput
from civic.runtime import Runtime
from civic.trust.purposes import ATTRIBUTES, PURPOSES
from civic.wiring import import_models
from tests.browser.conftest import LiveServer, Shot, move_to, nav, open_page, register, seed_consultation
from tests.browser.i18n import NT, T, both_languages, in_language
from tests.factories import make_account, make_agency, make_official

pytestmark = pytest.mark.browser

HANDLED_WITHIN = 20.0  # seconds for the relay or worker to book the points
# proposal submitted 3 + comment posted 1 + proposal supported 1 (civic/engagement/rules.toml)
EXPECTED_POINTS = 5


@pytest.fixture
def page(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest, lang: str
) -> Iterator[Page]:
    """A browser with JavaScript disabled."""
    with open_page(browser, live_server, request, lang=lang, java_script_enabled=False) as new_page:
        yield new_page


@dataclass
class World:
    agency_id: int
    collecting_title: str  # a consultation taking proposals
    supporting_title: str  # one in its support phase, with Nigar's proposal on it
    nigar_title: str


@pytest.fixture
def world(server_runtime: Runtime) -> World:
    token = uuid.uuid4().hex[:6]
    import_models().metadata.create_all(server_runtime.db.engine)  # trust's tables, as the consent test
    with server_runtime.db.transaction() as session:
        agency = make_agency(session, "Lankaran City Executive Power")
        convener = make_official(
            server_runtime, session, agency, Role.CONVENER, email=f"convener-{token}@gov.example.org"
        )
        nigar = make_account(server_runtime, session, email=f"nigar-{token}@example.org", name="Nigar")
        made = {}
        for key, title in (
            ("collecting", f"Lankaran parks {token}"),
            ("supporting", f"Lankaran market {token}"),
        ):
            made[key] = seed_consultation(session, convener, agency.id, title, support_threshold=3)
        nigar_title = f"A roof over the market stalls {token}"
        actions.submit_proposal(
            session,
            nigar,
            made["supporting"].id,
            ProposalInput(
                title=nigar_title, body="Shade and rain cover for the sellers and their customers."
            ),
        )
        move_to(session, convener, made["supporting"].id, "support")
        assert agency.id is not None
        return World(agency.id, made["collecting"].title, made["supporting"].title, nigar_title)


def _open_consultation(page: Page, title: str) -> None:
    nav(page).get_by_role("link", name=T("Consultations"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=T("Consultations"))).to_be_visible()
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def _points_until(page: Page, expected: int) -> None:
    """Reload the profile until the handler has booked `expected` points (it runs after the request)."""
    deadline = time.monotonic() + HANDLED_WITHIN
    points = page.get_by_test_id("points")
    while points.inner_text().strip() != str(expected) and time.monotonic() < deadline:
        time.sleep(0.25)
        page.reload()
    expect(points).to_have_text(str(expected))


@both_languages
def test_a_citizen_takes_part_and_withdraws_a_consent_with_javascript_off(
    page: Page, shot: Shot, world: World
) -> None:
    name = f"Leyla {uuid.uuid4().hex[:6]}"
    mine = f"Shaded benches by the lake {uuid.uuid4().hex[:6]}"

    # Register: the form posts, the answer is the account page with a welcome.
    register(page, name)
    expect(page.get_by_role("status")).to_have_text(T("Welcome, %(name)s. Your account is ready.", name=name))
    shot("registered")

    # Open the consultation from the list.
    _open_consultation(page, world.collecting_title)
    shot("consultation")

    # Propose.
    page.get_by_role("link", name=T("Submit a proposal")).click()
    page.get_by_label(T("Title"), exact=True).fill(mine)
    page.get_by_label(T("Your proposal"), exact=True).fill(
        "Benches in the shade along the lake path, every 200 m."
    )
    page.get_by_role("button", name=T("Submit proposal")).click()
    expect(page).to_have_url(re.compile(r"/proposals/\d+\?done=submitted$"))
    expect(page.get_by_role("status")).to_have_text(T("Your proposal is submitted."))
    expect(page.get_by_role("heading", level=1, name=mine)).to_be_visible()
    shot("proposed")

    # Comment on it.
    comment = "They should face the water, please."
    page.get_by_label(T("Your comment"), exact=True).fill(comment)
    page.get_by_role("button", name=T("Post comment")).click()
    expect(page.get_by_role("status")).to_have_text(T("Your comment is published."))
    expect(page.get_by_role("article", name=T("Comment by %(name)s", name=name))).to_contain_text(comment)
    expect(page.get_by_role("heading", name=NT("%(num)s comment", "%(num)s comments", 1))).to_be_visible()
    shot("commented")

    # Support another citizen's proposal in a consultation collecting supports.
    _open_consultation(page, world.supporting_title)
    page.get_by_role("link", name=world.nigar_title).click()
    page.get_by_role("button", name=T("Support this proposal")).click()
    expect(page).to_have_url(re.compile(r"\?done=supported#support$"))
    expect(page.get_by_role("status")).to_have_text(T("You support this proposal. Thank you."))
    expect(page.get_by_test_id("support-count")).to_have_text(
        T("Supports: %(count)s of %(threshold)s needed", count=1, threshold=3)
    )
    expect(page.get_by_role("button", name=T("Withdraw my support"))).to_be_visible()
    shot("supported")

    # The points, with their reasons, on the profile.
    nav(page).get_by_role("link", name=T("My profile"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=T("My profile"))).to_be_visible()
    _points_until(page, EXPECTED_POINTS)
    history = page.get_by_test_id("history")
    expect(history).to_contain_text(T("You submitted a proposal"))
    expect(history).to_contain_text(T("You took part in a discussion"))
    expect(history).to_contain_text(T("You supported a proposal"))
    shot("profile-with-points")

    # Give a consent without being asked, then withdraw it with one click.
    nav(page).get_by_role("link", name=T("My data and consents"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=T("Consent centre"))).to_be_visible()
    page.locator("summary").filter(has_text=T("Give a consent without being asked")).click()
    contact = PURPOSES["contact_about_proposal"]
    email = ATTRIBUTES["contact_email"]
    page.get_by_label(T("Agency"), exact=True).select_option(str(world.agency_id))
    page.get_by_label(T("Purpose"), exact=True).select_option(
        label=in_language(contact.label, contact.label_az)
    )
    page.get_by_label(in_language(email.label, email.label_az), exact=True).check()
    page.get_by_label(T("For how many days"), exact=True).fill("30")
    shot("consent-form")
    page.get_by_role("button", name=T("Give consent"), exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(T("Consent given."))
    consent = (
        page.get_by_test_id("consents")
        .get_by_role("listitem")
        .filter(has_text=in_language(contact.label, contact.label_az))
    )
    expect(consent.locator(".tag")).to_have_text(T("Given"))
    shot("consent-given")

    consent.get_by_role("button", name=T("Withdraw consent")).click()
    expect(page.get_by_role("status")).to_contain_text(T("Consent withdrawn. It takes effect at once."))
    expect(consent.locator(".tag")).to_have_text(T("Withdrawn"))
    expect(consent.get_by_role("button", name=T("Withdraw consent"))).to_have_count(0)
    shot("consent-withdrawn")
