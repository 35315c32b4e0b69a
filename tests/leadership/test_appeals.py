"""Appeals: one per decision, by the author, decided by a different moderator; overturning restores."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from civic.errors import Conflict, Forbidden, NotAuthenticated, NotFound
from civic.leadership.appeals import decide_appeal, file_appeal, open_appeals
from civic.leadership.models import Appeal, ModerationCase, OfficialAction, Report
from civic.leadership.moderation import moderate_item
from civic.leadership.schemas import AppealDecisionInput, AppealInput, ItemDecisionInput
from civic.participation.models import Comment, Proposal
from tests.leadership.conftest import comment, established, load, outbox, proposal, report

APPEAL = AppealInput(text="I only quoted the timetable; please look again.")


def hidden_comment(runtime, scene, *, reported: bool = False):
    """A comment of Kamal's that the agency's moderator hid (after reports, if `reported`)."""
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    c = comment(runtime, scene.world.kamal, p.id)
    if reported:
        report(runtime, established(runtime, 1)[0], "comment", c.id)
    with runtime.db.transaction() as s:
        case = moderate_item(
            s,
            scene.moderator,
            ItemDecisionInput(item_kind="comment", item_id=c.id, decision="hide", reason="Looks like spam."),
        )
    return c, case


def appeal(runtime, who, case_id: int, data: AppealInput = APPEAL) -> Appeal:
    with runtime.db.transaction() as s:
        return file_appeal(s, who, case_id, data)


def judge(runtime, who, appeal_id: int, outcome: str, reason: str = "Checked the link.") -> Appeal:
    with runtime.db.transaction() as s:
        return decide_appeal(s, who, appeal_id, AppealDecisionInput(outcome=outcome, reason=reason))  # type: ignore[arg-type]


def test_the_author_appeals_once_and_another_moderator_overturns(runtime, scene):
    c, case = hidden_comment(runtime, scene, reported=True)

    filed = appeal(runtime, scene.world.kamal, case.id)
    assert (filed.state, filed.case_id, filed.appellant_id, filed.agency_id) == (
        "open",
        case.id,
        scene.world.kamal.id,
        scene.world.agency.id,
    )
    (appealed,) = outbox(runtime, "moderation.appealed")
    assert f"user:{scene.world.kamal.id}" in appealed["topics"]
    with pytest.raises(Conflict, match="already appealed"):
        appeal(runtime, scene.world.kamal, case.id)

    with pytest.raises(Forbidden, match="different moderator"):
        judge(runtime, scene.moderator, filed.id, "overturned")
    with pytest.raises(Forbidden):
        judge(runtime, scene.other_moderator, filed.id, "overturned")
    assert load(runtime, Appeal, filed.id).state == "open"

    decided = judge(runtime, scene.second_moderator, filed.id, "overturned", "It is a real timetable link.")

    assert (decided.state, decided.decided_by_id, decided.reason) == (
        "overturned",
        scene.second_moderator.id,
        "It is a real timetable link.",
    )
    restored = load(runtime, Comment, c.id)
    assert (restored.status, restored.moderation_reason) == ("published", None)
    with runtime.db.transaction() as s:
        assert {r.outcome for r in s.exec(select(Report).where(Report.case_id == case.id))} == {"dismissed"}
        entry = s.exec(select(OfficialAction).order_by(col(OfficialAction.id).desc())).first()
    assert (entry.action, entry.subject_kind, entry.subject_id, entry.actor_id, entry.public) == (
        "moderation.appeal_overturned",
        "appeal",
        filed.id,
        scene.second_moderator.id,
        True,
    )
    (event,) = outbox(runtime, "moderation.appeal_decided")
    assert (
        event["data"]["state"] == "overturned" and event["data"]["reason"] == "It is a real timetable link."
    )
    with pytest.raises(Conflict, match="already been decided"):
        judge(runtime, scene.second_moderator, filed.id, "upheld")


def test_an_upheld_appeal_leaves_the_item_hidden(runtime, scene):
    c, case = hidden_comment(runtime, scene)
    filed = appeal(runtime, scene.world.kamal, case.id)
    judge(runtime, scene.second_moderator, filed.id, "upheld", "It is advertising.")
    assert load(runtime, Comment, c.id).status == "hidden"
    assert load(runtime, Appeal, filed.id).state == "upheld"


def test_a_rejected_submission_can_be_appealed_and_published(runtime, scene):
    p = proposal(runtime, scene.world.leyla, scene.pre_consultation)
    with runtime.db.transaction() as s:
        case = moderate_item(
            s,
            scene.moderator,
            ItemDecisionInput(item_kind="proposal", item_id=p.id, decision="reject", reason="Out of scope."),
        )
    filed = appeal(runtime, scene.world.leyla, case.id)
    judge(runtime, scene.second_moderator, filed.id, "overturned", "Parks are in scope.")
    assert load(runtime, Proposal, p.id).status == "published"


def test_what_cannot_be_appealed(runtime, scene):
    w = scene.world
    _c, case = hidden_comment(runtime, scene)
    p = proposal(runtime, w.leyla, scene.consultation)
    report(runtime, w.kamal, "proposal", p.id)
    with runtime.db.transaction() as s:
        open_case = s.exec(select(Appeal)).all()  # none yet
        assert open_case == []
        reported = s.exec(
            select(ModerationCase).where(
                ModerationCase.item_kind == "proposal", ModerationCase.item_id == p.id
            )
        ).one()

    with pytest.raises(NotAuthenticated):
        appeal(runtime, None, case.id)
    with pytest.raises(NotFound):
        appeal(runtime, w.leyla, case.id)  # not her comment
    with pytest.raises(NotFound):
        appeal(runtime, w.kamal, 999_999)
    with pytest.raises(Conflict, match="hid or rejected"):
        appeal(runtime, w.leyla, reported.id)  # still open
    with runtime.db.transaction() as s:
        kept = moderate_item(
            s,
            scene.moderator,
            ItemDecisionInput(item_kind="proposal", item_id=p.id, decision="hide", reason="Duplicate."),
        )
        assert kept.id == reported.id
    with runtime.db.transaction() as s:
        restored = moderate_item(
            s,
            scene.moderator,
            ItemDecisionInput(
                item_kind="proposal", item_id=p.id, decision="restore", reason="Not a duplicate."
            ),
        )
    with pytest.raises(Conflict, match="hid or rejected"):
        appeal(runtime, w.leyla, restored.id)  # a restore is nothing to appeal
    with runtime.db.transaction() as s:
        assert s.exec(select(Appeal)).all() == []


def test_open_appeals_lists_what_the_moderator_may_decide(runtime, scene):
    _c, case = hidden_comment(runtime, scene)
    filed = appeal(runtime, scene.world.kamal, case.id)
    with runtime.db.transaction() as s:
        assert open_appeals(s, scene.moderator) == []  # their own decision
        assert [a.id for a in open_appeals(s, scene.second_moderator)] == [filed.id]
        assert [a.id for a in open_appeals(s, scene.second_moderator, scene.world.agency.id)] == [filed.id]
        assert open_appeals(s, scene.other_moderator) == []
        with pytest.raises(Forbidden):
            open_appeals(s, scene.other_moderator, scene.world.agency.id)
        with pytest.raises(Forbidden):
            open_appeals(s, scene.world.kamal)


def test_an_appeal_needs_words_and_a_decision_a_reason():
    with pytest.raises(ValidationError):
        AppealInput(text="no")
    with pytest.raises(ValidationError):
        AppealDecisionInput(outcome="overturned", reason="")
    with pytest.raises(ValidationError):
        AppealDecisionInput(outcome="maybe", reason="Because.")  # type: ignore[arg-type]
