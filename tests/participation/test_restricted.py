"""Restricted consultations: a convener may ask proposers for a minimum level (identity's standing,
0-4, computed by engagement). Below it, proposing is a 403 naming the level needed and how to reach
it, and writes nothing; supporting and commenting stay open to everyone eligible. The level is set
on the consultation like its other rules: the API, the convener's console form, and a PATCH."""

from __future__ import annotations

import pytest

from civic.errors import Forbidden
from civic.identity.standing import privileges
from civic.participation import actions
from civic.participation.models import Consultation, Phase
from civic.participation.schemas import MIN_LEVELS, ConsultationEdit, ConsultationInput, ProposalInput
from tests.conftest import form_token
from tests.factories import raise_standing
from tests.participation.conftest import (
    OpenBrowser,
    World,
    load,
    make_comment,
    make_consultation,
    make_proposal,
    set_phase,
    snapshot,
    support,
)

IDEA = {"title": "Shaded bus stops", "body": "Trees or roofs over every stop on the line."}


@pytest.fixture
def restricted(runtime, world: World) -> Consultation:
    """A consultation taking proposals from Members (level 2) up, with Rashad's proposal on it."""
    with runtime.db.transaction() as s:
        raise_standing(s, world.rashad, 3)
        c = make_consultation(s, world.convener, min_level=2)
        make_proposal(s, world.rashad, c)
    return c


def test_a_citizen_below_the_level_is_told_which_level_and_how_to_reach_it(
    runtime, world: World, restricted: Consultation
):
    before = snapshot(runtime)
    with runtime.db.transaction() as s, pytest.raises(Forbidden) as refusal:
        actions.submit_proposal(s, world.leyla, restricted.id, ProposalInput(**IDEA))  # type: ignore[arg-type]
    assert refusal.value.code == "level_required"
    message = refusal.value.message
    assert "level 2 (Member) or above" in message
    assert "you are at level 0 (Newcomer)" in message
    assert "support and comment" in message and "Your profile shows what your next level needs" in message
    assert snapshot(runtime) == before


def test_at_or_above_the_level_a_citizen_may_propose(runtime, world: World, restricted: Consultation):
    with runtime.db.transaction() as s:
        raise_standing(s, world.leyla, 2)
        raise_standing(s, world.kamal, 4)
    with runtime.db.transaction() as s:
        assert make_proposal(s, world.leyla, restricted, title="Leyla's idea").id
        assert make_proposal(s, world.kamal, restricted, title="Kamal's idea").id
    with runtime.db.transaction() as s:
        raise_standing(s, world.leyla, 1)  # a strike lowered her level: the door closes again
    with runtime.db.transaction() as s, pytest.raises(Forbidden):
        make_proposal(s, world.leyla, restricted, title="Another idea")


def test_supporting_and_commenting_stay_open_to_everyone_eligible(
    runtime, world: World, restricted: Consultation
):
    with runtime.db.transaction() as s:
        proposal = make_proposal(s, world.rashad, restricted, title="Rashad's second idea")
        assert make_comment(s, world.aysel, proposal.id).id  # type: ignore[arg-type]
    set_phase(runtime, world.convener, restricted.id, Phase.SUPPORT)  # type: ignore[arg-type]
    support(runtime, world.leyla, proposal.id)  # type: ignore[arg-type]
    assert load(runtime, type(proposal), proposal.id).support_count == 1


def test_eligibility_comes_first_and_an_open_consultation_asks_for_no_level(runtime, world: World):
    with runtime.db.transaction() as s:
        open_to_all = make_consultation(s, world.convener)
        assert open_to_all.min_level == 0
        assert make_proposal(s, world.aysel, open_to_all).id
        individuals_only = make_consultation(s, world.convener, min_level=2, allow_organisations=False)
    with runtime.db.transaction() as s, pytest.raises(Forbidden) as refusal:
        make_proposal(s, world.business, individuals_only)
    assert refusal.value.code == "not_eligible", "who may take part is said before the level"


