"""Daily limits for new accounts: a citizen's level sets how many proposals and comments they may
write in any 24 hours. Reaching it is a 429 with Retry-After and a message saying the limit, when
it lifts and that taking part more raises it; nothing is written. Levelling up (through the real
engagement handler) raises the limit."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import col, select
from starlette.testclient import TestClient

from civic.clock import utcnow
from civic.errors import RateLimited
from civic.events.models import OutboxEvent
from civic.identity.models import Account
from civic.identity.standing import privileges, standing_level
from civic.participation import actions
from civic.participation.limits import WINDOW, check_daily_limit
from civic.participation.models import Comment, Consultation, Phase, Proposal
from civic.participation.schemas import ProposalInput
from civic.runtime import Runtime
from tests.engagement.conftest import Town
from tests.engagement.test_levels import age
from tests.factories import raise_standing
from tests.http.support import api_login

NEWCOMER = privileges(0)
PARTICIPANT = privileges(1)


def written(runtime: Runtime) -> tuple[int, int, int]:
    """(proposals, comments, outbox events): equal before and after a refusal means nothing written."""
    with runtime.db.transaction() as s:
        return tuple(  # type: ignore[return-value]
            int(s.exec(select(func.count()).select_from(m)).one())  # type: ignore[arg-type]
            for m in (Proposal, Comment, OutboxEvent)
        )


def level(runtime: Runtime, account: Account) -> int:
    with runtime.db.transaction() as s:
        return standing_level(s, account.id)  # type: ignore[arg-type]


def refused_proposal(town: Town, author: Account, consultation: Consultation) -> RateLimited:
    before = written(town.runtime)
    with pytest.raises(RateLimited) as refusal:
        town.submit(author, consultation, "One proposal too many")
    assert written(town.runtime) == before, "a refusal writes nothing"
    return refusal.value


def test_a_new_account_may_submit_a_few_proposals_on_day_one_and_is_told_when_it_may_again(town: Town):
    leyla = town.citizens[0]
    consultation = town.consultation()
    for n in range(NEWCOMER.proposals_per_day):
        town.submit(leyla, consultation, f"Idea number {n}")
    assert level(town.runtime, leyla) == 0, "an account less than a day old stays a newcomer"

    refusal = refused_proposal(town, leyla, consultation)
    assert f"limit of {NEWCOMER.proposals_per_day} proposals in 24 hours" in refusal.message
    assert "level 0 (Newcomer)" in refusal.message
    assert "Taking part more raises your level and this limit" in refusal.message
    assert "UTC" in refusal.message
    assert WINDOW.total_seconds() - 120 < refusal.retry_after <= WINDOW.total_seconds()

    # Another citizen is not affected.
    town.submit(town.citizens[1], consultation, "Kamal's idea")


def test_the_window_slides_and_the_refusal_names_when_the_oldest_ages_out(town: Town):
    leyla = town.citizens[0]
    consultation = town.consultation()
    proposals = [town.submit(leyla, consultation, f"Idea {n}") for n in range(NEWCOMER.proposals_per_day)]
    with town.runtime.db.transaction() as s:
        s.execute(
            update(Proposal)
            .where(col(Proposal.id) == proposals[0].id)
            .values(created_at=utcnow() - timedelta(hours=23))
        )
    refusal = refused_proposal(town, leyla, consultation)
    assert 3500 <= refusal.retry_after <= 3600
    assert "in 1 h" in refusal.message or "in 60 min" in refusal.message

    with town.runtime.db.transaction() as s:
        s.execute(
            update(Proposal)
            .where(col(Proposal.id) == proposals[0].id)
            .values(created_at=utcnow() - WINDOW - timedelta(minutes=1))
        )
    town.submit(leyla, consultation, "Once the first is a day old")


def test_withdrawn_proposals_still_count_so_withdrawing_does_not_get_around_the_limit(town: Town):
    leyla = town.citizens[0]
    consultation = town.consultation()
    for n in range(NEWCOMER.proposals_per_day):
        town.withdraw(leyla, town.submit(leyla, consultation, f"Idea {n}"))
    refused_proposal(town, leyla, consultation)


def test_levelling_up_raises_the_limit(town: Town):
    """A two-day-old account reaches level 1 with its first contribution (the engagement handler
    computes it), and with it the Participant's limit."""
    leyla = town.citizens[0]
    age(town.runtime, leyla, 2)
    consultation = town.consultation()
    town.submit(leyla, consultation, "First idea")
    assert level(town.runtime, leyla) == 1
    for n in range(1, PARTICIPANT.proposals_per_day):
        town.submit(leyla, consultation, f"Idea {n}")
    assert PARTICIPANT.proposals_per_day > NEWCOMER.proposals_per_day

    refusal = refused_proposal(town, leyla, consultation)
    assert f"limit of {PARTICIPANT.proposals_per_day} proposals" in refusal.message
    assert "level 1 (Participant)" in refusal.message


