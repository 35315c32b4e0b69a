"""Blocking an account hides what it wrote in the moderator's agency subtree, in one action; lifting
the block restores exactly what the block hid."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlmodel import col, select

from civic.errors import Conflict, Forbidden, NotFound
from civic.leadership.blocks import block_account, hide_if_blocked, unblock_account
from civic.leadership.models import AccountBlock, ModerationCase, OfficialAction
from civic.leadership.moderation import decide, moderate_item
from civic.leadership.schemas import BlockInput, DecisionInput, ItemDecisionInput, ReasonInput
from civic.participation.models import Comment, Proposal
from tests.factories import raise_standing
from tests.leadership.conftest import comment, load, make_consultation, outbox, proposal, report, snapshot


def block(runtime, who, account_id: int, agency_id: int, reason: str = "Spam campaign.") -> AccountBlock:
    with runtime.db.transaction() as s:
        return block_account(s, who, account_id, BlockInput(agency_id=agency_id, reason=reason))


def unblock(runtime, who, account_id: int, reason: str = "Appeal accepted.") -> AccountBlock:
    with runtime.db.transaction() as s:
        return unblock_account(s, who, account_id, ReasonInput(reason=reason))


def hide(runtime, who, kind: str, item_id: int, reason: str = "Off topic.") -> None:
    with runtime.db.transaction() as s:
        moderate_item(
            s, who, ItemDecisionInput(item_kind=kind, item_id=item_id, decision="hide", reason=reason)
        )


@pytest.fixture
def writings(runtime, scene):
    """What Kamal wrote: two proposals and two comments in the agency, one proposal in its unit, one
    in the culture agency, and a comment a moderator had already hidden."""
    w = scene.world
    with runtime.db.transaction() as s:
        unit_consultation = make_consultation(s, w.unit_convener, title="Bus stops of the unit")
        raise_standing(s, w.kamal, 2)  # a Member: four proposals in a day are past a newcomer's limit
    p1 = proposal(runtime, w.kamal, scene.consultation, title="Kamal's first")
    p2 = proposal(runtime, w.kamal, scene.consultation, title="Kamal's second")
    theirs = proposal(runtime, w.leyla, scene.consultation, title="Leyla's")
    c1 = comment(runtime, w.kamal, theirs.id, "First comment of Kamal")
    c2 = comment(runtime, w.kamal, p1.id, "Second comment of Kamal")
    earlier = comment(runtime, w.kamal, theirs.id, "Hidden before the block")
    hide(runtime, scene.moderator, "comment", earlier.id)
    in_unit = proposal(runtime, w.kamal, unit_consultation, title="Kamal's in the unit")
    elsewhere = proposal(runtime, w.kamal, scene.other_consultation, title="Kamal's at the museum")
    return {
        "p1": p1,
        "p2": p2,
        "theirs": theirs,
        "c1": c1,
        "c2": c2,
        "earlier": earlier,
        "in_unit": in_unit,
        "elsewhere": elsewhere,
        "unit_consultation": unit_consultation,
    }


def status(runtime, item) -> str:
    return load(runtime, type(item), item.id).status


def test_a_block_hides_everything_written_in_the_subtree_and_lifting_it_restores_exactly_that(
    runtime, scene, writings
):
    w, it = scene.world, writings

    b = block(runtime, scene.moderator, w.kamal.id, w.agency.id)

    expected = [
        {"kind": "proposal", "id": it["p1"].id},
        {"kind": "comment", "id": it["c2"].id},
        {"kind": "proposal", "id": it["p2"].id},
        {"kind": "comment", "id": it["c1"].id},
        {"kind": "proposal", "id": it["in_unit"].id},
    ]
    assert sorted(b.hidden, key=str) == sorted(expected, key=str)
    for key in ("p1", "p2", "c1", "c2", "in_unit", "earlier"):
        assert status(runtime, it[key]) == "hidden", key
    assert load(runtime, Proposal, it["p1"].id).moderation_reason == "Spam campaign."
    assert status(runtime, it["elsewhere"]) == "published"  # another agency's consultation
    assert status(runtime, it["theirs"]) == "published"
    (blocked,) = outbox(runtime, "moderation.account_blocked")
    assert blocked["data"]["hidden_count"] == 5 and f"user:{w.kamal.id}" in blocked["topics"]
    assert len(outbox(runtime, "proposal.hidden")) == 3

    lifted = unblock(runtime, scene.moderator, w.kamal.id)

    assert lifted.lifted_at is not None and lifted.lifted_by_id == scene.moderator.id
    for key in ("p1", "p2", "c1", "c2", "in_unit"):
        assert status(runtime, it[key]) == "published", key
    assert status(runtime, it["earlier"]) == "hidden"  # a moderator's own decision stands
    (unblocked,) = outbox(runtime, "moderation.account_unblocked")
    assert unblocked["data"]["hidden_count"] == 5
    with runtime.db.transaction() as s:
        actions = [a.action for a in s.exec(select(OfficialAction).order_by(col(OfficialAction.id)))]
        logged = s.exec(select(OfficialAction).where(OfficialAction.action == "moderation.block")).one()
    assert actions[-2:] == ["moderation.block", "moderation.unblock"]
    assert (logged.subject_kind, logged.subject_id, logged.public) == ("account", w.kamal.id, False)


def test_lifting_a_block_keeps_what_a_moderator_decided_to_hide_meanwhile(runtime, scene, writings):
    w, it = scene.world, writings
    report(runtime, w.leyla, "proposal", it["p2"].id)  # an open case on p2
    block(runtime, scene.moderator, w.kamal.id, w.agency.id)
    with runtime.db.transaction() as s:
        case = s.exec(
            select(ModerationCase).where(
                ModerationCase.item_kind == "proposal", ModerationCase.item_id == it["p2"].id
            )
        ).one()
        decide(s, scene.second_moderator, case.id, DecisionInput(decision="hide", reason="Spam, confirmed."))

    unblock(runtime, scene.moderator, w.kamal.id)

    assert status(runtime, it["p2"]) == "hidden"
    assert status(runtime, it["p1"]) == "published"


def test_what_a_blocked_account_writes_meanwhile_is_hidden_and_later_restored(runtime, scene, writings):
    w, it = scene.world, writings
    block(runtime, scene.moderator, w.kamal.id, w.agency.id)
    fresh = proposal(runtime, w.kamal, scene.consultation, title="Written while blocked")
    museum = proposal(runtime, w.kamal, scene.other_consultation, title="Museum, while blocked")
    reply = comment(runtime, w.leyla, it["theirs"].id, "Leyla is not blocked")

    with runtime.db.transaction() as s:
        assert hide_if_blocked(s, "proposal", fresh.id, w.agency.id, w.kamal.id) is True
        assert hide_if_blocked(s, "proposal", fresh.id, w.agency.id, w.kamal.id) is False  # replayed
        assert hide_if_blocked(s, "proposal", museum.id, w.other_agency.id, w.kamal.id) is False
        assert hide_if_blocked(s, "comment", reply.id, w.agency.id, w.leyla.id) is False

    assert status(runtime, fresh) == "hidden"
    assert status(runtime, museum) == "published"
    assert status(runtime, reply) == "published"
    with runtime.db.transaction() as s:
        b = s.exec(select(AccountBlock)).one()
        assert {"kind": "proposal", "id": fresh.id} in b.hidden

    unblock(runtime, scene.moderator, w.kamal.id)
    assert status(runtime, fresh) == "published"


def test_refused_blocks_write_nothing(runtime, scene, writings):
    w = scene.world
    before = snapshot(runtime)

    with pytest.raises(Forbidden, match=f"agency {w.agency.id}"):
        block(runtime, scene.other_moderator, w.kamal.id, w.agency.id)
    with pytest.raises(Forbidden):
        block(runtime, w.convener, w.kamal.id, w.agency.id)
    with pytest.raises(NotFound):
        block(runtime, scene.moderator, 999_999, w.agency.id)
    with pytest.raises(NotFound):
        block(runtime, scene.moderator, w.kamal.id, 999_999)
    with pytest.raises(Conflict, match="Officials"):
        block(runtime, scene.moderator, scene.second_moderator.id, w.agency.id)
    with pytest.raises(NotFound, match="not blocked"):
        unblock(runtime, scene.moderator, w.kamal.id)

    assert snapshot(runtime) == before
    with runtime.db.transaction() as s:
        assert s.exec(select(AccountBlock)).all() == []

    block(runtime, scene.moderator, w.kamal.id, w.agency.id)
    with pytest.raises(Conflict, match="already blocked"):
        block(runtime, scene.second_moderator, w.kamal.id, w.agency.id)
    with pytest.raises(Forbidden):
        unblock(runtime, scene.other_moderator, w.kamal.id)
    assert status(runtime, writings["p1"]) == "hidden"


def test_another_agency_moderator_blocks_only_in_their_own_agency(runtime, scene, writings):
    w, it = scene.world, writings
    b = block(runtime, scene.other_moderator, w.kamal.id, w.other_agency.id)
    assert b.hidden == [{"kind": "proposal", "id": it["elsewhere"].id}]
    assert status(runtime, it["p1"]) == "published"
    assert load(runtime, Comment, it["c1"].id).status == "published"


def test_a_block_needs_a_reason():
    with pytest.raises(ValidationError):
        BlockInput(agency_id=1, reason="")
    with pytest.raises(ValidationError):
        ReasonInput(reason=" ")
