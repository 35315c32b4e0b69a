"""A citizen's engagement, in a real browser: they register, support another citizen's proposal and
submit one of their own, then see the points (with their reasons) and a badge appear on their
profile; they find themselves on the leaderboard, opt out from their profile, and are gone from it
at the next page load.

The points and badges are the engagement handler's work: in the embedded mode the web process's
own relay runs it, in production the `civic worker` subprocess does, so the profile is reloaded
until they arrive (a few hundred milliseconds). Opting out takes the citizen off every board in
the request itself (SQL, and Redis in production), so the first leaderboard page after it must
already leave them out.

The agency, its convener, the consultations and the other citizen's proposal are written with the
domain actions straight into the live server's database; everything the citizen does goes through
the browser.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from civic.identity.models import Role
from civic.participation import actions
from civic.participation.schemas import ProposalInput
from civic.runtime import Runtime
from tests.browser.conftest import Shot, move_to, register, seed_consultation
from tests.browser.i18n import ANY, NT_re, T, both_languages
from tests.factories import make_account, make_agency, make_official

pytestmark = pytest.mark.browser

HANDLED_WITHIN = 20.0  # seconds for the relay or worker to run the engagement handler


@dataclass
class World:
    collecting_id: int  # a consultation taking proposals
    supporting_id: int  # one in its support phase, with Nigar's proposal on it
    nigar_proposal_id: int
    nigar_title: str


@pytest.fixture
def world(server_runtime: Runtime) -> World:
    token = uuid.uuid4().hex[:6]
    with server_runtime.db.transaction() as session:
        agency = make_agency(session, "Sumgait City Executive Power")
        convener = make_official(
            server_runtime, session, agency, Role.CONVENER, email=f"convener-{token}@gov.example.org"
        )
        nigar = make_account(server_runtime, session, email=f"nigar-{token}@example.org", name="Nigar")
        tell = {"summary": "Tell the city where its money should go first.", "support_threshold": 5}
        collecting = seed_consultation(
            session, convener, agency.id, f"Playgrounds of Sumgait {token}", **tell
        )
        supporting = seed_consultation(session, convener, agency.id, f"Seaside promenade {token}", **tell)
        nigar_title = f"Benches in the shade {token}"
        proposal = actions.submit_proposal(
            session,
            nigar,
            supporting.id,
            ProposalInput(title=nigar_title, body="Benches under the trees every hundred metres."),
        )
        move_to(session, convener, supporting.id, "support")
        assert collecting.id and supporting.id and proposal.id
        return World(collecting.id, supporting.id, proposal.id, nigar_title)


def _profile_until(page: Page, ready: Callable[[], bool]) -> None:
    """Reload /me/profile until `ready()` (the handler has run), or fail after HANDLED_WITHIN."""
    deadline = time.monotonic() + HANDLED_WITHIN
    while True:
        page.goto("/me/profile")
        if ready():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the profile did not update within {HANDLED_WITHIN:.0f} s")
        time.sleep(0.25)


@both_languages
def test_a_citizen_supports_and_proposes_then_sees_points_and_a_badge_and_can_leave_the_leaderboard(
    page: Page, shot: Shot, world: World
) -> None:
    name = f"Samira {uuid.uuid4().hex[:6]}"
    mine = f"A swing for every playground {uuid.uuid4().hex[:6]}"
    register(page, name)

    # A new profile: no points, no badge earned yet, level 0 with its day-one limits.
    page.goto("/me/profile")
    expect(page.get_by_role("heading", level=1, name=T("My profile"))).to_be_visible()
    expect(page.get_by_test_id("points")).to_have_text("0")
    expect(page.get_by_test_id("level")).to_contain_text(T("Newcomer"))
    expect(page.get_by_test_id("unlocks")).to_contain_text(
        T("Up to %(proposals)s proposals and %(comments)s comments a day", proposals=2, comments=10)
    )
    expect(page.locator('[data-badge="proposer"]')).to_have_attribute("data-level", "0")
    shot("new-profile")

    # Support Nigar's proposal.
    page.goto(f"/proposals/{world.nigar_proposal_id}")
    expect(page.get_by_role("heading", level=1, name=world.nigar_title)).to_be_visible()
    page.get_by_role("button", name=T("Support this proposal")).click()
    expect(page).to_have_url(re.compile(r"\?done=supported#support$"))
    expect(
        page.get_by_role("status").filter(has_text=T("You support this proposal. Thank you."))
    ).to_be_visible()
    shot("supported")

    # Submit a proposal of one's own.
    page.goto(f"/consultations/{world.collecting_id}/proposals/new")
    page.get_by_label(T("Title"), exact=True).fill(mine)
    page.get_by_label(T("Your proposal"), exact=True).fill(
        "One swing suited to wheelchairs in every playground of the city."
    )
    page.get_by_role("button", name=T("Submit proposal")).click()
    expect(page).to_have_url(re.compile(r"/proposals/\d+\?done=submitted$"))
    expect(page.get_by_role("heading", level=1, name=mine)).to_be_visible()
    shot("proposed")

    # The profile: 3 points for the proposal, 1 for the support, each with its reason; a badge.
    _profile_until(page, lambda: page.get_by_test_id("points").inner_text().strip() == "4")
    history = page.get_by_test_id("history")
    expect(history).to_contain_text(T("You submitted a proposal"))
    expect(history).to_contain_text(T("You supported a proposal"))
    proposer = page.locator('[data-badge="proposer"]')
    expect(proposer).to_have_attribute("data-level", "1")
    expect(proposer).to_contain_text(T("Level %(num)d of 5", num=1))
    expect(proposer).to_contain_text(T("Next level at %(num)s", num=5))
    expect(page.locator('[data-badge="supporter"]')).to_contain_text(T("Next level at %(num)s", num=5))
    # Badges stay private until the citizen chooses to show them.
    expect(page.get_by_label(T("Show my badges on my public profile"))).not_to_be_checked()
    shot("profile-with-points-and-a-badge")

    page.get_by_role("link", name=T("See your public profile as others see it")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.locator('[data-badge="proposer"]')).to_have_count(0)
    shot("public-profile-without-badges")

    # On the leaderboard, with a rank of one's own.
    page.goto("/leaderboards")
    board = page.get_by_test_id("leaderboard")
    expect(board.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_test_id("my-rank")).to_have_text(
        NT_re("You are #%(rank)s with %(num)s point.", "You are #%(rank)s with %(num)s points.", 4, rank=ANY)
    )
    shot("on-the-leaderboard")

    # Opting out: the very next leaderboard page leaves the citizen out — the change is in the same
    # transaction as the preference, nothing waits for a handler (no timing asserted: speed is
    # measured in bench/, not here).
    page.goto("/me/profile")
    page.get_by_label(T("Appear on leaderboards (with my public name and points only)")).uncheck()
    page.get_by_role("button", name=T("Save my choices")).click()
    expect(page.get_by_role("status")).to_have_text(T("Your choices are saved."))
    page.goto("/leaderboards")
    expect(page.get_by_role("link", name=name)).to_have_count(0, timeout=1)
    expect(page.get_by_test_id("my-rank")).to_have_count(0, timeout=1)
    for query in (
        "?window=week",
        "?window=month",
        f"?scope=consultation&consultation={world.collecting_id}",
        f"?scope=consultation&consultation={world.collecting_id}&window=week",
    ):
        page.goto(f"/leaderboards{query}")
        expect(page.get_by_role("link", name=name)).to_have_count(0, timeout=1)
    shot("left-the-leaderboard")
