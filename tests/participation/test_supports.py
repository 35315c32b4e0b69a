"""Supports: one per citizen, only in the support phase, counted once, threshold reached once,
and who supported what never leaves the server."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from civic.events.envelope import Envelope
from civic.events.models import OutboxEvent
from civic.participation.models import Phase, Proposal, Support
from tests.participation.conftest import (
    error,
    load,
    make_consultation,
    make_proposal,
    on_the_bus,
    outbox,
    set_phase,
    snapshot,
)


@pytest.fixture
def consultation(runtime, world):
    with runtime.db.transaction() as s:
        return make_consultation(s, world.convener, phase=Phase.PROPOSALS, support_threshold=3)


@pytest.fixture
def proposal(runtime, world, consultation):
    """Leyla's proposal, in a consultation that has moved on to its support phase."""
    with runtime.db.transaction() as s:
        p = make_proposal(s, world.leyla, consultation)
    set_phase(runtime, world.convener, consultation.id, Phase.SUPPORT)
    return p


def supports_of(runtime, proposal_id):
    with runtime.db.transaction() as s:
        return list(s.exec(select(Support.account_id).where(Support.proposal_id == proposal_id)).all())


def test_a_citizen_supports_a_proposal(runtime, world, browser, proposal, consultation):
    kamal = browser(world.kamal)

    response = kamal.put(f"/api/proposals/{proposal.id}/support")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "proposal_id": proposal.id,
        "supported": True,
        "support_count": 1,
        "threshold_reached": False,
    }
    assert supports_of(runtime, proposal.id) == [world.kamal.id]
    assert kamal.get(f"/api/proposals/{proposal.id}").json()["supported_by_me"] is True
    assert browser(world.rashad).get(f"/api/proposals/{proposal.id}").json()["supported_by_me"] is False
    (event,) = outbox(runtime, "proposal.supported")
    assert event["data"] == {
        "proposal_id": proposal.id,
        "consultation_id": consultation.id,
        "agency_id": world.agency.id,
        "author_id": world.leyla.id,
        "support_count": 1,
    }
    assert event["topics"] == [
        f"proposal:{proposal.id}",
        f"consultation:{consultation.id}",
        f"dashboard:agency:{world.agency.id}",
        "dashboard:global",
    ]


@pytest.mark.parametrize("phase", [Phase.PROPOSALS, Phase.DELIBERATION, Phase.CLOSED])
def test_supporting_outside_the_support_phase_is_a_conflict(
    runtime, world, browser, proposal, consultation, phase
):
    set_phase(runtime, world.convener, consultation.id, phase)
    kamal = browser(world.kamal)
    before = snapshot(runtime)

    body = error(kamal.put(f"/api/proposals/{proposal.id}/support"), 409)

    assert body["message"] == (
        f"You can support proposals only in the support phase; this consultation is now in its {phase} phase."
    )
    assert snapshot(runtime) == before


def test_nobody_supports_their_own_proposal(runtime, world, browser, proposal):
    leyla = browser(world.leyla)
    before = snapshot(runtime)

    body = error(leyla.put(f"/api/proposals/{proposal.id}/support"), 409)

    assert (body["code"], body["message"]) == ("own_proposal", "You cannot support your own proposal.")
    assert snapshot(runtime) == before


@pytest.mark.parametrize("who", ["convener", "moderator"])
def test_officials_do_not_support(runtime, world, browser, proposal, who):
    b = browser(getattr(world, who))
    before = snapshot(runtime)
    assert (
        "Officials take part through their roles"
        in error(b.put(f"/api/proposals/{proposal.id}/support"), 403)["message"]
    )
    assert snapshot(runtime) == before


def test_anonymous_visitors_are_asked_to_log_in(runtime, world, browser, proposal):
    before = snapshot(runtime)
    assert error(browser().put(f"/api/proposals/{proposal.id}/support"), 401)
    assert error(browser().delete(f"/api/proposals/{proposal.id}/support"), 401)
    assert snapshot(runtime) == before


def test_a_double_request_counts_once(runtime, world, browser, proposal):
    kamal = browser(world.kamal)

    first = kamal.put(f"/api/proposals/{proposal.id}/support")
    second = kamal.put(f"/api/proposals/{proposal.id}/support")

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second.json()["support_count"] == 1
    assert supports_of(runtime, proposal.id) == [world.kamal.id]
    assert len(outbox(runtime, "proposal.supported")) == 1


