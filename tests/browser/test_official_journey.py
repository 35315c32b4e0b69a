"""The official's journey, in a real browser against a real `civic serve`, with JavaScript off:

a citizen writes a proposal and a comment on it; another citizen reports the comment; a moderator
logs in, opens the queue, opens the case and hides the comment with a reason; a responder answers
the proposal ("accepted", with a text); the author logs in and finds, in their notifications and on
the proposal's page, the moderator's reason and the answer signed with the official's name, role
and agency.

The agency, its officials (who cannot register through the site) and the two citizens' accounts
are written with the domain actions straight into the live server's database; everything anyone
does after that goes through the browser. Notifications are written by the server's own handlers
(the relay in the web process when embedded, `civic worker` in production mode), so the author's
inbox is reloaded until they arrive.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from civic.identity.models import Role
from civic.participation import consultations
from civic.participation.schemas import ConsultationInput, PhaseChange
from civic.runtime import Runtime, build_runtime
from civic.settings import Settings
from tests.browser.conftest import LiveServer, open_page
from tests.factories import make_account, make_agency, make_official

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
Shot = Callable[[str], Path]
HIDE_REASON = "Advertising is not allowed in consultations (rule 2)."
ANSWER = "Accepted. The station's new entrance will get covered racks for 200 bicycles in 2027."


@pytest.fixture
def page(live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """Like conftest's page, but with JavaScript disabled: every step works without it."""
    with open_page(browser, live_server, request, java_script_enabled=False) as new_page:
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
            relay_in_web=False,
            **fast,
        )
    return Settings(var_dir=live_server.workdir / "var", relay_in_web=False, **fast)


@pytest.fixture(scope="module")
def server_runtime(live_server: LiveServer, production_env: dict[str, str]) -> Iterator[Runtime]:
    runtime = build_runtime(_server_settings(live_server, production_env))
    try:
        yield runtime
    finally:
        runtime.close()


@dataclass
class Cast:
    consultation_id: int
    consultation_title: str
    agency_name: str
    author: str  # e-mail addresses, to log in with
    reporter: str
    moderator: str
    responder: str


@pytest.fixture(scope="module")
def cast(server_runtime: Runtime) -> Cast:
    """A consultation collecting proposals; its agency's moderator and responder; two citizens."""
    token = uuid.uuid4().hex[:6]
    with server_runtime.db.transaction() as session:
        agency = make_agency(session, "Ganja City Executive Power")
        convener = make_official(
            server_runtime, session, agency, Role.CONVENER, email=f"convener-{token}@gov.example.org"
        )
        make_official(
            server_runtime,
            session,
            agency,
            Role.MODERATOR,
            email=f"moderator-{token}@gov.example.org",
            name="Mirza Moderator",
        )
        make_official(
            server_runtime,
            session,
            agency,
            Role.RESPONDER,
            email=f"responder-{token}@gov.example.org",
            name="Rena Responder",
        )
        make_account(server_runtime, session, email=f"nigar-{token}@example.org", name="Nigar")
        make_account(server_runtime, session, email=f"rashad-{token}@example.org", name="Rashad")
        title = f"Cycling in Ganja {token}"
        consultation = consultations.create_consultation(
            session,
            convener,
            ConsultationInput(
                agency_id=agency.id,
                title=title,
                summary="Where should the city build bicycle parking first?",
                body="The city plans bicycle parking near stations and markets.",
                categories=["Parking"],
                support_threshold=2,
            ),
        )
        consultations.publish_consultation(session, convener, consultation.id)
        consultations.change_phase(session, convener, consultation.id, PhaseChange(phase="proposals"))
        assert consultation.id is not None
        return Cast(
            consultation_id=consultation.id,
            consultation_title=title,
            agency_name=agency.name,
            author=f"nigar-{token}@example.org",
            reporter=f"rashad-{token}@example.org",
            moderator=f"moderator-{token}@gov.example.org",
            responder=f"responder-{token}@gov.example.org",
        )


def _nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def _log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(_nav(page).get_by_role("button", name="Log out", exact=True)).to_be_visible()


def _log_out(page: Page) -> None:
    _nav(page).get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url("/?logged_out=1")


def _reload_until(page: Page, locator: Locator, timeout: float = 20.0) -> None:
    """Reload until `locator` is on the page: what handlers write arrives a moment after the act."""
    deadline = time.monotonic() + timeout
    while locator.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.3)
        page.reload()
    expect(locator.first).to_be_visible()


