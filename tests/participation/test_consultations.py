"""Conveners create, publish and move consultations; drafts stay inside the owning agency."""

from __future__ import annotations

import pytest

from civic.participation.models import Phase
from tests.participation.conftest import error, make_consultation, outbox, snapshot

NEW = {
    "title": "Parks for the old town",
    "summary": "Which squares should become parks?",
    "body": "Tell us which squares you would turn into parks.",
    "categories": ["parks"],
}

# Who sees a draft: officials of the owning agency or an ancestor with a VIEW_DRAFTS role.
DRAFT_VIEWERS = {
    "convener": True,  # convener of the owning agency
    "moderator": True,  # moderator of the owning agency
    "minister": True,  # administrator of the parent ministry
    "registrar": False,  # official of the owning agency, but a role VIEW_DRAFTS does not allow
    "unit_convener": False,  # convener of a unit below the owning agency: grants reach down, not up
    "other_convener": False,  # convener of an unrelated agency
    "leyla": False,  # a verified citizen
    "anonymous": False,
}


@pytest.fixture
def draft(runtime, world):
    with runtime.db.transaction() as s:
        return make_consultation(s, world.convener, publish=False, title="Draft: tram routes")


@pytest.mark.parametrize(("viewer", "sees"), DRAFT_VIEWERS.items())
def test_a_draft_is_seen_only_by_its_agencys_officials_with_a_role_that_views_drafts(
    runtime, world, browser, draft, viewer, sees
):
    with runtime.db.transaction() as s:
        published = make_consultation(s, world.other_convener, title="Published elsewhere")
    b = browser(None if viewer == "anonymous" else getattr(world, viewer))

    one = b.get(f"/api/consultations/{draft.id}")
    listed = b.get("/api/consultations").json()

    ids = [c["id"] for c in listed["items"]]
    assert published.id in ids
    if sees:
        assert one.status_code == 200, one.text
        assert one.json()["status"] == "draft"
        assert draft.id in ids
        assert listed["total"] == 2
    else:
        assert error(one, 404)["message"] == f"There is no consultation {draft.id}."
        assert draft.id not in ids
        assert listed["total"] == 1


def test_a_draft_is_hidden_from_the_open_data_even_for_its_convener(runtime, world, browser, draft):
    b = browser(world.convener)
    assert b.get(f"/consultations/{draft.id}/proposals.json").status_code == 404
    assert b.get(f"/consultations/{draft.id}/proposals.csv").status_code == 404


def test_convener_creates_a_draft_then_publishes_and_moves_it_with_events_to_the_right_topics(
    runtime, world, browser
):
    b = browser(world.convener)
    agency = world.agency.id

    created = b.post("/api/consultations", {**NEW, "agency_id": agency})

    assert created.status_code == 201, created.text
    body = created.json()
    cid = body["id"]
    assert (body["status"], body["phase"], body["published_at"]) == ("draft", "information", None)
    assert outbox(runtime, "consultation.published") == []  # a draft is news to nobody

    published = b.post(f"/api/consultations/{cid}/publication")

    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert published.json()["published_at"].endswith("Z") or "+00:00" in published.json()["published_at"]
    (event,) = outbox(runtime, "consultation.published")
    assert event["topics"] == [f"consultation:{cid}", f"dashboard:agency:{agency}", "dashboard:global"]
    assert event["actor"] == world.convener.id
    assert event["data"] == {
        "consultation_id": cid,
        "agency_id": agency,
        "title": NEW["title"],
        "phase": "information",
        "previous_phase": None,
    }

    moved = b.put(f"/api/consultations/{cid}/phase", {"phase": "proposals"})

    assert moved.status_code == 200, moved.text
    assert moved.json()["phase"] == "proposals"
    (change,) = outbox(runtime, "consultation.phase_changed")
    assert change["topics"] == [f"consultation:{cid}", f"dashboard:agency:{agency}", "dashboard:global"]
    assert (change["data"]["phase"], change["data"]["previous_phase"]) == ("proposals", "information")
    assert browser().get(f"/api/consultations/{cid}").json()["phase"] == "proposals"


def test_moving_a_draft_between_phases_tells_nobody(runtime, world, browser, draft):
    b = browser(world.convener)
    assert b.put(f"/api/consultations/{draft.id}/phase", {"phase": "support"}).status_code == 200
    assert outbox(runtime, "consultation.phase_changed") == []


