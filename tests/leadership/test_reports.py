"""Reports: who may file them, what each weighs, and hiding an item once they weigh enough."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import select

from civic.clock import utcnow
from civic.errors import Conflict, Forbidden, NotAuthenticated, NotFound
from civic.leadership.models import ModerationCase, Report
from civic.leadership.reports import AUTO_HIDE_REASON, AUTO_HIDE_THRESHOLD, MIN_WEIGHT, report_weight
from civic.leadership.schemas import ReportInput
from civic.participation import actions
from civic.participation.models import Comment, Proposal
from tests.leadership.conftest import (
    comment,
    established,
    load,
    make_consultation,
    outbox,
    proposal,
    report,
    set_age,
)


def weight(runtime, account) -> float:
    with runtime.db.transaction() as s:
        return report_weight(s, account)


_fake_items = itertools.count(100_000)


def give_record(runtime, account, agency_id: int, upheld: int, dismissed: int) -> None:
    """Past reports already judged by moderators (leadership's own rows, the record's only source)."""
    with runtime.db.transaction() as s:
        for outcome in ["upheld"] * upheld + ["dismissed"] * dismissed:
            s.add(
                Report(
                    item_kind="comment",
                    item_id=next(_fake_items),
                    agency_id=agency_id,
                    consultation_id=1,
                    reporter_id=account.id,
                    reason="spam",
                    weight=1.0,
                    outcome=outcome,
                    created_at=utcnow(),
                )
            )


def reports_of(runtime, kind: str, item_id: int) -> int:
    with runtime.db.transaction() as s:
        return int(
            s.exec(
                select(func.count())
                .select_from(Report)
                .where(Report.item_kind == kind, Report.item_id == item_id)
            ).one()
        )


# ---- weights ---------------------------------------------------------------------------------


def test_a_fresh_account_weighs_little_and_an_established_one_about_one(runtime, world):
    assert weight(runtime, world.aysel) == 0.5  # new and unverified
    assert weight(runtime, world.leyla) == 0.75  # new, verified
    set_age(runtime, world.leyla, 90)
    assert weight(runtime, world.leyla) == 1.0
    set_age(runtime, world.leyla, 400)
    assert weight(runtime, world.leyla) == 1.25


def test_upheld_reports_raise_the_weight_and_dismissed_ones_lower_it(runtime, world):
    set_age(runtime, world.leyla, 90)
    set_age(runtime, world.kamal, 90)
    give_record(runtime, world.leyla, world.agency.id, upheld=3, dismissed=0)
    give_record(runtime, world.kamal, world.agency.id, upheld=0, dismissed=3)

    assert weight(runtime, world.leyla) == pytest.approx(1.9)  # 1 + 1.5 x (2 x 4/5 - 1)
    assert weight(runtime, world.kamal) == pytest.approx(MIN_WEIGHT)  # 1 - 0.9, floored

    give_record(runtime, world.leyla, world.agency.id, upheld=0, dismissed=2)
    assert weight(runtime, world.leyla) == pytest.approx(1.0 + 1.5 * (2 * 4 / 7 - 1), abs=1e-3)


def test_no_account_ever_weighs_as_much_as_the_threshold(runtime, world):
    """Every level, age and record, including a flawless reporter of years: always below 3."""
    with runtime.db.transaction() as s:
        leyla = s.get(type(world.leyla), world.leyla.id)
        seen = []
        for level, days, (upheld, dismissed) in itertools.product(
            ["unverified", "verified", "esignature"],
            [0, 30, 365, 3650],
            [(0, 0), (1, 0), (50, 0), (0, 50), (5, 5)],
        ):
            leyla.verification_level = level
            leyla.created_at = utcnow() - timedelta(days=days)
            for old in s.exec(select(Report).where(Report.reporter_id == leyla.id)).all():
                s.delete(old)
            s.flush()
            for i, outcome in enumerate(["upheld"] * upheld + ["dismissed"] * dismissed):
                s.add(
                    Report(
                        item_kind="proposal",
                        item_id=900_000 + i,
                        agency_id=world.agency.id,
                        consultation_id=1,
                        reporter_id=leyla.id,
                        reason="spam",
                        weight=1,
                        outcome=outcome,
                        created_at=utcnow(),
                    )
                )
            s.flush()
            seen.append(report_weight(s, leyla))
        s.rollback()
    assert max(seen) == 2.5 < AUTO_HIDE_THRESHOLD
    assert min(seen) == MIN_WEIGHT > 0


# ---- auto-hiding -----------------------------------------------------------------------------


def test_three_ordinary_reports_hide_a_proposal_and_queue_it(runtime, scene):
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    a, b, c = established(runtime, 3)

    report(runtime, a, "proposal", p.id)
    report(runtime, b, "proposal", p.id, "offensive")
    assert load(runtime, Proposal, p.id).status == "published"  # 2.0 of 3.0
    report(runtime, c, "proposal", p.id)

    hidden = load(runtime, Proposal, p.id)
    assert hidden.status == "hidden"
    assert hidden.moderation_reason == AUTO_HIDE_REASON
    with runtime.db.transaction() as s:
        (case,) = s.exec(select(ModerationCase)).all()
    assert (case.origin, case.state, case.auto_hidden) == ("reports", "open", True)
    assert (case.report_count, case.report_weight) == (3, 3.0)
    assert (case.agency_id, case.author_id, case.title) == (
        scene.world.agency.id,
        scene.world.leyla.id,
        p.title,
    )

    filed = outbox(runtime, "report.filed")
    assert [e["data"]["report_weight"] for e in filed] == [1.0, 2.0, 3.0]
    agency = scene.world.agency.id
    assert all(e["topics"] == [f"moderation:agency:{agency}", f"dashboard:agency:{agency}"] for e in filed)
    assert len(outbox(runtime, "moderation.case_opened")) == 1
    (auto,) = outbox(runtime, "moderation.auto_hidden")
    assert auto["data"]["case_id"] == case.id and auto["actor"] is None
    assert f"user:{scene.world.leyla.id}" in auto["topics"]
    assert len(outbox(runtime, "proposal.hidden")) == 1


def test_one_account_alone_never_hides_content(runtime, scene):
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    star = established(runtime, 1, "Star")[0]
    give_record(runtime, star, scene.world.agency.id, upheld=100, dismissed=0)
    set_age(runtime, star, 2000)

    r = report(runtime, star, "proposal", p.id)

    assert r.weight == 2.5
    assert load(runtime, Proposal, p.id).status == "published"
    assert outbox(runtime, "moderation.auto_hidden") == []


def test_a_reliable_reporter_hides_with_one_more_report_instead_of_two(runtime, scene):
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    reliable = established(runtime, 1, "Reliable")[0]
    give_record(runtime, reliable, scene.world.agency.id, upheld=5, dismissed=0)
    (ordinary,) = established(runtime, 1, "Ordinary")

    report(runtime, reliable, "proposal", p.id)
    report(runtime, ordinary, "proposal", p.id)

    assert load(runtime, Proposal, p.id).status == "hidden"


def test_fresh_accounts_need_more_reports(runtime, scene):
    p = proposal(runtime, scene.world.rashad, scene.consultation)
    for who in (scene.world.aysel, scene.world.leyla, scene.world.kamal):  # 0.5 + 0.75 + 0.75
        report(runtime, who, "proposal", p.id)
    assert load(runtime, Proposal, p.id).status == "published"


def test_reported_comments_are_hidden_and_the_thread_counts_follow(runtime, scene):
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    c = comment(runtime, scene.world.kamal, p.id)
    assert load(runtime, Proposal, p.id).comment_count == 1

    for who in established(runtime, 3):
        report(runtime, who, "comment", c.id, "spam")

    hidden = load(runtime, Comment, c.id)
    assert (hidden.status, hidden.moderation_reason) == ("hidden", AUTO_HIDE_REASON)
    assert load(runtime, Proposal, p.id).comment_count == 0
    with runtime.db.transaction() as s:
        (case,) = s.exec(select(ModerationCase)).all()
    assert (case.item_kind, case.item_id, case.author_id, case.title) == (
        "comment",
        c.id,
        scene.world.kamal.id,
        "This is spam, buy now.",
    )
    assert len(outbox(runtime, "comment.hidden")) == 1


def test_a_withdrawn_proposal_is_queued_but_not_hidden(runtime, scene):
    p = proposal(runtime, scene.world.leyla, scene.consultation)
    with runtime.db.transaction() as s:
        actions.withdraw_proposal(s, scene.world.leyla, p.id)
    for who in established(runtime, 3):
        report(runtime, who, "proposal", p.id)
    assert load(runtime, Proposal, p.id).status == "withdrawn"
    with runtime.db.transaction() as s:
        (case,) = s.exec(select(ModerationCase)).all()
    assert case.report_count == 3 and not case.auto_hidden


# ---- refusals --------------------------------------------------------------------------------


def test_who_may_not_report(runtime, scene):
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)

    with pytest.raises(NotAuthenticated):
        report(runtime, None, "proposal", p.id)
    with pytest.raises(Forbidden, match="e-citizens"):
        report(runtime, w.moderator, "proposal", p.id)
    with pytest.raises(Conflict, match="wrote yourself"):
        report(runtime, w.leyla, "proposal", p.id)
    report(runtime, w.kamal, "proposal", p.id)
    with pytest.raises(Conflict, match="already reported") as twice:
        report(runtime, w.kamal, "proposal", p.id, "offensive")
    assert twice.value.code == "already_reported"
    assert reports_of(runtime, "proposal", p.id) == 1


def test_items_that_are_not_public_cannot_be_reported(runtime, scene):
    w = scene.world
    pending = proposal(runtime, w.leyla, scene.pre_consultation)
    with runtime.db.transaction() as s:
        draft = make_consultation(s, w.convener, publish=False)
    p = proposal(runtime, w.leyla, scene.consultation)
    c = comment(runtime, w.rashad, p.id)
    with runtime.db.transaction() as s:
        actions.delete_comment(s, w.rashad, c.id)

    for kind, item_id in [
        ("proposal", pending.id),
        ("comment", c.id),
        ("proposal", 999_999),
        ("comment", 999_999),
    ]:
        with pytest.raises(NotFound):
            report(runtime, w.kamal, kind, item_id)
    assert draft.status == "draft"
    assert reports_of(runtime, "proposal", pending.id) == 0
    assert outbox(runtime, "report.filed") == []


def test_a_report_needs_a_known_reason():
    assert (
        ReportInput(reason="personal_data", note="  shows my phone number  ").note == "shows my phone number"
    )
    with pytest.raises(ValidationError):
        ReportInput(reason="dislike")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ReportInput(reason="spam", note="x" * 501)


def test_a_moderator_confirming_an_automatic_hide_gives_the_author_their_reason(runtime, scene):
    from civic.leadership.moderation import decide
    from civic.leadership.schemas import DecisionInput

    p = proposal(runtime, scene.world.leyla, scene.consultation)
    for reporter in established(runtime, 3):
        report(runtime, reporter, "proposal", p.id)
    assert load(runtime, Proposal, p.id).moderation_reason == AUTO_HIDE_REASON
    with runtime.db.transaction() as s:
        (case,) = s.exec(select(ModerationCase)).all()
        decide(
            s, scene.moderator, case.id, DecisionInput(decision="hide", reason="Advertising, not a proposal.")
        )

    hidden = load(runtime, Proposal, p.id)
    assert (hidden.status, hidden.moderation_reason) == ("hidden", "Advertising, not a proposal.")
    assert len(outbox(runtime, "proposal.hidden")) == 1, "no second hide: the status did not change"


def test_a_citizen_s_engagement_level_adds_its_report_weight_bonus_but_never_reaches_the_threshold(
    runtime, world
):
    from civic.identity.standing import do_set_standing, privileges

    set_age(runtime, world.leyla, 90)
    assert weight(runtime, world.leyla) == 1.0
    for level in range(5):
        with runtime.db.transaction() as s:
            do_set_standing(s, world.leyla.id, level, "test")
        assert weight(runtime, world.leyla) == pytest.approx(1.0 + privileges(level).report_weight_bonus)
    assert privileges(4).report_weight_bonus > 0
    give_record(runtime, world.leyla, world.agency.id, upheld=20, dismissed=0)
    assert weight(runtime, world.leyla) == AUTO_HIDE_THRESHOLD * 5 / 6, "capped below the threshold"
