"""The moderation queue and decisions: filters and paging, approve/reject/hide/restore/keep with a
reason, the action log and events, scope (403 outside one's agency, expired or revoked grants),
bulk decisions, direct moderation, and two moderators deciding the same case at once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from civic.clock import utcnow
from civic.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated
from civic.identity.models import Account, Grant, Role
from civic.leadership import moderation
from civic.leadership.models import ModerationCase, OfficialAction, Report
from civic.leadership.moderation import CaseAlreadyDecided, decide, decide_bulk, moderate_item, queue
from civic.leadership.reports import report_weight
from civic.leadership.schemas import BulkDecisionInput, DecisionInput, ItemDecisionInput
from civic.participation.models import Comment, Proposal
from tests.conftest import BACKEND
from tests.factories import raise_standing
from tests.leadership.conftest import comment, established, load, official, outbox, proposal, report, snapshot


def pending_case(
    runtime, scene, title: str = "More buses at night", author: Account | None = None
) -> tuple[Proposal, ModerationCase]:
    p = proposal(runtime, author or scene.world.leyla, scene.pre_consultation, title=title)
    with runtime.db.transaction() as s:
        case = moderation.open_pre_moderation_case(s, p.id)
    return p, case


def reported_case(runtime, scene, kind: str = "proposal", reporters: int = 3) -> tuple[int, ModerationCase]:
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    item_id = p.id if kind == "proposal" else comment(runtime, scene.world.kamal, p.id).id
    for who in established(runtime, reporters, "Reporter"):
        report(runtime, who, kind, item_id)
    with runtime.db.transaction() as s:
        case = s.exec(
            select(ModerationCase).where(ModerationCase.item_kind == kind, ModerationCase.item_id == item_id)
        ).one()
    return item_id, case


def run_decide(
    runtime, actor, case_id: int, decision: str, reason: str = "Breaks the house rules."
) -> ModerationCase:
    with runtime.db.transaction() as s:
        return decide(s, actor, case_id, DecisionInput(decision=decision, reason=reason))  # type: ignore[arg-type]


def log_rows(runtime) -> list[OfficialAction]:
    with runtime.db.transaction() as s:
        return list(s.exec(select(OfficialAction).order_by(col(OfficialAction.id))).all())


# ---- pre-moderation --------------------------------------------------------------------------


def test_a_pending_proposal_is_queued_once_and_approved_with_a_reason(runtime, scene):
    p, case = pending_case(runtime, scene)
    with runtime.db.transaction() as s:
        assert moderation.open_pre_moderation_case(s, p.id).id == case.id  # idempotent
    assert (case.origin, case.state, case.title) == ("pre_moderation", "open", p.title)

    decided = run_decide(runtime, scene.moderator, case.id, "approve", "Fits the consultation.")

    assert load(runtime, Proposal, p.id).status == "published"
    assert (decided.state, decided.decision, decided.reason, decided.decided_by_id) == (
        "decided",
        "approve",
        "Fits the consultation.",
        scene.moderator.id,
    )
    (event,) = outbox(runtime, "moderation.decided")
    assert event["data"]["reason"] == "Fits the consultation." and event["actor"] == scene.moderator.id
    assert set(event["topics"]) == {
        f"moderation:agency:{scene.world.agency.id}",
        f"user:{scene.world.leyla.id}",
    }
    assert len(outbox(runtime, "proposal.approved")) == 1
    assert len(outbox(runtime, "moderation.case_opened")) == 1
    (entry,) = log_rows(runtime)
    assert (entry.action, entry.subject_kind, entry.subject_id, entry.public, entry.actor_id) == (
        "moderation.approve",
        "proposal",
        p.id,
        True,
        scene.moderator.id,
    )
    with runtime.db.transaction() as s:
        assert moderation.open_pre_moderation_case(s, p.id) is None  # no longer waiting


def test_rejecting_a_submission_keeps_the_reason_for_its_author_and_the_log_private(runtime, scene):
    p, case = pending_case(runtime, scene)
    run_decide(runtime, scene.moderator, case.id, "reject", "Advertising is not a proposal.")
    rejected = load(runtime, Proposal, p.id)
    assert (rejected.status, rejected.moderation_reason) == ("rejected", "Advertising is not a proposal.")
    (entry,) = log_rows(runtime)
    assert entry.public is False  # it was never public content


def test_a_pending_proposal_is_not_kept(runtime, scene):
    _p, case = pending_case(runtime, scene)
    with pytest.raises(Conflict, match="approved or rejected"):
        run_decide(runtime, scene.moderator, case.id, "keep")


def test_a_decision_without_a_reason_is_refused_by_the_schema():
    for bad in (
        {"decision": "hide"},
        {"decision": "hide", "reason": "   "},
        {"decision": "hide", "reason": "no"},
    ):
        with pytest.raises(ValidationError):
            DecisionInput(**bad)
    with pytest.raises(ValidationError):
        DecisionInput(decision="delete", reason="Not allowed here.")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        BulkDecisionInput(case_ids=[1], decision="hide")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        ItemDecisionInput(item_kind="comment", item_id=1, decision="hide", reason="")


# ---- reported items --------------------------------------------------------------------------


def test_keeping_an_auto_hidden_item_restores_it_and_dismisses_the_reports(runtime, scene):
    item_id, case = reported_case(runtime, scene)
    assert load(runtime, Proposal, item_id).status == "hidden"
    reporters = [r.reporter_id for r in _reports(runtime, case.id)]

    run_decide(runtime, scene.moderator, case.id, "keep", "Blunt but within the rules.")

    restored = load(runtime, Proposal, item_id)
    assert (restored.status, restored.moderation_reason) == ("published", None)
    assert {r.outcome for r in _reports(runtime, case.id)} == {"dismissed"}
    assert len(outbox(runtime, "proposal.restored")) == 1
    with runtime.db.transaction() as s:
        assert report_weight(s, s.get(Account, reporters[0])) < 1.0  # their next report weighs less


def test_hiding_an_auto_hidden_item_confirms_it_and_upholds_the_reports(runtime, scene):
    item_id, case = reported_case(runtime, scene, "comment")
    run_decide(runtime, scene.moderator, case.id, "hide", "Spam link.")
    assert load(runtime, Comment, item_id).status == "hidden"
    assert {r.outcome for r in _reports(runtime, case.id)} == {"upheld"}
    assert len(outbox(runtime, "comment.hidden")) == 1  # hidden once, by the reports
    (entry,) = log_rows(runtime)
    assert (entry.action, entry.subject_kind, entry.reason, entry.public) == (
        "moderation.hide",
        "comment",
        "Spam link.",
        True,
    )


def test_a_reported_item_not_yet_hidden_is_hidden_by_the_decision(runtime, scene):
    item_id, case = reported_case(runtime, scene, reporters=1)
    assert load(runtime, Proposal, item_id).status == "published"
    run_decide(runtime, scene.moderator, case.id, "hide", "Personal data of a neighbour.")
    hidden = load(runtime, Proposal, item_id)
    assert (hidden.status, hidden.moderation_reason) == ("hidden", "Personal data of a neighbour.")


def _reports(runtime, case_id: int) -> list[Report]:
    with runtime.db.transaction() as s:
        return list(s.exec(select(Report).where(Report.case_id == case_id)).all())


# ---- scope -----------------------------------------------------------------------------------


def test_a_moderator_of_another_agency_is_refused_and_nothing_is_written(runtime, scene):
    _item_id, case = reported_case(runtime, scene)
    before = snapshot(runtime)

    with pytest.raises(Forbidden, match=f"moderator grant for agency {scene.world.agency.id}"):
        run_decide(runtime, scene.other_moderator, case.id, "hide")
    with pytest.raises(Forbidden), runtime.db.transaction() as s:
        moderation.get_case(s, scene.other_moderator, case.id)
    with pytest.raises(Forbidden), runtime.db.transaction() as s:
        queue(s, scene.other_moderator, agency_id=scene.world.agency.id)
    with runtime.db.transaction() as s:
        assert queue(s, scene.other_moderator).total == 0
    with pytest.raises(Forbidden):
        run_decide(runtime, scene.world.convener, case.id, "hide")  # an official without the role
    with pytest.raises(NotAuthenticated):
        run_decide(runtime, None, case.id, "hide")

    assert snapshot(runtime) == before
    assert load(runtime, ModerationCase, case.id).state == "open"
    assert log_rows(runtime) == []


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_an_expired_or_revoked_grant_does_not_count(runtime, scene, how):
    _item_id, case = reported_case(runtime, scene)
    with runtime.db.transaction() as s:
        grant = s.exec(select(Grant).where(Grant.account_id == scene.moderator.id)).one()
        if how == "expired":
            grant.ends_at = utcnow() - timedelta(minutes=1)
        else:
            grant.revoked_at = utcnow() - timedelta(minutes=1)
        s.add(grant)

    with pytest.raises(Forbidden, match="needs an active moderator grant"):
        run_decide(runtime, scene.moderator, case.id, "hide")
    assert load(runtime, ModerationCase, case.id).state == "open"


# ---- the queue -------------------------------------------------------------------------------


def test_the_queue_filters_and_pages(runtime, scene):
    w = scene.world
    # Three Members (level 2: 10 proposals a day each, and still pre-moderated) write the 22.
    authors = [w.leyla, w.aysel, w.rashad]
    with runtime.db.transaction() as s:
        for author in authors:
            raise_standing(s, author, 2)
    for i in range(22):
        pending_case(runtime, scene, title=f"Pending proposal {i}", author=authors[i % 3])
    _cid, comment_case = reported_case(runtime, scene, "comment", reporters=1)
    other = proposal(runtime, w.kamal, scene.other_consultation)
    report(runtime, w.leyla, "proposal", other.id)

    def q(**kw):
        with runtime.db.transaction() as s:
            return queue(s, scene.moderator, **kw)

    first = q()
    assert (first.total, first.pages, len(first.items)) == (23, 2, 20)
    assert [c.title for c in first.items[:2]] == ["Pending proposal 0", "Pending proposal 1"]  # oldest first
    assert len(q(page=2).items) == 3 and q(page=99).page == 2
    assert q(origin="reports").total == 1 and q(item_kind="comment").items[0].id == comment_case.id
    assert q(consultation_id=scene.pre_consultation.id).total == 22
    assert q(agency_id=w.agency.id).total == 23
    assert q(agency_id=w.agency.id, origin="pre_moderation").total == 22
    run_decide(runtime, scene.moderator, comment_case.id, "keep")
    assert q(state="decided").items[0].id == comment_case.id
    assert q(state="all").total == 23 and q().total == 22
    with runtime.db.transaction() as s:
        assert {c.consultation_id for c in queue(s, scene.other_moderator).items} == {
            scene.other_consultation.id
        }
    with pytest.raises(InvalidInput):
        q(state="closed")
    with pytest.raises(InvalidInput):
        q(origin="rumour")
    with pytest.raises(Forbidden):
        q(consultation_id=scene.other_consultation.id)


def test_the_ministry_moderator_sees_every_agency_below(runtime, scene):
    pending_case(runtime, scene)
    with runtime.db.transaction() as s:
        chief = official(s, runtime, "Chief moderator", scene.world.ministry.id, Role.MODERATOR)
        assert queue(s, chief).total == 1
        assert queue(s, chief, agency_id=scene.world.agency.id).total == 1


# ---- bulk and direct -------------------------------------------------------------------------


def test_bulk_decisions_go_through_one_by_one(runtime, scene):
    with runtime.db.transaction() as s:  # a Member: more than a newcomer's 2 proposals a day
        raise_standing(s, scene.world.leyla, 2)
    a_p, a = pending_case(runtime, scene, "First pending")
    b_p, b = pending_case(runtime, scene, "Second pending")
    taken_p, taken = pending_case(runtime, scene, "Already decided")
    run_decide(runtime, scene.second_moderator, taken.id, "approve", "Looks fine.")
    other = proposal(runtime, scene.world.kamal, scene.other_consultation)
    report(runtime, scene.world.leyla, "proposal", other.id)
    with runtime.db.transaction() as s:
        foreign = s.exec(select(ModerationCase).where(ModerationCase.item_id == other.id)).one()

    with runtime.db.transaction() as s:
        outcomes = decide_bulk(
            s,
            scene.moderator,
            BulkDecisionInput(
                case_ids=[a.id, taken.id, foreign.id, 999_999, b.id, a.id],
                decision="reject",
                reason="Duplicates.",
            ),
        )

    assert [(o.case_id, o.ok, o.code) for o in outcomes] == [
        (a.id, True, None),
        (taken.id, False, "already_decided"),
        (foreign.id, False, "forbidden"),
        (999_999, False, "not_found"),
        (b.id, True, None),
    ]
    assert outcomes[1].case is not None and outcomes[1].case.decision == "approve"
    assert [load(runtime, Proposal, i).status for i in (a_p.id, b_p.id, taken_p.id)] == [
        "rejected",
        "rejected",
        "published",
    ]
    assert load(runtime, ModerationCase, foreign.id).state == "open"
    assert len(outbox(runtime, "moderation.decided")) == 3  # taken's own, then a and b
    with pytest.raises(Forbidden), runtime.db.transaction() as s:
        decide_bulk(s, scene.world.leyla, BulkDecisionInput(case_ids=[b.id], decision="keep", reason="Hmm."))


def test_hiding_an_item_directly_opens_and_decides_a_case(runtime, scene):
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    c = comment(runtime, scene.world.kamal, p.id)
    data = ItemDecisionInput(
        item_kind="comment", item_id=c.id, decision="hide", reason="Insults another resident."
    )

    with runtime.db.transaction() as s:
        case = moderate_item(s, scene.moderator, data)

    assert (case.origin, case.state, case.decision, case.author_id) == (
        "direct",
        "decided",
        "hide",
        scene.world.kamal.id,
    )
    hidden = load(runtime, Comment, c.id)
    assert (hidden.status, hidden.moderation_reason) == ("hidden", "Insults another resident.")
    with pytest.raises(Conflict, match="cannot be hidden"), runtime.db.transaction() as s:
        moderate_item(s, scene.moderator, data)
    with runtime.db.transaction() as s:
        assert len(s.exec(select(ModerationCase)).all()) == 1
    with pytest.raises(Forbidden), runtime.db.transaction() as s:
        moderate_item(s, scene.other_moderator, data.model_copy(update={"decision": "restore"}))
    with runtime.db.transaction() as s:
        restored = moderate_item(s, scene.moderator, data.model_copy(update={"decision": "restore"}))
    assert restored.id != case.id and load(runtime, Comment, c.id).status == "published"


def test_direct_moderation_of_a_reported_item_decides_its_open_case(runtime, scene):
    item_id, case = reported_case(runtime, scene, reporters=1)
    with runtime.db.transaction() as s:
        decided = moderate_item(
            s,
            scene.moderator,
            ItemDecisionInput(item_kind="proposal", item_id=item_id, decision="hide", reason="Off topic."),
        )
    assert decided.id == case.id and decided.origin == "reports"
    assert {r.outcome for r in _reports(runtime, case.id)} == {"upheld"}


def test_a_comment_cannot_be_approved(runtime, scene):
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    c = comment(runtime, scene.world.kamal, p.id)
    with pytest.raises(Conflict), runtime.db.transaction() as s:
        moderate_item(
            s,
            scene.moderator,
            ItemDecisionInput(item_kind="comment", item_id=c.id, decision="approve", reason="Fine."),
        )


# ---- two moderators at once ------------------------------------------------------------------


def test_the_second_decision_on_a_case_gets_409_with_the_current_state(runtime, scene):
    _p, case = pending_case(runtime, scene)
    run_decide(runtime, scene.moderator, case.id, "approve", "Good idea.")

    with pytest.raises(CaseAlreadyDecided) as lost:
        run_decide(runtime, scene.second_moderator, case.id, "reject", "Too late.")

    assert isinstance(lost.value, Conflict) and lost.value.code == "already_decided"
    assert (lost.value.case.decision, lost.value.case.reason, lost.value.case.decided_by_id) == (
        "approve",
        "Good idea.",
        scene.moderator.id,
    )
    assert len(outbox(runtime, "moderation.decided")) == 1
    assert len(log_rows(runtime)) == 1


@pytest.mark.skipif(BACKEND != "postgres", reason="row locks across connections: the PostgreSQL pass")
def test_two_moderators_deciding_at_once_one_wins_the_other_waits_then_gets_409(runtime, scene):
    """The winner holds its transaction open after deciding; the loser, started meanwhile, blocks
    on the row lock, then sees the committed decision."""
    p, case = pending_case(runtime, scene)
    winner_decided = threading.Event()
    results: dict[str, object] = {}

    def winner() -> None:
        with runtime.db.transaction() as s:
            decide(s, scene.moderator, case.id, DecisionInput(decision="approve", reason="First in."))
            winner_decided.set()
            time.sleep(0.6)  # still uncommitted: the loser must be waiting on the lock

    def loser() -> None:
        winner_decided.wait(10)
        started = time.monotonic()
        try:
            with runtime.db.transaction() as s:
                decide(s, scene.second_moderator, case.id, DecisionInput(decision="reject", reason="Second."))
            results["loser"] = "won?!"
        except CaseAlreadyDecided as exc:
            results["loser"] = exc.case.decision
        results["waited"] = time.monotonic() - started

    threads = [threading.Thread(target=winner), threading.Thread(target=loser)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert results["loser"] == "approve"
    assert results["waited"] > 0.3  # type: ignore[operator]
    assert load(runtime, Proposal, p.id).status == "published"
    assert len(outbox(runtime, "moderation.decided")) == 1
    assert len(log_rows(runtime)) == 1


@pytest.mark.skipif(BACKEND != "postgres", reason="row locks across connections: the PostgreSQL pass")
def test_many_moderators_racing_on_one_case_make_one_decision(runtime, scene):
    item_id, case = reported_case(runtime, scene)
    moderators = [scene.moderator, scene.second_moderator] * 3
    barrier = threading.Barrier(len(moderators), timeout=30)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        barrier.wait()
        decision = "hide" if i % 2 else "keep"
        try:
            with runtime.db.transaction() as s:
                decide(s, moderators[i], case.id, DecisionInput(decision=decision, reason="Racing."))  # type: ignore[arg-type]
            result = "won"
        except CaseAlreadyDecided:
            result = "409"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(moderators))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(outcomes) == ["409"] * 5 + ["won"]
    assert len(outbox(runtime, "moderation.decided")) == 1
    decided = load(runtime, ModerationCase, case.id)
    expected = "hidden" if decided.decision == "hide" else "published"
    assert load(runtime, Proposal, item_id).status == expected