def test_over_the_api_a_403_with_the_message(
    runtime, world: World, restricted: Consultation, browser: OpenBrowser
):
    before = snapshot(runtime)
    response = browser(world.leyla).post(f"/api/consultations/{restricted.id}/proposals", IDEA)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "level_required" and "level 2 (Member)" in error["message"]
    assert snapshot(runtime) == before

    # The form (which does not yet say so before the text is written: see the report) refuses it
    # on submission, keeping the text.
    posted = browser(world.leyla).client
    token = form_token(posted.get(f"/consultations/{restricted.id}/proposals/new").text)
    refused = posted.post(
        f"/consultations/{restricted.id}/proposals/new",
        data={"csrf_token": token, **IDEA},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert "level 2 (Member) or above" in refused.text and IDEA["body"] in refused.text
    assert snapshot(runtime) == before


@pytest.mark.parametrize("value", [1, 5, -1])
def test_only_open_or_a_level_that_unlocks_restricted_consultations(
    world: World, value: int, browser: OpenBrowser
):
    assert (0, *(n for n in range(5) if privileges(n).restricted_consultations)) == MIN_LEVELS
    body = {
        "agency_id": world.agency.id,
        "title": "Parks of the old town",
        "summary": "Which parks need work first?",
        "body": "The agency asks residents.",
        "min_level": value,
    }
    response = browser(world.convener).post("/api/consultations", body)
    assert response.status_code == 422, response.text
    assert "min_level" in response.json()["error"]["fields"]
    with pytest.raises(ValueError):
        ConsultationInput(**body)


def test_a_patch_changes_the_level_and_null_is_refused(runtime, world: World, browser: OpenBrowser):
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener)
    convener = browser(world.convener)
    changed = convener.client.patch(
        f"/api/consultations/{c.id}", json={"min_level": 3}, headers={"X-CSRF-Token": convener.token}
    )
    assert changed.status_code == 200, changed.text
    assert load(runtime, Consultation, c.id).min_level == 3  # type: ignore[arg-type]
    refused = convener.client.patch(
        f"/api/consultations/{c.id}", json={"min_level": None}, headers={"X-CSRF-Token": convener.token}
    )
    assert refused.status_code == 422
    assert ConsultationEdit(min_level=4).changes() == {"min_level": 4}


def test_the_console_form_sets_and_shows_the_level(runtime, world: World, browser: OpenBrowser):
    convener = browser(world.convener)
    new = convener.client.get("/console/consultations/new")
    assert new.status_code == 200
    assert 'name="min_level"' in new.text and "Level 2 (Member) and above" in new.text
    created = convener.client.post(
        "/console/consultations/new",
        data={
            "csrf_token": form_token(new.text),
            "agency_id": str(world.agency.id),
            "title": "Cycle lanes on the boulevard",
            "summary": "Where should the cycle lanes go?",
            "body": "The agency plans cycle lanes and asks residents.",
            "support_threshold": "50",
            "min_level": "3",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    edit_url = created.headers["location"].split("?")[0]
    consultation_id = int(edit_url.split("/")[3])
    assert load(runtime, Consultation, consultation_id).min_level == 3
    edit = convener.client.get(edit_url)
    assert '<option value="3" selected>' in edit.text

    wrong = convener.client.post(
        edit_url,
        data={
            "csrf_token": form_token(edit.text),
            "title": "Cycle lanes on the boulevard",
            "summary": "Where should the cycle lanes go?",
            "body": "The agency plans cycle lanes and asks residents.",
            "support_threshold": "50",
            "min_level": "1",
        },
        follow_redirects=False,
    )
    assert wrong.status_code == 422
    assert "a level that unlocks restricted consultations" in wrong.text
    assert load(runtime, Consultation, consultation_id).min_level == 3

    opened = convener.client.post(
        edit_url,
        data={
            "csrf_token": form_token(edit.text),
            "title": "Cycle lanes on the boulevard",
            "summary": "Where should the cycle lanes go?",
            "body": "The agency plans cycle lanes and asks residents.",
            "support_threshold": "50",
            "min_level": "0",
        },
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    assert load(runtime, Consultation, consultation_id).min_level == 0
