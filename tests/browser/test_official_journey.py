"""The official's journey, in a real browser against a real `civic serve`, with JavaScript off:

a citizen writes a proposal and a comment on it; another citizen reports the comment; a moderator
logs in, opens the queue, opens the case and hides the comment with a reason; a responder answers
the proposal ("accepted", with a text) and finds it counted on their scorecard; the author logs in
and finds, in their notifications and on the proposal's page, the moderator's reason and the answer
signed with the official's name, role and agency. In English and in Azerbaijani (the author has
chosen the journey's language, so her notifications speak it too).

The agency, its officials (who cannot register through the site) and the two citizens' accounts
are written with the domain actions straight into the live server's database; everything anyone
does after that goes through the browser. Notifications are written by the server's own handlers
(the relay in the web process when embedded, `civic worker` in production mode), so the author's
inbox is reloaded until they arrive.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from civic.identity.models import Role
from civic.runtime import Runtime
from tests.browser.conftest import (
    LiveServer,
    Shot,
    log_in,
    log_out,
    nav,
    open_page,
    reload_until,
    seed_consultation,
)
from tests.browser.i18n import T, T_re, both_languages
from tests.factories import make_account, make_agency, make_official

pytestmark = pytest.mark.browser

HIDE_REASON = "Advertising is not allowed in consultations (rule 2)."
ANSWER = "Accepted. The station's new entrance will get covered racks for 200 bicycles in 2027."


@pytest.fixture
def page(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest, lang: str
) -> Iterator[Page]:
    """Like conftest's page, but with JavaScript disabled: every step works without it."""
    with open_page(browser, live_server, request, lang=lang, java_script_enabled=False) as new_page:
        yield new_page


@dataclass
class Cast:
    consultation_id: int
    consultation_title: str
    agency_names: tuple[str, str]  # English and Azerbaijani
    author: str  # e-mail addresses, to log in with
    reporter: str
    moderator: str
    responder: str


@pytest.fixture
def cast(server_runtime: Runtime, lang: str) -> Cast:
    """A consultation collecting proposals; its agency's moderator and responder; two citizens.

    One agency per test, so each run's moderation queue holds only its own case.
    """
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
        author = make_account(server_runtime, session, email=f"nigar-{token}@example.org", name="Nigar")
        author.language = lang  # as if she had chosen it with the switcher: her notifications speak it
        make_account(server_runtime, session, email=f"rashad-{token}@example.org", name="Rashad")
        title = f"Cycling in Ganja {token}"
        consultation = seed_consultation(
            session,
            convener,
            agency.id,
            title,
            summary="Where should the city build bicycle parking first?",
            body="The city plans bicycle parking near stations and markets.",
            categories=["Parking"],
            support_threshold=2,
        )
        assert consultation.id is not None
        return Cast(
            consultation_id=consultation.id,
            consultation_title=title,
            agency_names=(agency.name, agency.name_az),
            author=f"nigar-{token}@example.org",
            reporter=f"rashad-{token}@example.org",
            moderator=f"moderator-{token}@gov.example.org",
            responder=f"responder-{token}@gov.example.org",
        )


def _agency(cast: Cast) -> str:
    """Either of the agency's names, as a pattern: answers keep the name they were signed with."""
    return "(?:" + "|".join(re.escape(name) for name in cast.agency_names) + ")"


