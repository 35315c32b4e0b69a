"""Citizens earn points for taking part and, most, for outcomes; withdrawals take them back; every
change is a ledger row, and the balance is always the sum of the rows."""

from __future__ import annotations

import json

from sqlmodel import select

from civic.engagement import queries
from civic.engagement.models import EntryKind, PointsEntry
from civic.participation.models import Phase
from civic.runtime import Runtime
from tests.engagement.conftest import Town, assert_ledger_adds_up, outbox_of
from tests.events.conftest import published
from tests.factories import raise_standing


def test_submitting_a_proposal_earns_its_author_points_and_tells_only_them(
    runtime: Runtime, town: Town, rules
):
    leyla = town.citizens[0]
    consultation = town.consultation()

    town.submit(leyla, consultation)

    assert town.points(leyla) == 3
    with runtime.db.transaction() as s:
        [entry] = queries.history(s, leyla.id)  # type: ignore[arg-type]
        [row] = s.exec(select(PointsEntry)).all()
    assert (entry.rule, entry.kind, entry.points, entry.base) == ("proposal_submitted", EntryKind.AWARD, 3, 3)
    [submitted] = outbox_of(runtime, "proposal.submitted")
    assert (row.event_id, row.event_seq, row.content) == (
        submitted.id,
        submitted.seq,
        f"proposal:{submitted.data['proposal_id']}",
    )
    [awarded] = [e for e in published(runtime) if e["type"] == "points.awarded"]
    assert awarded["topics"] == [f"user:{leyla.id}"]
    assert awarded["data"] == {
        "account_id": leyla.id,
        "points": 3,
        "balance": 3,
        "rule": "proposal_submitted",
        "reason": "You submitted a proposal",
    }
    assert leyla.email not in json.dumps(awarded) and leyla.display_name not in json.dumps(awarded)
    assert_ledger_adds_up(runtime, rules)


def test_supports_earn_the_supporter_a_little_and_the_threshold_earns_the_author_most(
    runtime: Runtime, town: Town, rules
):
    leyla, kamal, aysel, _ = town.citizens
    consultation = town.consultation(threshold=2)
    proposal = town.submit(leyla, consultation)
    town.phase(consultation, Phase.SUPPORT)

    town.support(kamal, proposal)
    assert (town.points(kamal), town.points(leyla)) == (1, 3 + 2)

    town.support(aysel, proposal)  # the second support reaches the threshold of 2

    assert town.points(aysel) == 1
    assert town.points(leyla) == 3 + 2 + 2 + 25
    with runtime.db.transaction() as s:
        received = queries.history(s, leyla.id)  # type: ignore[arg-type]
    assert [(h.rule, h.points) for h in received] == [
        ("threshold_reached", 25),
        ("support_received", 2),
        ("support_received", 2),
        ("proposal_submitted", 3),
    ]
    # The ledger keys an author's points for a support by its supporter; the history never shows it.
    assert set(vars(received[0])) == {"kind", "rule", "points", "base", "reason", "day", "created_at"}
    assert assert_ledger_adds_up(runtime, rules) == {leyla.id: 32, kamal.id: 1, aysel.id: 1}


def test_the_daily_cap_stops_points_but_still_records_the_awards(runtime: Runtime, town: Town, rules):
    leyla, kamal, *_ = town.citizens
    consultation = town.consultation()
    with runtime.db.transaction() as s:  # a Leader may write 30 proposals a day (the batch keeps it so)
        raise_standing(s, leyla)
    with town.batch():
        proposals = [town.submit(leyla, consultation, title=f"Proposal number {n}") for n in range(12)]
        town.phase(consultation, Phase.SUPPORT)
        for proposal in proposals:
            town.support(kamal, proposal)

    assert town.points(leyla) == 9 + 12 * 2  # submissions capped at 9 a day; supports received not
    assert town.points(kamal) == 10  # supports given capped at 10 a day
    with runtime.db.transaction() as s:
        given = [e for e in queries.history(s, kamal.id) if e.rule == "proposal_supported"]  # type: ignore[arg-type]
    assert len(given) == 12, "every support is in the ledger, capped or not"
    assert sorted(e.points for e in given) == [0, 0] + [1] * 10
    assert_ledger_adds_up(runtime, rules)


def test_withdrawing_a_support_takes_back_its_points_and_supporting_again_earns_them_again(
    runtime: Runtime, town: Town, rules
):
    leyla, kamal, *_ = town.citizens
    consultation = town.consultation()
    proposal = town.submit(leyla, consultation)
    town.phase(consultation, Phase.SUPPORT)
    town.support(kamal, proposal)

    town.unsupport(kamal, proposal)

    assert (town.points(kamal), town.points(leyla)) == (0, 3)
    with runtime.db.transaction() as s:
        reversal = queries.history(s, kamal.id)[0]  # type: ignore[arg-type]
    assert (reversal.kind, reversal.points, reversal.reason) == (
        EntryKind.REVERSAL,
        -1,
        "A support was withdrawn",
    )
    reversed_ = [e["data"] for e in published(runtime) if e["type"] == "points.reversed"]
    assert sorted((d["account_id"], d["points"], d["balance"]) for d in reversed_) == sorted(
        [(kamal.id, -1, 0), (leyla.id, -2, 3)]
    )

    town.support(kamal, proposal)
    assert (town.points(kamal), town.points(leyla)) == (1, 5)
    assert_ledger_adds_up(runtime, rules)


def test_withdrawing_a_proposal_takes_back_what_it_earned_its_author_but_supporters_keep_theirs(
    runtime: Runtime, town: Town, rules
):
    leyla, kamal, aysel, _ = town.citizens
    consultation = town.consultation(threshold=2)
    proposal = town.submit(leyla, consultation)
    town.phase(consultation, Phase.SUPPORT)
    town.support(kamal, proposal)
    town.support(aysel, proposal)
    assert town.points(leyla) == 32

    town.withdraw(leyla, proposal)

    assert town.points(leyla) == 0
    assert (town.points(kamal), town.points(aysel)) == (1, 1)
    assert_ledger_adds_up(runtime, rules)


def test_deleting_a_comment_takes_back_its_points(runtime: Runtime, town: Town, rules):
    leyla, kamal, *_ = town.citizens
    consultation = town.consultation()
    proposal = town.submit(leyla, consultation)
    comment = town.comment(kamal, proposal)
    assert town.points(kamal) == 1

    town.delete_comment(kamal, comment)

    assert town.points(kamal) == 0
    assert town.points(leyla) == 3, "the proposal's author keeps the points of their proposal"
    assert_ledger_adds_up(runtime, rules)


def test_history_is_newest_first_and_balance_is_the_sum_of_the_rows(runtime: Runtime, town: Town, rules):
    leyla, kamal, *_ = town.citizens
    consultation = town.consultation()
    proposal = town.submit(leyla, consultation)
    town.comment(leyla, proposal, "I wrote this after the town meeting.")
    town.phase(consultation, Phase.SUPPORT)
    town.support(kamal, proposal)

    with runtime.db.transaction() as s:
        rows = queries.history(s, leyla.id)  # type: ignore[arg-type]
        assert [r.rule for r in rows] == ["support_received", "comment_posted", "proposal_submitted"]
        assert sum(r.points for r in rows) == queries.balance(s, leyla.id) == 6  # type: ignore[arg-type]
        assert queries.history(s, leyla.id, limit=1) == rows[:1]  # type: ignore[arg-type]
        assert queries.balance(s, 999_999) == 0
