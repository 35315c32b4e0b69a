"""The issue's "done when": fifty simultaneous supports from one citizen are one support, on both
databases, whether they race as transactions or as HTTP requests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from civic.errors import Conflict, NotFound
from civic.participation import actions
from civic.participation.models import Comment, Phase, Proposal, Support
from civic.participation.schemas import CommentEdit, CommentInput
from tests.factories import raise_standing
from tests.participation.conftest import (
    Browser,
    load,
    make_comment,
    make_consultation,
    make_proposal,
    outbox,
    person,
    set_phase,
)

N = 50


@pytest.fixture
def proposal(runtime, world):
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, phase=Phase.PROPOSALS, support_threshold=10)
        p = make_proposal(s, world.leyla, c)
    set_phase(runtime, world.convener, c.id, Phase.SUPPORT)
    return p


def all_at_once(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) on n threads released together by a barrier; re-raise any failure."""
    barrier = threading.Barrier(n, timeout=30)

    def run(i: int) -> Any:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return [f.result() for f in [pool.submit(run, i) for i in range(n)]]


def supports_of(runtime, proposal_id: int) -> int:
    with runtime.db.transaction() as s:
        return int(
            s.exec(select(func.count()).select_from(Support).where(Support.proposal_id == proposal_id)).one()
        )


def test_fifty_simultaneous_supports_in_transactions_make_one(runtime, world, proposal):
    def support(_: int) -> int:
        with runtime.db.transaction() as s:
            return actions.support_proposal(s, world.kamal, proposal.id).support_count

    counts = all_at_once(N, support)

    assert counts == [1] * N
    assert supports_of(runtime, proposal.id) == 1
    assert load(runtime, Proposal, proposal.id).support_count == 1
    assert len(outbox(runtime, "proposal.supported")) == 1


def test_fifty_simultaneous_support_requests_make_one(runtime, world, client, proposal):
    kamal = Browser(client).login(world.kamal)  # one browser, one cookie jar, fifty requests in flight

    responses = all_at_once(N, lambda _: kamal.put(f"/api/proposals/{proposal.id}/support"))

    assert [r.status_code for r in responses] == [200] * N, [
        r.text for r in responses if r.status_code != 200
    ]
    assert {(r.json()["supported"], r.json()["support_count"]) for r in responses} == {(True, 1)}
    assert supports_of(runtime, proposal.id) == 1
    assert load(runtime, Proposal, proposal.id).support_count == 1
    assert len(outbox(runtime, "proposal.supported")) == 1


def test_simultaneous_supports_of_many_citizens_are_all_counted_and_cross_the_threshold_once(
    runtime, world, proposal
):
    with runtime.db.transaction() as s:
        citizens = [person(runtime, s, f"Voter{i}") for i in range(20)]

    def support(i: int) -> None:
        with runtime.db.transaction() as s:
            actions.support_proposal(s, citizens[i], proposal.id)

    all_at_once(len(citizens), support)

    assert supports_of(runtime, proposal.id) == 20
    assert load(runtime, Proposal, proposal.id).support_count == 20
    assert sorted(e["data"]["support_count"] for e in outbox(runtime, "proposal.supported")) == list(
        range(1, 21)
    )
    (reached,) = outbox(runtime, "proposal.threshold_reached")
    assert reached["data"]["support_count"] == 10


def test_simultaneous_support_and_withdrawal_leave_the_count_true(runtime, world, proposal):
    """Supporting and withdrawing in a storm: whatever order they land in, the count is the rows."""
    with runtime.db.transaction() as s:
        citizens = [person(runtime, s, f"Storm{i}") for i in range(10)]

    def toggle(i: int) -> None:
        citizen = citizens[i % len(citizens)]
        with runtime.db.transaction() as s:
            if i < len(citizens):
                actions.support_proposal(s, citizen, proposal.id)
            else:
                actions.unsupport_proposal(s, citizen, proposal.id)

    all_at_once(2 * len(citizens), toggle)

    rows = supports_of(runtime, proposal.id)
    assert load(runtime, Proposal, proposal.id).support_count == rows
    supported, unsupported = outbox(runtime, "proposal.supported"), outbox(runtime, "proposal.unsupported")
    assert len(supported) - len(unsupported) == rows


