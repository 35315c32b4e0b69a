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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from civic.identity.models import Account, Role
from civic.participation import actions, consultations
from civic.participation.schemas import CommentInput, ConsultationInput, PhaseChange, ProposalInput
from civic.runtime import Runtime, build_runtime
from civic.settings import Settings
from tests.browser.conftest import LiveServer, open_page
from tests.factories import make_account, make_agency, make_official

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
Shot = Callable[[str], Path]


@pytest.fixture
def page(live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """Like conftest's page, but with JavaScript disabled."""
    with open_page(
        browser, live_server, request, java_script_enabled=False, accept_downloads=True
    ) as new_page:
        yield new_page


# ---- the live server's database ------------------------------------------------------------


def _server_settings(live_server: LiveServer, production_env: dict[str, str]) -> Settings:
    fast = {"argon2_memory_kib": 19_456, "argon2_time_cost": 2, "argon2_parallelism": 1}
    if production_env:  # PostgreSQL + Redis: the same URLs, prefix and queue as the server and worker
        return Settings(
            database_url=production_env["CIVIC_DATABASE_URL"],
            redis_url=production_env["CIVIC_REDIS_URL"],
            redis_prefix=production_env["CIVIC_REDIS_PREFIX"],
            rq_queue=production_env["CIVIC_RQ_QUEUE"],
            secret_key=production_env["CIVIC_SECRET_KEY"],
            relay_in_web=False,
            **fast,
        )
    # Embedded: the server's own relay publishes what we write to its outbox.
    return Settings(var_dir=live_server.workdir / "var", relay_in_web=False, **fast)


@pytest.fixture(scope="module")
def server_runtime(live_server: LiveServer, production_env: dict[str, str]) -> Iterator[Runtime]:
    runtime = build_runtime(_server_settings(live_server, production_env))
    try:
        yield runtime
    finally:
        runtime.close()


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
            consultations.change_phase(session, convener, self.consultation_id, PhaseChange(phase=phase))


@pytest.fixture(scope="module")
def world(server_runtime: Runtime) -> World:
    """A consultation collecting proposals, with Nigar's proposal and Rashad's question on it."""
    token = uuid.uuid4().hex[:6]
    with server_runtime.db.transaction() as session:
        agency = make_agency(session, "Ganja City Executive Power")
        convener = make_official(
            server_runtime, session, agency, Role.CONVENER, email=f"convener-{token}@gov.example.org"
        )
        nigar = make_account(server_runtime, session, email=f"nigar-{token}@example.org", name="Nigar")
        rashad = make_account(server_runtime, session, email=f"rashad-{token}@example.org", name="Rashad")
        title = f"Safer cycling in Ganja {token}"
        consultation = consultations.create_consultation(
            session,
            convener,
            ConsultationInput(
                agency_id=agency.id,
                title=title,
                summary="Where should the city build cycle lanes and bicycle parking first?",
                body="## What we plan\n\nTwenty kilometres of **protected** cycle lanes by 2028.\n\nTell us where.",
                categories=["Cycle lanes", "Parking"],
                schedule={"proposals": {"starts": "2026-03-01", "ends": "2026-04-30"}},
                support_threshold=2,
            ),
        )
        consultations.publish_consultation(session, convener, consultation.id)
        consultations.change_phase(session, convener, consultation.id, PhaseChange(phase="proposals"))
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


def _nav(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("navigation", name="Main")


def _register(page: Page, name: str) -> None:
    page.goto("/register")
    page.get_by_label("E-mail address").fill(f"citizen-{uuid.uuid4().hex[:10]}@example.org")
    page.get_by_label("Public name").fill(name)
    page.get_by_role("group", name="I am joining as").get_by_role(
        "radio", name="A citizen", exact=True
    ).check()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).click()
    expect(page).to_have_url("/account?welcome=1")


def test_citizen_proposes_replies_supports_and_downloads_the_open_data(
    page: Page, shot: Shot, world: World
) -> None:
    name = f"Aysel {uuid.uuid4().hex[:6]}"
    mine = f"Bicycle parking at the station {uuid.uuid4().hex[:6]}"
    _register(page, name)

    # Find the consultation: the list, narrowed to consultations collecting proposals.
    _nav(page).get_by_role("link", name="Consultations", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Consultations")).to_be_visible()
    page.get_by_label("Phase").select_option(label="Collecting proposals")
    page.get_by_role("button", name="Show consultations").click()
    expect(page).to_have_url(re.compile(r"/consultations\?phase=proposals"))
    shot("consultations-collecting-proposals")
    page.get_by_role("link", name=world.consultation_title).click()

    expect(page.get_by_role("heading", level=1, name=world.consultation_title)).to_be_visible()
    expect(page.get_by_test_id("phase-now")).to_have_text(
        "You can submit proposals now, and comment on everyone's proposals."
    )
    expect(page.get_by_role("heading", name="What we plan")).to_be_visible()  # the body's Markdown
    shot("consultation")

    # Submit a proposal: a too-short title is pointed out and the text typed so far is kept.
    page.get_by_role("link", name="Submit a proposal").click()
    expect(page.get_by_role("heading", level=1, name="Submit a proposal")).to_be_visible()
    body = (
        "Covered racks for **200 bicycles** beside the main entrance.\n\n- lit at night\n- watched by cameras"
    )
    page.get_by_label("Title").fill("Bike")
    page.get_by_label("Your proposal").fill(body)
    page.get_by_label("Category").select_option("Parking")
    page.get_by_role("button", name="Submit proposal").click()

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary.get_by_role("link", name="Use at least 5 characters.")).to_have_attribute(
        "href", "#field-title"
    )
    expect(page.get_by_label("Your proposal")).to_have_value(body)
    expect(page.get_by_label("Category")).to_have_value("Parking")
    shot("proposal-form-with-an-error")

    page.get_by_label("Title").fill(mine)
    page.get_by_role("button", name="Submit proposal").click()
    expect(page).to_have_url(re.compile(r"/proposals/\d+\?done=submitted$"))
    expect(page.get_by_role("status")).to_have_text("Your proposal is submitted.")
    expect(page.get_by_role("heading", level=1, name=mine)).to_be_visible()
    expect(page.locator(".prose strong")).to_have_text("200 bicycles")  # Markdown, rendered on the server
    shot("my-proposal")

    # Reply to Rashad's question on Nigar's proposal: the reply form sits in a <details>.
    page.get_by_role("link", name=world.consultation_title).click()
    page.get_by_role("link", name=world.nigar_proposal_title).click()
    expect(page.get_by_role("heading", level=1, name=world.nigar_proposal_title)).to_be_visible()
    question = page.get_by_role("article", name="Comment by Rashad")
    expect(question).to_contain_text(world.rashad_comment)
    question.locator("summary").filter(has_text="Reply").click()
    answer = "Yes, it should continue to the bazaar and the park."
    question.get_by_label("Your reply to Rashad").fill(answer)
    shot("reply-form-open")
    question.get_by_role("button", name="Post reply").click()

    expect(page.get_by_role("status")).to_have_text("Your reply is published.")
    thread = page.locator("li.comment").filter(has=page.get_by_role("article", name="Comment by Rashad"))
    reply = thread.get_by_role("list").get_by_role("article", name=f"Comment by {name}")
    expect(reply).to_contain_text(answer)
    expect(page.get_by_role("heading", name="2 comments")).to_be_visible()
    shot("reply-posted")

    # The convener opens the support phase; Aysel supports Nigar's proposal.
    expect(page.get_by_role("button", name="Support this proposal")).to_have_count(0)
    world.move_to("support")
    page.reload()
    page.get_by_role("button", name="Support this proposal").click()
    expect(page).to_have_url(re.compile(r"\?done=supported#support$"))
    expect(page.get_by_role("status")).to_have_text("You support this proposal. Thank you.")
    expect(page.get_by_test_id("support-count")).to_have_text("Supports: 1 of 2 needed")
    expect(page.get_by_role("button", name="Withdraw my support")).to_be_visible()
    shot("supported")

    # Open data: the CSV holds both proposals with their counts.
    page.get_by_role("link", name=world.consultation_title).click()
    expect(page.get_by_role("listitem").filter(has_text=world.nigar_proposal_title)).to_contain_text(
        "You support it"
    )
    with page.expect_download() as info:
        page.get_by_role("link", name="Proposals as CSV (spreadsheet)").click()
    download = info.value
    assert download.suggested_filename == f"consultation-{world.consultation_id}-proposals.csv"
    csv = Path(download.path()).read_text(encoding="utf-8")
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