def test_each_citizen_supports_once_and_the_count_follows(runtime, world, browser, proposal):
    counts = [
        browser(getattr(world, who)).put(f"/api/proposals/{proposal.id}/support").json()["support_count"]
        for who in ("kamal", "rashad")
    ]
    assert counts == [1, 2]
    assert sorted(supports_of(runtime, proposal.id)) == sorted([world.kamal.id, world.rashad.id])
    assert load(runtime, Proposal, proposal.id).support_count == 2


def test_a_support_can_be_withdrawn_while_the_support_phase_is_open(
    runtime, world, browser, proposal, consultation
):
    kamal, rashad = browser(world.kamal), browser(world.rashad)
    kamal.put(f"/api/proposals/{proposal.id}/support")
    rashad.put(f"/api/proposals/{proposal.id}/support")

    withdrawn = kamal.delete(f"/api/proposals/{proposal.id}/support")

    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json() == {
        "proposal_id": proposal.id,
        "supported": False,
        "support_count": 1,
        "threshold_reached": False,
    }
    assert supports_of(runtime, proposal.id) == [world.rashad.id]
    (event,) = outbox(runtime, "proposal.unsupported")
    assert event["data"]["support_count"] == 1
    assert event["actor"] == world.kamal.id

    before = snapshot(runtime)
    again = kamal.delete(f"/api/proposals/{proposal.id}/support")
    never = browser(world.aysel).delete(f"/api/proposals/{proposal.id}/support")

    assert again.json() == withdrawn.json()  # a repeated withdrawal is a no-op
    assert never.json()["support_count"] == 1  # and so is withdrawing a support one never gave
    assert snapshot(runtime) == before

    set_phase(runtime, world.convener, consultation.id, Phase.DELIBERATION)
    before = snapshot(runtime)
    late = rashad.delete(f"/api/proposals/{proposal.id}/support")
    assert "only in the support phase" in error(late, 409)["message"]
    assert snapshot(runtime) == before


def test_the_threshold_is_reached_exactly_once(runtime, world, browser, proposal, consultation):
    supporters = [browser(getattr(world, who)) for who in ("kamal", "rashad", "aysel", "foreigner")]
    answers = [b.put(f"/api/proposals/{proposal.id}/support").json() for b in supporters]

    assert [a["threshold_reached"] for a in answers] == [False, False, True, True]
    (event,) = outbox(runtime, "proposal.threshold_reached")
    assert event["data"] == {
        "proposal_id": proposal.id,
        "consultation_id": consultation.id,
        "agency_id": world.agency.id,
        "author_id": world.leyla.id,
        "support_count": 3,
        "threshold": 3,
    }
    assert event["topics"] == [
        f"proposal:{proposal.id}",
        f"consultation:{consultation.id}",
        f"user:{world.leyla.id}",
        f"dashboard:agency:{world.agency.id}",
    ]
    assert event["actor"] is None

    # Falling below and climbing back: reached once, stays reached, never announced again.
    for b in supporters[:2]:
        assert b.delete(f"/api/proposals/{proposal.id}/support").json()["threshold_reached"] is True
    for b in supporters[:2]:
        b.put(f"/api/proposals/{proposal.id}/support")
    assert browser().get(f"/api/proposals/{proposal.id}").json()["threshold_reached"] is True
    assert len(outbox(runtime, "proposal.threshold_reached")) == 1


def test_the_bus_never_carries_who_supported_but_handlers_still_know(runtime, world, browser, proposal):
    browser(world.kamal).put(f"/api/proposals/{proposal.id}/support")
    browser(world.kamal).delete(f"/api/proposals/{proposal.id}/support")

    published = on_the_bus(runtime)

    by_type = {e["type"]: e for e in published}
    assert by_type["proposal.supported"]["actor"] is None
    assert by_type["proposal.unsupported"]["actor"] is None
    assert by_type["proposal.submitted"]["actor"] == world.leyla.id  # an author is public
    epoch = runtime.backend.current_epoch()
    history = runtime.backend.history(f"proposal:{proposal.id}", 0, epoch)
    on_topic = [json.loads(p.event_json) for p in history.events]
    assert {e["type"] for e in on_topic} >= {"proposal.supported", "proposal.unsupported"}
    assert all(
        e["actor"] is None for e in on_topic if e["type"].startswith("proposal.") and "support" in e["type"]
    )
    for p in history.events:
        if json.loads(p.event_json)["type"] == "proposal.supported":
            assert f'"actor":{world.kamal.id}' not in p.event_json

    with runtime.db.transaction() as s:
        row = s.exec(
            select(OutboxEvent).where(OutboxEvent.type == "proposal.supported").order_by(col(OutboxEvent.seq))
        ).one()
        assert Envelope.from_row(row).actor == world.kamal.id