def test_the_top_level_is_not_told_to_take_part_more(runtime: Runtime, town: Town):
    leyla = town.citizens[0]
    consultation = town.consultation()
    with runtime.db.transaction() as s:
        raise_standing(s, leyla, 4)
        top = privileges(4)
        for n in range(top.proposals_per_day):
            actions.submit_proposal(
                s, leyla, consultation.id, ProposalInput(title=f"Idea {n}", body="A proposal with some text.")
            )  # type: ignore[arg-type]
        with pytest.raises(RateLimited) as refusal:
            check_daily_limit(s, leyla, "proposal")
    assert "level 4 (Leader)" in refusal.value.message
    assert "Taking part more" not in refusal.value.message


def test_comments_have_their_own_limit_deleted_ones_included(town: Town):
    leyla, kamal, *_ = town.citizens
    consultation = town.consultation()
    proposal = town.submit(kamal, consultation)
    with town.batch():
        comments = [town.comment(leyla, proposal, f"Thought {n}") for n in range(NEWCOMER.comments_per_day)]
    town.delete_comment(leyla, comments[0])

    before = written(town.runtime)
    with pytest.raises(RateLimited) as refusal:
        town.comment(leyla, proposal, "One comment too many")
    assert written(town.runtime) == before
    assert f"limit of {NEWCOMER.comments_per_day} comments in 24 hours" in refusal.value.message
    # The proposal limit is separate: Leyla may still propose.
    town.submit(leyla, consultation, "Leyla's own idea")


def test_over_http_the_limit_is_a_429_with_retry_after_and_the_form_keeps_the_text(
    client: TestClient, town: Town
):
    leyla = town.citizens[0]
    consultation = town.consultation()
    for n in range(NEWCOMER.proposals_per_day):
        town.submit(leyla, consultation, f"Idea {n}")
    assert api_login(client, leyla.email).status_code == 200
    token = client.get("/api/csrf").json()["csrf_token"]
    before = written(town.runtime)

    response = client.post(
        f"/api/consultations/{consultation.id}/proposals",
        json={"title": "Too many ideas today", "body": "Still a good one."},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert f"limit of {NEWCOMER.proposals_per_day} proposals" in error["message"]
    assert 0 < int(response.headers["Retry-After"]) <= WINDOW.total_seconds()

    form = client.get(f"/consultations/{consultation.id}/proposals/new")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    page = client.post(
        f"/consultations/{consultation.id}/proposals/new",
        data={"csrf_token": token, "title": "Too many ideas today", "body": "Kept text, please."},
        follow_redirects=False,
    )
    assert page.status_code == 429
    assert "Retry-After" in page.headers
    assert "limit of" in page.text and "Kept text, please." in page.text
    assert written(town.runtime) == before


def test_two_submissions_racing_at_the_limit_let_exactly_one_through(runtime: Runtime, town: Town):
    """On PostgreSQL an advisory lock per author serialises the count; SQLite's BEGIN IMMEDIATE does."""
    leyla = town.citizens[0]
    consultation = town.consultation()
    for n in range(NEWCOMER.proposals_per_day - 1):
        town.submit(leyla, consultation, f"Idea {n}")
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def submit(n: int) -> None:
        barrier.wait()
        try:
            with runtime.db.transaction() as s:
                data = ProposalInput(title=f"Racing idea {n}", body="At the same moment.")
                actions.submit_proposal(s, leyla, consultation.id, data)  # type: ignore[arg-type]
            outcomes.append("ok")
        except RateLimited:
            outcomes.append("limited")

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["limited", "ok"]
    with runtime.db.transaction() as s:
        mine = select(func.count()).select_from(Proposal).where(col(Proposal.author_id) == leyla.id)
        assert s.exec(mine).one() == NEWCOMER.proposals_per_day  # type: ignore[arg-type]


def test_supporting_has_no_daily_limit(town: Town):
    """Supports are one per proposal already; the limits are for writing."""
    leyla, kamal, *_ = town.citizens
    consultation = town.consultation()
    with town.runtime.db.transaction() as s:
        raise_standing(s, kamal, 4)
        for n in range(NEWCOMER.proposals_per_day + 2):
            actions.submit_proposal(
                s, kamal, consultation.id, ProposalInput(title=f"Idea {n}", body="A proposal with some text.")
            )  # type: ignore[arg-type]
    town.settle()
    town.phase(consultation, Phase.SUPPORT)
    with town.runtime.db.transaction() as s:
        ids = list(s.exec(select(Proposal.id).where(col(Proposal.author_id) == kamal.id)))
    with town.batch():
        for proposal_id in ids:
            with town.runtime.db.transaction() as s:
                actions.support_proposal(s, leyla, proposal_id)  # type: ignore[arg-type]
    assert town.points(leyla) > 0


def test_nothing_limits_a_citizen_who_stays_under_it(town: Town):
    leyla = town.citizens[0]
    consultation = town.consultation()
    town.submit(leyla, consultation)
    proposal = town.submit(town.citizens[1], consultation, "Kamal's idea")
    town.comment(leyla, proposal)
    with town.runtime.db.transaction() as s:
        check_daily_limit(s, leyla, "proposal")
        check_daily_limit(s, leyla, "comment")