@both_languages
def test_moderator_hides_a_reported_comment_responder_answers_and_the_author_sees_both(
    page: Page, shot: Shot, cast: Cast
) -> None:
    title = f"Covered bicycle racks at the station {uuid.uuid4().hex[:6]}"
    spam = "Cheap bicycles for sale, call 055 000 00 00 today!"

    # 1. Nigar writes a proposal, then (carelessly) an advert as a comment on it.
    log_in(page, cast.author)
    page.goto(f"/consultations/{cast.consultation_id}")
    page.get_by_role("link", name=T("Submit a proposal")).click()
    page.get_by_label(T("Title"), exact=True).fill(title)
    page.get_by_label(T("Your proposal"), exact=True).fill(
        "Covered racks beside the main entrance, lit at night."
    )
    page.get_by_role("button", name=T("Submit proposal")).click()
    expect(page).to_have_url(re.compile(r"/proposals/\d+\?done=submitted$"))
    proposal_url = page.url.split("?")[0]
    page.get_by_label(T("Your comment"), exact=True).fill(spam)
    page.get_by_role("button", name=T("Post comment")).click()
    expect(page.get_by_role("status")).to_have_text(T("Your comment is published."))
    shot("author-proposal-and-comment")
    log_out(page)

    # 2. Rashad reports the comment as spam.
    log_in(page, cast.reporter)
    page.goto(proposal_url)
    nigar_comment = page.get_by_role("article", name=T("Comment by %(name)s", name="Nigar"))
    report_link = f"{T('Report')} {T('the comment by %(name)s', name='Nigar')}"
    nigar_comment.get_by_role("link", name=report_link).click()
    expect(page.get_by_role("heading", level=1, name=T("Report a comment"))).to_be_visible()
    page.get_by_role("button", name=T("Send report")).click()  # no reason chosen: pointed out
    expect(
        page.get_by_role("alert").get_by_role("link", name=T("This field is required."))
    ).to_have_attribute("href", "#field-reason")
    page.get_by_role("group", name=T("What is wrong with it?")).get_by_role("radio", name=T("Spam")).check()
    page.get_by_label(T("Anything the moderators should know (optional)")).fill("A phone-number advert.")
    shot("report-form")
    page.get_by_role("button", name=T("Send report")).click()
    expect(page.get_by_role("status")).to_have_text(T("Thank you. Your report is with the moderators."))
    log_out(page)

    # 3. The moderator opens the queue, then the case, and hides the comment with a reason.
    log_in(page, cast.moderator)
    nav(page).get_by_role("link", name=T("Moderation"), exact=True).click()
    expect(page.get_by_role("heading", level=1, name=T("Moderation queue"))).to_be_visible()
    page.get_by_label(T("Kind"), exact=True).select_option(label=T("Comment"))
    page.get_by_role("button", name=T("Show cases")).click()
    expect(page).to_have_url(re.compile(r"/moderation\?.*kind=comment"))
    shot("moderation-queue")
    page.get_by_role("link", name=spam).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(spam)
    reports = page.get_by_test_id("case-reports")
    expect(reports).to_contain_text(T("Spam"))
    expect(reports).to_contain_text("A phone-number advert.")
    expect(page.locator("main")).not_to_contain_text("Rashad")  # reporters are never named
    decision = page.get_by_role("group", name=T("Decision"))
    decision.get_by_role("radio", name=T("Hide it")).check()
    page.get_by_role("button", name=T("Record decision")).click()  # no reason yet: refused
    expect(page.get_by_role("alert")).to_contain_text(T("There is a problem"))
    page.get_by_label(T("Reason"), exact=True).fill(HIDE_REASON)
    shot("case-with-decision")
    page.get_by_role("button", name=T("Record decision")).click()
    expect(page.get_by_role("status")).to_have_text(
        T("Your decision is recorded. The author is told your reason.")
    )
    expect(page.get_by_test_id("case-decision")).to_contain_text(HIDE_REASON)
    shot("case-decided")
    log_out(page)

    # 4. The responder answers the proposal: accepted, with a text; their scorecard counts it.
    log_in(page, cast.responder)
    page.goto(proposal_url)
    expect(page.get_by_text(spam)).to_have_count(0)  # hidden from everyone but its author
    page.get_by_role("link", name=f"{T('Answer')} {T('this proposal')}").click()
    expect(page.get_by_role("heading", level=1, name=T("Answer the proposal"))).to_be_visible()
    page.get_by_role("group", name=T("Status")).get_by_role("radio", name=T("Accepted"), exact=True).check()
    page.get_by_label(T("Answer"), exact=True).fill(ANSWER)
    shot("answer-form")
    page.get_by_role("button", name=T("Publish answer")).click()
    expect(page).to_have_url(re.compile(r"\?done=answered#answers$"))
    expect(page.get_by_role("status")).to_have_text(T("Your answer is published."))
    page.goto("/console/scorecard")
    expect(page.get_by_role("heading", level=1, name=T("My scorecard"))).to_be_visible()
    own = page.get_by_test_id("own-scorecard")
    expect(own.locator("div").filter(has_text=T("Proposals answered"))).to_contain_text("1")
    shot("responder-scorecard")
    log_out(page)

    # 5. Nigar finds both in her notifications and on her proposal's page.
    log_in(page, cast.author)
    nav(page).get_by_role("link", name=T("Notifications"), exact=True).click()
    inbox = page.get_by_test_id("notifications")
    reload_until(page, inbox.get_by_text(HIDE_REASON))
    reload_until(
        page,
        inbox.get_by_text(
            T_re('Your proposal "%(title)s" was answered: %(status)s', title=title, status=T("accepted"))
        ),
    )
    expect(inbox).to_contain_text(ANSWER)
    shot("author-notifications")

    page.goto(proposal_url)
    expect(page.get_by_test_id("own-hidden-comments")).to_contain_text(HIDE_REASON)
    answers = page.locator("#answers")
    expect(answers.get_by_role("heading", name=T("Official answer"))).to_be_visible()
    expect(answers).to_contain_text(ANSWER)
    expect(answers.get_by_test_id("answer-signature")).to_have_text(
        re.compile(rf"^— Rena Responder, {re.escape(T('responder'))}, {_agency(cast)}$")
    )
    expect(page.locator(".item-tags").get_by_test_id("answer-status")).to_contain_text(T("Accepted"))
    shot("author-sees-reason-and-answer")

    # The act is on the public transparency page too, with the agency's scorecard.
    nav(page).get_by_role("link", name=T("Transparency"), exact=True).click()
    expect(page.get_by_test_id("action-log")).to_contain_text("proposal.answer")
    expect(page.get_by_test_id("scorecards")).to_contain_text(re.compile(_agency(cast)))
    shot("transparency")
