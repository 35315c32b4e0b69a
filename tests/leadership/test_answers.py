"""Official answers: a responder gives a public proposal a status and a signed text; the history is
kept and the proposal's current answer follows it; who may answer is decided by grants alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from civic.clock import as_utc, utcnow
from civic.errors import Conflict, Forbidden, NotAuthenticated, NotFound
from civic.identity.models import Grant, Role
from civic.leadership.models import OfficialAction
from civic.leadership.schemas import AnswerInput
from civic.participation.models import Proposal, ProposalAnswer
from civic.participation.moderation import do_moderate_proposal
from civic.participation.queries import answer_history
from civic.runtime import Runtime
from tests.leadership._answers_support import ANSWER_TEXT, actions_logged, answer, count, envelopes, responder
from tests.leadership.conftest import Scene, load, proposal, snapshot


@pytest.fixture
def resp(runtime: Runtime, scene: Scene):  # type: ignore[no-untyped-def]
    return responder(runtime, "Responder", scene.world.agency.id)


def test_a_responder_answers_a_proposal_signed_with_name_role_and_agency(
    runtime: Runtime, scene: Scene, resp
):
    p = proposal(runtime, scene.world.leyla, scene.consultation)

    a = answer(runtime, resp, p.id, "under_review")

    assert (a.status, a.official_id, a.official_name, a.official_role) == (
        "under_review",
        resp.id,
        "Responder",
        "responder",
    )
    assert (a.agency_id, a.agency_name) == (scene.world.agency.id, scene.world.agency.name)
    assert a.text == ANSWER_TEXT and "<p>" in a.text_html
    stored = load(runtime, Proposal, p.id)
    assert stored.answer_status == "under_review"
    assert as_utc(stored.first_answered_at) == as_utc(a.created_at)
    [event] = envelopes(runtime, "proposal.answered")
    assert event.actor == resp.id
    assert event.data["first"] is True and event.data["previous_answer"] is None
    assert f"user:{scene.world.leyla.id}" in event.topics
    [logged] = actions_logged(runtime, "proposal.answer")
    assert (logged.actor_id, logged.subject_kind, logged.subject_id, logged.public) == (
        resp.id,
        "proposal",
        p.id,
        True,
    )
    assert logged.agency_id == scene.world.agency.id and logged.reason == ANSWER_TEXT
    assert logged.detail["status"] == "under_review" and logged.detail["previous_status"] is None


def test_every_status_change_is_kept_and_the_proposal_follows_the_latest(
    runtime: Runtime, scene: Scene, resp
):
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    first = answer(runtime, resp, p.id, "under_review")
    answer(runtime, resp, p.id, "accepted", "Accepted: night buses start in spring.")
    answer(runtime, resp, p.id, "implemented", "Night buses now run every 20 minutes.")

    with runtime.db.transaction() as s:
        history = answer_history(s, p.id)
    assert [h.status for h in history] == ["under_review", "accepted", "implemented"]
    stored = load(runtime, Proposal, p.id)
    assert stored.answer_status == "implemented"
    assert as_utc(stored.first_answered_at) == as_utc(first.created_at)  # the first answer stays the first
    events = envelopes(runtime, "proposal.answered")
    assert [(e.data["previous_answer"], e.data["answer"], e.data["first"]) for e in events] == [
        (None, "under_review", True),
        ("under_review", "accepted", False),
        ("accepted", "implemented", False),
    ]


def test_the_same_status_again_is_an_update_only_with_new_text(runtime: Runtime, scene: Scene, resp):
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    answer(runtime, resp, p.id, "accepted")

    with pytest.raises(Conflict) as refused:
        answer(
            runtime, resp, p.id, "accepted", f"  {ANSWER_TEXT}  "
        )  # the same words: nothing to tell anyone
    assert refused.value.code == "answer_unchanged"
    answer(runtime, resp, p.id, "accepted", "Accepted, and the budget is now approved.")

    with runtime.db.transaction() as s:
        assert [h.status for h in answer_history(s, p.id)] == ["accepted", "accepted"]
    assert len(envelopes(runtime, "proposal.answered")) == 2


def test_a_withdrawn_proposal_can_still_be_answered(runtime: Runtime, scene: Scene, resp):
    from civic.participation import actions

    p = proposal(runtime, scene.world.leyla, scene.consultation)
    with runtime.db.transaction() as s:
        actions.withdraw_proposal(s, scene.world.leyla, p.id)

    answer(runtime, resp, p.id, "rejected", "Withdrawn by its author; recorded as not pursued.")
    assert load(runtime, Proposal, p.id).answer_status == "rejected"


def test_a_responder_of_another_agency_is_refused_naming_the_missing_grant(runtime: Runtime, scene: Scene):
    other = responder(runtime, "Culture responder", scene.world.other_agency.id)
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    before = (snapshot(runtime), count(runtime, ProposalAnswer), count(runtime, OfficialAction))

    with pytest.raises(Forbidden) as refused:
        answer(runtime, other, p.id, "accepted")

    message = refused.value.message
    assert "responder" in message and "proposals.answer" in message
    assert f"agency {scene.world.agency.id}" in message
    assert (snapshot(runtime), count(runtime, ProposalAnswer), count(runtime, OfficialAction)) == before


@pytest.mark.parametrize(
    "who",
    ["convener", "moderator", "minister", "unit_responder", "expired", "revoked", "other_consultation"],
)
def test_only_an_active_responder_grant_covering_the_consultation_answers(
    runtime: Runtime, scene: Scene, who: str
):
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    if who == "unit_responder":  # one level below the consultation's agency: no reach upwards
        actor = responder(runtime, "Unit responder", w.unit.id)
    elif who in ("expired", "revoked", "other_consultation"):
        actor = responder(runtime, "Scoped", w.agency.id, Role.CONVENER)
        now = utcnow()
        grant = Grant(account_id=actor.id, role=Role.RESPONDER, granted_at=now - timedelta(days=10))
        if who == "expired":
            grant.agency_id, grant.ends_at = w.agency.id, now - timedelta(days=1)
        elif who == "revoked":
            grant.agency_id, grant.revoked_at = w.agency.id, now - timedelta(hours=1)
        else:
            grant.consultation_id = scene.pre_consultation.id
        with runtime.db.transaction() as s:
            s.add(grant)
    else:
        actor = getattr(w, who)

    with pytest.raises(Forbidden, match="responder"):
        answer(runtime, actor, p.id, "accepted")
    assert count(runtime, ProposalAnswer) == 0


def test_grants_on_the_consultation_or_an_ancestor_agency_are_enough(runtime: Runtime, scene: Scene):
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    ministry = responder(runtime, "Ministry responder", w.ministry.id)
    scoped = responder(runtime, "Consultation responder", w.agency.id, Role.CONVENER)
    with runtime.db.transaction() as s:
        s.add(
            Grant(
                account_id=scoped.id,
                role=Role.RESPONDER,
                consultation_id=scene.consultation.id,
                granted_at=utcnow(),
            )
        )

    answer(runtime, ministry, p.id, "under_review")
    answer(runtime, scoped, p.id, "accepted")

    with runtime.db.transaction() as s:
        assert [h.official_id for h in answer_history(s, p.id)] == [ministry.id, scoped.id]


def test_citizens_and_visitors_cannot_answer(runtime: Runtime, scene: Scene):
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    with pytest.raises(NotAuthenticated):
        answer(runtime, None, p.id, "accepted")
    with pytest.raises(Forbidden, match="Only officials"):
        answer(runtime, scene.world.kamal, p.id, "accepted")
    with pytest.raises(Forbidden):
        answer(runtime, scene.world.leyla, p.id, "accepted")  # not even its author
    assert count(runtime, ProposalAnswer) == 0


def test_a_hidden_or_pending_proposal_gets_no_public_answer(runtime: Runtime, scene: Scene, resp):
    w = scene.world
    hidden = proposal(runtime, w.leyla, scene.consultation)
    with runtime.db.transaction() as s:
        do_moderate_proposal(s, hidden.id, "hide", actor_id=w.moderator.id, reason="Personal data")
    pending = proposal(runtime, w.kamal, scene.pre_consultation, title="A pending idea")
    before = (snapshot(runtime), count(runtime, OfficialAction))

    for p in (hidden, pending):
        with pytest.raises(Conflict) as refused:
            answer(runtime, resp, p.id, "accepted")
        assert refused.value.code == "not_answerable"
    # An official who may not see it at all is told it does not exist, not that it cannot be answered.
    other = responder(runtime, "Culture responder", w.other_agency.id)
    with pytest.raises(NotFound):
        answer(runtime, other, pending.id, "accepted")
    with pytest.raises(NotFound):
        answer(runtime, resp, 999_999, "accepted")
    assert (snapshot(runtime), count(runtime, OfficialAction)) == before
    assert load(runtime, Proposal, hidden.id).answer_status is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "accepted"}, "text"),
        ({"status": "accepted", "text": "Too short"}, "text"),
        ({"status": "accepted", "text": "   " * 10}, "text"),
        ({"status": "maybe", "text": ANSWER_TEXT}, "status"),
        ({"text": ANSWER_TEXT}, "status"),
        ({"status": "accepted", "text": "x" * 10_001}, "text"),
        ({"status": "accepted", "text": ANSWER_TEXT, "official_id": 1}, "official_id"),
    ],
)
def test_an_answer_without_a_real_text_or_status_is_invalid(body: dict[str, object], field: str):
    with pytest.raises(ValidationError) as invalid:
        AnswerInput.model_validate(body)
    assert {e["loc"][0] for e in invalid.value.errors()} == {field}


def test_the_answer_text_is_trimmed_and_every_status_is_accepted():
    for status in ("under_review", "accepted", "partially_accepted", "rejected", "implemented"):
        data = AnswerInput.model_validate({"status": status, "text": f"  {ANSWER_TEXT}\n"})
        assert data.text == ANSWER_TEXT