def test_moderator_hides_a_reported_comment_responder_answers_and_the_author_sees_both(
    page: Page, shot: Shot, cast: Cast
) -> None:
    title = f"Covered bicycle racks at the station {uuid.uuid4().hex[:6]}"
    spam = "Cheap bicycles for sale, call 055 000 00 00 today!"

    # 1. Nigar writes a proposal, then (carelessly) an advert as a comment on it.
    _log_in(page, cast.author)
    page.goto(f"/consultations/{cast.consultation_id}")
    page.get_by_role("link", name="Submit a proposal").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your proposal").fill("Covered racks beside the main entrance, lit at night.")
    page.get_by_role("button", name="Submit proposal").click()
    expect(page).to_have_url(re.compile(r"/proposals/\d+\?done=submitted$"))
    proposal_url = page.url.split("?")[0]
    page.get_by_label("Your comment").fill(spam)
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("status")).to_have_text("Your comment is published.")
    shot("author-proposal-and-comment")
    _log_out(page)

    # 2. Rashad reports the comment as spam.
    _log_in(page, cast.reporter)
    page.goto(proposal_url)
    nigar_comment = page.get_by_role("article", name="Comment by Nigar")
    nigar_comment.get_by_role("link", name="Report the comment by Nigar").click()
    expect(page.get_by_role("heading", level=1, name="Report a comment")).to_be_visible()
    page.get_by_role("button", name="Send report").click()  # no reason chosen: pointed out
    expect(page.get_by_role("alert").get_by_role("link", name="This field is required.")).to_have_attribute(
        "href", "#field-reason"
    )
    page.get_by_role("group", name="What is wrong with it?").get_by_role("radio", name="Spam").check()
    page.get_by_label("Anything the moderators should know (optional)").fill("A phone-number advert.")
    shot("report-form")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("status")).to_have_text("Thank you. Your report is with the moderators.")
    _log_out(page)

    # 3. The moderator opens the queue, then the case, and hides the comment with a reason.
    _log_in(page, cast.moderator)
    _nav(page).get_by_role("link", name="Moderation", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Moderation queue")).to_be_visible()
    page.get_by_label("Kind").select_option(label="Comment")
    page.get_by_role("button", name="Show cases").click()
    expect(page).to_have_url(re.compile(r"/moderation\?.*kind=comment"))
    shot("moderation-queue")
    page.get_by_role("link", name=spam).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(spam)
    reports = page.get_by_test_id("case-reports")
    expect(reports).to_contain_text("Spam")
    expect(reports).to_contain_text("A phone-number advert.")
    expect(page.locator("main")).not_to_contain_text("Rashad")  # reporters are never named
    decision = page.get_by_role("group", name="Decision")
    decision.get_by_role("radio", name="Hide it").check()
    page.get_by_role("button", name="Record decision").click()  # no reason yet: refused
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    page.get_by_label("Reason").fill(HIDE_REASON)
    shot("case-with-decision")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your decision is recorded. The author is told your reason."
    )
    expect(page.get_by_test_id("case-decision")).to_contain_text(HIDE_REASON)
    shot("case-decided")
    _log_out(page)

    # 4. The responder answers the proposal: accepted, with a text.
    _log_in(page, cast.responder)
    page.goto(proposal_url)
    expect(page.get_by_text(spam)).to_have_count(0)  # hidden from everyone but its author
    page.get_by_role("link", name="Answer this proposal").click()
    expect(page.get_by_role("heading", level=1, name="Answer the proposal")).to_be_visible()
    page.get_by_role("group", name="Status").get_by_role("radio", name="Accepted", exact=True).check()
    page.get_by_label("Answer", exact=True).fill(ANSWER)
    shot("answer-form")
    page.get_by_role("button", name="Publish answer").click()
    expect(page).to_have_url(re.compile(r"\?done=answered#answers$"))
    expect(page.get_by_role("status")).to_have_text("Your answer is published.")
    _log_out(page)

    # 5. Nigar finds both in her notifications and on her proposal's page.
    _log_in(page, cast.author)
    _nav(page).get_by_role("link", name="Notifications", exact=True).click()
    inbox = page.get_by_test_id("notifications")
    _reload_until(page, page.get_by_test_id("notifications").get_by_text(HIDE_REASON))
    _reload_until(page, inbox.get_by_text(re.compile(r"was answered: accepted")))
    expect(inbox).to_contain_text(ANSWER)
    shot("author-notifications")

    page.goto(proposal_url)
    expect(page.get_by_test_id("own-hidden-comments")).to_contain_text(HIDE_REASON)
    answers = page.locator("#answers")
    expect(answers.get_by_role("heading", name="Official answer")).to_be_visible()
    expect(answers).to_contain_text(ANSWER)
    expect(answers.get_by_test_id("answer-signature")).to_have_text(
        f"— Rena Responder, responder, {cast.agency_name}"
    )
    expect(page.locator(".item-tags").get_by_test_id("answer-status")).to_contain_text("Accepted")
    shot("author-sees-reason-and-answer")

    # The act is on the public transparency page too.
    _nav(page).get_by_role("link", name="Transparency", exact=True).click()
    expect(page.get_by_test_id("action-log")).to_contain_text("proposal.answer")
    expect(page.get_by_test_id("scorecards")).to_contain_text(cast.agency_name)
    shot("transparency")