def test_replies_racing_the_deletion_of_their_parent_neither_deadlock_nor_lose_count(runtime, world):
    """Deleting a comment (comment row, then proposal row) while others reply to it (proposal row,
    then the parent's row) must not deadlock: both take the proposal's lock first."""
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, phase=Phase.PROPOSALS)
        p = make_proposal(s, world.leyla, c)
        parent = make_comment(s, world.kamal, p.id, "Parent")
        siblings = [make_comment(s, world.kamal, p.id, f"Sibling {i}", parent) for i in range(5)]
        raise_standing(s, world.rashad, 2)  # a Member: 14 replies are past a newcomer's 10 a day

    def work(i: int) -> str:
        try:
            with runtime.db.transaction() as s:
                if i == 0:
                    actions.delete_comment(s, world.kamal, parent.id)
                elif i <= len(siblings):
                    actions.delete_comment(s, world.kamal, siblings[i - 1].id)
                else:
                    actions.post_comment(
                        s, world.rashad, p.id, CommentInput(body=f"Reply {i}", parent_id=parent.id)
                    )
            return "ok"
        except Conflict:
            return "refused"  # replying to a comment already deleted

    results = all_at_once(20, work)

    assert set(results) <= {"ok", "refused"}
    with runtime.db.transaction() as s:
        comments = s.exec(select(Comment).where(Comment.proposal_id == p.id)).all()
        published = [x for x in comments if x.status == "published"]
        stored = s.get(Proposal, p.id)
        assert stored.comment_count == len(published)
        reloaded = s.get(Comment, parent.id)
        assert reloaded.reply_count == len([x for x in published if x.parent_id == parent.id])


def test_a_comment_deleted_and_edited_at_once_is_deleted_once_and_stays_erased(runtime, world):
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, phase=Phase.PROPOSALS)
        p = make_proposal(s, world.leyla, c)
        target = make_comment(s, world.kamal, p.id, "Words to take back")

    def work(i: int) -> str:
        try:
            with runtime.db.transaction() as s:
                if i % 2:
                    actions.delete_comment(s, world.kamal, target.id)
                else:
                    actions.edit_comment(s, world.kamal, target.id, CommentEdit(body=f"Edit {i}"))
            return "ok"
        except Conflict:
            return "refused"  # editing a comment already deleted

    all_at_once(20, work)

    stored = load(runtime, Comment, target.id)
    assert (stored.status, stored.body, stored.body_html) == ("deleted", "", "")
    assert load(runtime, Proposal, p.id).comment_count == 0
    assert len(outbox(runtime, "comment.deleted")) == 1


@pytest.mark.services
def test_a_support_checked_before_a_hide_commits_is_refused_and_leaves_nothing(runtime, world, proposal):
    """The support path takes no row lock while it checks (so supporters of one proposal do not queue
    behind each other's whole transactions): the count's UPDATE re-checks "published" on the row as
    committed. A proposal hidden between the check and the write gets no support, count or event.
    PostgreSQL only: SQLite's BEGIN IMMEDIATE lets nothing commit between the two."""
    from civic.participation.moderation import do_moderate_proposal

    with pytest.raises(Conflict, match="hidden"), runtime.db.transaction() as s:
        supporter, p, c = actions.check_support(s, world.kamal, proposal.id)
        with runtime.db.transaction() as moderator:
            do_moderate_proposal(moderator, proposal.id, "hide", actor_id=None, reason="Spam.")
        actions.do_support_proposal(s, supporter, p, c)

    assert supports_of(runtime, proposal.id) == 0
    assert load(runtime, Proposal, proposal.id).support_count == 0
    assert outbox(runtime, "proposal.supported") == []


def test_supports_racing_a_hide_count_only_the_supports_committed_before_it(runtime, world, proposal):
    """Thirty citizens support while a moderator hides the proposal: whatever the interleaving, the
    stored count equals the support rows, and every recorded support has its event."""
    from civic.participation.moderation import do_moderate_proposal

    with runtime.db.transaction() as s:
        citizens = [person(runtime, s, f"racer{i}") for i in range(30)]

    def act(i: int) -> str:
        try:
            with runtime.db.transaction() as s:
                if i == len(citizens):
                    do_moderate_proposal(s, proposal.id, "hide", actor_id=None, reason="Spam.")
                    return "hid"
                actions.support_proposal(s, citizens[i], proposal.id)
                return "supported"
        except (Conflict, NotFound):  # checked after the hide: a hidden proposal is not there for them
            return "refused"

    outcomes = all_at_once(len(citizens) + 1, act)

    assert outcomes[-1] == "hid"
    supported = outcomes.count("supported")
    assert supported + outcomes.count("refused") == len(citizens)
    assert supports_of(runtime, proposal.id) == supported
    assert load(runtime, Proposal, proposal.id).support_count == supported
    assert len(outbox(runtime, "proposal.supported")) == supported
