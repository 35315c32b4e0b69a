"""Live pages in real browsers against a real `civic serve` (and `civic worker` in production mode):

1. The moderator's journey: a citizen, a moderator and an anonymous visitor, side by side (three
   browser contexts). The moderator watches the agency's live dashboard, the visitor the
   consultation's page. The citizen supports a proposal with the page's ordinary form; without any
   reload, the moderator's "Supports today" counter and feed and the visitor's support count change.
2. An author has a page open; a responder answers her proposal; a toast says so and the nav's
   unread count shows 1, without a reload.

Both in English and in Azerbaijani: what arrives live is in the reader's language too.

The cast is written with the domain actions into the live server's database (officials cannot
register through the site); everything else goes through the browsers and the server's own event
path (the relay in the web process when embedded; Redis and the worker in production mode).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from civic.identity.models import Account, Role
from civic.leadership.answers import answer_proposal
from civic.leadership.schemas import AnswerInput
from civic.participation import actions
from civic.participation.schemas import ProposalInput
from civic.runtime import Runtime
from tests.browser.conftest import LiveServer, Shot, log_in, move_to, open_page, seed_consultation
from tests.browser.i18n import T, both_languages
from tests.factories import make_account, make_agency, make_official

pytestmark = pytest.mark.browser

LIVE_MS = 20_000  # an event's way: outbox, relay (or worker and Redis), hub, socket, a refetch


@dataclass
class Cast:
    agency_id: int
    consultation_id: int
    proposal_id: int
    proposal_title: str
    author_id: int
    author: str  # e-mail addresses, to log in with
    supporter: str
    moderator: str
    responder_id: int


@pytest.fixture
def cast(server_runtime: Runtime, lang: str) -> Cast:
    """A fresh agency with a consultation in its support phase and one proposal by the author."""
    token = uuid.uuid4().hex[:6]
    with server_runtime.db.transaction() as session:
        agency = make_agency(session, f"Sumgait Executive Power {token}")
        convener = make_official(
            server_runtime, session, agency, Role.CONVENER, email=f"conv-{token}@gov.example.org"
        )
        make_official(server_runtime, session, agency, Role.MODERATOR, email=f"mod-{token}@gov.example.org")
        responder = make_official(
            server_runtime,
            session,
            agency,
            Role.RESPONDER,
            email=f"resp-{token}@gov.example.org",
            name="Rena Responder",
        )
        author = make_account(server_runtime, session, email=f"aynur-{token}@example.org", name="Aynur")
        author.language = lang  # as if chosen with the switcher: what is pushed to her speaks it
        make_account(server_runtime, session, email=f"elvin-{token}@example.org", name="Elvin")
        consultation = seed_consultation(
            session,
            convener,
            agency.id,
            f"Sumgait seaside {token}",
            summary="What should the seaside boulevard get next?",
            body="The city is planning the boulevard's next stretch.",
            support_threshold=5,
        )
        title = f"Shade on the boulevard {token}"
        proposal = actions.submit_proposal(
            session,
            author,
            consultation.id,
            ProposalInput(title=title, body="Trees and awnings along the walk."),
        )
        move_to(session, convener, consultation.id, "support")
        assert agency.id and consultation.id and proposal.id and author.id and responder.id
        return Cast(
            agency_id=agency.id,
            consultation_id=consultation.id,
            proposal_id=proposal.id,
            proposal_title=title,
            author_id=author.id,
            author=f"aynur-{token}@example.org",
            supporter=f"elvin-{token}@example.org",
            moderator=f"mod-{token}@gov.example.org",
            responder_id=responder.id,
        )


def _following(page: Page, topic: str) -> None:
    """Wait until live.js is subscribed to `topic` (it stores the position the server gave)."""
    page.wait_for_function(
        "t => ((JSON.parse(sessionStorage.getItem('civic.live.v1') || '{}').positions) || {})[t] !== undefined",
        arg=topic,
        timeout=LIVE_MS,
    )


@both_languages
def test_a_support_moves_the_moderators_dashboard_and_the_consultation_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest, cast: Cast, shot: Shot
) -> None:
    with (
        open_page(browser, live_server, request) as moderator,
        open_page(browser, live_server, request) as visitor,
        open_page(browser, live_server, request) as citizen,
    ):
        log_in(moderator, cast.moderator)
        moderator.goto(f"/moderation/dashboard?agency={cast.agency_id}")
        expect(moderator.get_by_role("heading", level=1)).to_contain_text(T("Live dashboard"))
        supports = moderator.locator('[data-counter="supports"]')
        participants = moderator.locator('[data-counter="participants"]')
        expect(supports).to_have_text("0")
        expect(participants).to_have_text("1")  # the author, who wrote the proposal today
        _following(moderator, f"dashboard:agency:{cast.agency_id}")
        shot("moderator-dashboard-before", moderator)

        visitor.goto(f"/consultations/{cast.consultation_id}")
        count = visitor.locator(f'[data-live-count="proposal:{cast.proposal_id}:support_count"]')
        expect(count).to_have_text("0")
        _following(visitor, f"consultation:{cast.consultation_id}")

        log_in(citizen, cast.supporter)
        citizen.goto(f"/proposals/{cast.proposal_id}")
        citizen.get_by_role("button", name=T("Support this proposal")).click()
        expect(citizen).to_have_url(re.compile(r"\?done=supported"))
        shot("citizen-supported", citizen)

        # No reload on either page: the numbers move by themselves.
        expect(supports).to_have_text("1", timeout=LIVE_MS)
        expect(participants).to_have_text("2", timeout=LIVE_MS)
        expect(moderator.get_by_test_id("feed")).to_contain_text(
            T('Support for "%(title)s" (now %(count)s)', title=cast.proposal_title, count=1), timeout=LIVE_MS
        )
        expect(count).to_have_text("1", timeout=LIVE_MS)
        assert moderator.evaluate("performance.getEntriesByType('navigation').length") == 1
        assert visitor.evaluate("performance.getEntriesByType('navigation')[0].type") == "navigate"
        assert "Elvin" not in moderator.get_by_test_id("feed").inner_text()  # supporters are private
        shot("moderator-dashboard-after", moderator)
        shot("visitor-consultation-after", visitor)


@both_languages
def test_the_author_gets_a_toast_when_a_responder_answers(
    browser: Browser,
    live_server: LiveServer,
    request: pytest.FixtureRequest,
    cast: Cast,
    server_runtime: Runtime,
) -> None:
    with open_page(browser, live_server, request) as author:
        log_in(author, cast.author)
        author.goto(f"/consultations/{cast.consultation_id}")
        _following(author, f"user:{cast.author_id}")
        badge = author.locator("[data-unread-badge]")
        expect(badge).to_be_hidden()

        with server_runtime.db.transaction() as session:
            responder = session.get(Account, cast.responder_id)
            answer_proposal(
                session,
                responder,
                cast.proposal_id,
                AnswerInput(status="accepted", text="Accepted: shade trees are planted this autumn."),  # type: ignore[arg-type]
            )

        toast = author.locator('#toasts .toast[data-kind="proposal.answered"]')  # badges may come too
        expect(toast).to_contain_text(
            T(
                'Your proposal "%(title)s" was answered: %(status)s',
                title=cast.proposal_title,
                status=T("accepted"),
            ),
            timeout=LIVE_MS,
        )
        expect(toast.get_by_role("link")).to_have_attribute("href", f"/proposals/{cast.proposal_id}")
        expect(badge).to_be_visible(timeout=LIVE_MS)
        expect(author.locator("[data-unread-count]")).to_have_text("1")
        expect(author.locator("#live-announcer")).to_contain_text(
            T(
                'Your proposal "%(title)s" was answered: %(status)s',
                title=cast.proposal_title,
                status=T("accepted"),
            ),
            timeout=LIVE_MS,
        )

        toast.get_by_role("button", name=re.compile("^" + re.escape(T("Dismiss")))).click()
        expect(toast).to_have_count(0)
