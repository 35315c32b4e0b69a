"""A citizen takes part in a consultation, in a real browser with JavaScript switched off: finds
the consultation, submits a proposal (after a mistake the form points out), replies to a comment,
supports another citizen's proposal and downloads the open data.

JavaScript is off for every test here (the `page` fixture below), so each step proves the issue's
promise that every page works without it: links, GET forms for filters, POST forms for actions,
<details> for the reply forms.

The agency, its convener and the consultation are written with the domain actions straight into
the live server's database (an official cannot register through the site); everything the
citizen does goes through the browser.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from civic.identity.models import Account, Role
from civic.participation import actions
from civic.participation.schemas import CommentInput, ProposalInput
from civic.runtime import Runtime
from tests.browser.conftest import (
    LiveServer,
    Shot,
    move_to,
    nav,
    open_page,
    register,
    seed_consultation,
    server_settings,
)
from tests.browser.i18n import NT, T, both_languages
from tests.factories import make_account, make_agency, make_official

pytestmark = pytest.mark.browser

_server_settings = server_settings  # the name other test modules import


@pytest.fixture
def page(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest, lang: str
) -> Iterator[Page]:
    """Like conftest's page, but with JavaScript disabled."""
    with open_page(
        browser, live_server, request, lang=lang, java_script_enabled=False, accept_downloads=True
    ) as new_page:
        yield new_page


# ---- the live server's database ------------------------------------------------------------


@dataclass
class World:
    runtime: Runtime
    convener_id: int
    consultation_id: int
    consultation_title: str
    nigar_proposal_title: str
    rashad_comment: str

    def move_to(self, phase: str) -> None:
        """The convener moves the consultation on, as they would from their console."""
        with self.runtime.db.transaction() as session:
            convener = session.get(Account, self.convener_id)
            move_to(session, convener, self.consultation_id, phase)


@pytest.fixture
def world(server_runtime: Runtime) -> World:
    """A consultation collecting proposals, with Nigar's proposal and Rashad's question on it.

    One per test: the journey moves the consultation on to its support phase.
    """
    token = uuid.uuid4().hex[:6]
    with server_runtime.db.transaction() as session:
        agency = make_agency(session, "Ganja City Executive Power")
        convener = make_official(
            server_runtime, session, agency, Role.CONVENER, email=f"convener-{token}@gov.example.org"
        )
        nigar = make_account(server_runtime, session, email=f"nigar-{token}@example.org", name="Nigar")
        rashad = make_account(server_runtime, session, email=f"rashad-{token}@example.org", name="Rashad")
        title = f"Safer cycling in Ganja {token}"
        consultation = seed_consultation(
            session,
            convener,
            agency.id,
            title,
            summary="Where should the city build cycle lanes and bicycle parking first?",
            body="## What we plan\n\nTwenty kilometres of **protected** cycle lanes by 2028.\n\nTell us where.",
            categories=["Cycle lanes", "Parking"],
            schedule={"proposals": {"starts": "2026-03-01", "ends": "2026-04-30"}},
            support_threshold=2,
        )
        nigar_title = f"Protected lane on Nizami street {token}"
        proposal = actions.submit_proposal(
            session,
            nigar,
            consultation.id,
            ProposalInput(
                title=nigar_title,
                body="Separate the lane from traffic with kerbs, all the way to the station.",
                category="Cycle lanes",
            ),
        )
        question = "Would the lane continue past the bazaar?"
        actions.post_comment(session, rashad, proposal.id, CommentInput(body=question))
        assert convener.id is not None and consultation.id is not None
        return World(server_runtime, convener.id, consultation.id, title, nigar_title, question)


# ---- the journey ---------------------------------------------------------------------------