def test_a_convener_of_another_agency_cannot_create_for_this_one(runtime, world, browser):
    b = browser(world.other_convener)
    before = snapshot(runtime)

    response = b.post("/api/consultations", {**NEW, "agency_id": world.agency.id})

    message = error(response, 403)["message"]
    assert "convener" in message and f"agency {world.agency.id}" in message
    assert "consultations.manage" in message
    assert snapshot(runtime) == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/consultations/{id}/publication", None),
        ("put", "/api/consultations/{id}/phase", {"phase": "proposals"}),
    ],
)
def test_a_convener_of_another_agency_cannot_publish_or_move_a_consultation(
    runtime, world, browser, draft, method, path, body
):
    b = browser(world.other_convener)
    before = snapshot(runtime)

    response = getattr(b, method)(path.format(id=draft.id), body)

    message = error(response, 403)["message"]
    assert f"convener grant for agency {world.agency.id} / consultation {draft.id}" in message
    assert "consultations.manage" in message
    assert snapshot(runtime) == before


@pytest.mark.parametrize("who", ["leyla", "moderator", "minister"])
def test_only_conveners_manage_consultations(runtime, world, browser, draft, who):
    b = browser(getattr(world, who))
    before = snapshot(runtime)

    created = b.post("/api/consultations", {**NEW, "agency_id": world.agency.id})
    published = b.post(f"/api/consultations/{draft.id}/publication")

    for response in (created, published):
        assert "convener" in error(response, 403)["message"]
    assert snapshot(runtime) == before


def test_anonymous_visitors_are_asked_to_log_in(runtime, world, browser, draft):
    b = browser()
    before = snapshot(runtime)
    assert error(b.post("/api/consultations", {**NEW, "agency_id": world.agency.id}), 401)
    assert error(b.post(f"/api/consultations/{draft.id}/publication"), 401)
    assert snapshot(runtime) == before


def test_publishing_twice_and_moving_to_the_current_phase_are_conflicts(runtime, world, browser):
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, phase=Phase.SUPPORT)
    b = browser(world.convener)
    before = snapshot(runtime)

    again = b.post(f"/api/consultations/{c.id}/publication")
    same = b.put(f"/api/consultations/{c.id}/phase", {"phase": "support"})

    assert error(again, 409)["message"] == "This consultation is already published."
    assert error(same, 409)["message"] == "This consultation is already in its support phase."
    assert snapshot(runtime) == before


def test_bad_input_and_unknown_ids(runtime, world, browser, draft):
    b = browser(world.convener)
    before = snapshot(runtime)

    bad = b.post(
        "/api/consultations", {"agency_id": world.agency.id, "title": "x", "summary": "", "body": ""}
    )
    phase = b.put(f"/api/consultations/{draft.id}/phase", {"phase": "voting"})
    no_agency = b.post("/api/consultations", {**NEW, "agency_id": 999_999})

    fields = error(bad, 422)["fields"]
    assert fields["title"] == "Use at least 5 characters."
    assert fields["summary"] == "This field is required."
    assert fields["body"] == "This field is required."
    assert "Choose one of" in error(phase, 422)["fields"]["phase"]
    assert error(no_agency, 404)["message"] == "There is no agency 999999."
    for response in (
        b.get("/api/consultations/999999"),
        b.post("/api/consultations/999999/publication"),
        b.put("/api/consultations/999999/phase", {"phase": "support"}),
    ):
        assert error(response, 404)["message"] == "There is no consultation 999999."
    assert snapshot(runtime) == before


def test_the_list_filters_by_phase(runtime, world, browser):
    with runtime.db.transaction() as s:
        proposals = make_consultation(s, world.convener, phase=Phase.PROPOSALS)
        supports = make_consultation(s, world.convener, phase=Phase.SUPPORT)
    listed = browser().get("/api/consultations", phase="support").json()
    assert [c["id"] for c in listed["items"]] == [supports.id]
    assert proposals.id not in [c["id"] for c in listed["items"]]


def test_the_list_shows_drafts_first_then_the_most_recently_published(runtime, world, browser):
    with runtime.db.transaction() as s:
        older = make_consultation(s, world.convener, title="Published first")
    with runtime.db.transaction() as s:
        newer = make_consultation(s, world.convener, title="Published second")
        draft = make_consultation(s, world.convener, title="Still a draft", publish=False)

    convener = [c["id"] for c in browser(world.convener).get("/api/consultations").json()["items"]]
    public = [c["id"] for c in browser().get("/api/consultations").json()["items"]]

    assert convener == [draft.id, newer.id, older.id]
    assert public == [newer.id, older.id]