@both_languages
def test_citizen_proposes_replies_supports_and_downloads_the_open_data(
    page: Page, shot: Shot, world: World
) -> None:
    name = f"Aysel {uuid.uuid4().hex[:6]}"
    mine = f"Bicycle parking at the station {uuid.uuid4().hex[:6]}"
    register(page, name)

    # Find the consultation: the list, narrowed to consultations collecting proposals.
    nav(page).get_by_role("link", name=T("Consultations"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=T("Consultations"))).to_be_visible()
    page.get_by_label(T("Phase"), exact=True).select_option(label=T("Collecting proposals"))
    page.get_by_role("button", name=T("Show consultations")).click()
    expect(page).to_have_url(re.compile(r"/consultations\?phase=proposals"))
    shot("consultations-collecting-proposals")
    page.get_by_role("link", name=world.consultation_title).click()

    expect(page.get_by_role("heading", level=1, name=world.consultation_title)).to_be_visible()
    expect(page.get_by_test_id("phase-now")).to_have_text(
        T("You can submit proposals now, and comment on everyone's proposals.")
    )
    expect(page.get_by_role("heading", name="What we plan")).to_be_visible()  # the body's Markdown
    shot("consultation")

    # Submit a proposal: a too-short title is pointed out and the text typed so far is kept.
    page.get_by_role("link", name=T("Submit a proposal")).click()
    expect(page.get_by_role("heading", level=1, name=T("Submit a proposal"))).to_be_visible()
    body = (
        "Covered racks for **200 bicycles** beside the main entrance.\n\n- lit at night\n- watched by cameras"
    )
    page.get_by_label(T("Title"), exact=True).fill("Bike")
    page.get_by_label(T("Your proposal"), exact=True).fill(body)
    page.get_by_label(T("Category"), exact=True).select_option("Parking")
    page.get_by_role("button", name=T("Submit proposal")).click()

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name=T("There is a problem"))).to_be_visible()
    expect(summary.get_by_role("link", name=T("Use at least %(num)s characters.", num=5))).to_have_attribute(
        "href", "#field-title"
    )
    expect(page.get_by_label(T("Your proposal"), exact=True)).to_have_value(body)
    expect(page.get_by_label(T("Category"), exact=True)).to_have_value("Parking")
    shot("proposal-form-with-an-error")

    page.get_by_label(T("Title"), exact=True).fill(mine)
    page.get_by_role("button", name=T("Submit proposal")).click()
    expect(page).to_have_url(re.compile(r"/proposals/\d+\?done=submitted$"))
    expect(page.get_by_role("status")).to_have_text(T("Your proposal is submitted."))
    expect(page.get_by_role("heading", level=1, name=mine)).to_be_visible()
    expect(page.locator(".prose strong")).to_have_text("200 bicycles")  # Markdown, rendered on the server
    shot("my-proposal")

    # Reply to Rashad's question on Nigar's proposal: the reply form sits in a <details>.
    page.get_by_role("link", name=world.consultation_title).click()
    page.get_by_role("link", name=world.nigar_proposal_title).click()
    expect(page.get_by_role("heading", level=1, name=world.nigar_proposal_title)).to_be_visible()
    question = page.get_by_role("article", name=T("Comment by %(name)s", name="Rashad"))
    expect(question).to_contain_text(world.rashad_comment)
    question.locator("summary").filter(has_text=T("Reply")).click()
    answer = "Yes, it should continue to the bazaar and the park."
    question.get_by_label(T("Your reply to %(name)s", name="Rashad")).fill(answer)
    shot("reply-form-open")
    question.get_by_role("button", name=T("Post reply")).click()

    expect(page.get_by_role("status")).to_have_text(T("Your reply is published."))
    thread = page.locator("li.comment").filter(
        has=page.get_by_role("article", name=T("Comment by %(name)s", name="Rashad"))
    )
    reply = thread.get_by_role("list").get_by_role("article", name=T("Comment by %(name)s", name=name))
    expect(reply).to_contain_text(answer)
    expect(page.get_by_role("heading", name=NT("%(num)s comment", "%(num)s comments", 2))).to_be_visible()
    shot("reply-posted")

    # The convener opens the support phase; Aysel supports Nigar's proposal.
    expect(page.get_by_role("button", name=T("Support this proposal"))).to_have_count(0)
    world.move_to("support")
    page.reload()
    page.get_by_role("button", name=T("Support this proposal")).click()
    expect(page).to_have_url(re.compile(r"\?done=supported#support$"))
    expect(page.get_by_role("status")).to_have_text(T("You support this proposal. Thank you."))
    expect(page.get_by_test_id("support-count")).to_have_text(
        T("Supports: %(count)s of %(threshold)s needed", count=1, threshold=2)
    )
    expect(page.get_by_role("button", name=T("Withdraw my support"))).to_be_visible()
    shot("supported")

    # Open data: the CSV holds both proposals with their counts.
    page.get_by_role("link", name=world.consultation_title).click()
    expect(page.get_by_role("listitem").filter(has_text=world.nigar_proposal_title)).to_contain_text(
        T("You support it")
    )
    with page.expect_download() as info:
        page.get_by_role("link", name=T("Proposals as CSV (spreadsheet)")).click()
    download = info.value
    assert download.suggested_filename == f"consultation-{world.consultation_id}-proposals.csv"
    csv = Path(download.path()).read_text(encoding="utf-8")
    # Open data is the same in every language: codes, not words.
    assert csv.splitlines()[0].startswith("id,title,author,")
    assert mine in csv and name in csv
    nigar_row = next(line for line in csv.splitlines() if world.nigar_proposal_title in line)
    assert ",Nigar,Cycle lanes,,published,1,2,False," in nigar_row
    shot("consultation-with-open-data")


def test_pages_fit_a_360_pixel_wide_phone(page: Page, shot: Shot, world: World) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/consultations", f"/consultations/{world.consultation_id}"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        shot(path.strip("/").replace("/", "-"))
        assert page.locator("html").evaluate("html => html.scrollWidth") <= 360, path
    page.get_by_role("link", name=world.nigar_proposal_title).click()
    expect(page.get_by_role("heading", level=1, name=world.nigar_proposal_title)).to_be_visible()
    shot("proposal")
    assert page.locator("html").evaluate("html => html.scrollWidth") <= 360
