"""Property: for any stream of events, delivered in any order with any duplicates, the balances the
handler keeps equal a from-scratch recomputation of the stream and those of a clean in-order run.

Hypothesis writes random histories of submissions, supports (self-supports included), withdrawn
supports, thresholds, withdrawn proposals, comments posted and deleted, moderation reversals
(proposals hidden or rejected, comments hidden, and restored again) and officials' answers
(accepted, partially accepted, implemented, or an answer that earns nothing), over three UTC days
so the daily caps bite, then delivers them shuffled and partly duplicated through the real handler.
Each example runs in one database transaction rolled back at its end (each delivery in a savepoint
of its own), on SQLite or, in the services pass, on PostgreSQL.

The second property runs engagement's whole handler (points, leaderboards, badges and levels) and
checks, besides the balances, that the leaderboards it kept incrementally are exactly what a
rebuild from the ledger gives, on every board: global, per consultation and per district, each
all-time, per month and per week.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import Session
from sqlmodel import select as select_model

from civic.db import Database
from civic.engagement import leaderboards, queries
from civic.engagement.badges import load_badges
from civic.engagement.handlers import engagement_handler, points_handler
from civic.engagement.models import LeaderboardScore, PointsEntry
from civic.engagement.rules import Rules, load_rules, parse_rules
from civic.engagement.scoring import compute_balances
from civic.events.envelope import Envelope, EventType
from civic.events.handlers import Handler
from civic.identity.models import Account, AccountKind, Agency
from civic.participation import events as pe
from civic.participation.models import Consultation

# Tight caps (points 3 against a cap of 5, 2 against 3) so partial awards and freed cap room happen.
TIGHT = """
[[rule]]
name = "submitted"
event = "proposal.submitted"
recipient = "actor"
points = 3
daily_cap = 5
reason = "submitted"

[[rule]]
name = "supported"
event = "proposal.supported"
recipient = "actor"
points = 1
daily_cap = 2
reason = "supported"

[[rule]]
name = "support_received"
event = "proposal.supported"
recipient = "author"
points = 2
daily_cap = 3
reason = "support received"

[[rule]]
name = "threshold"
event = "proposal.threshold_reached"
recipient = "author"
points = 25
reason = "threshold"

[[rule]]
name = "commented"
event = "comment.posted"
recipient = "actor"
points = 1
daily_cap = 1
not_own_content = true
reason = "commented"

[[rule]]
name = "comment_received"
event = "comment.posted"
recipient = "proposal_author"
points = 1
reason = "comment received"

[[rule]]
name = "accepted"
event = "proposal.answered"
recipient = "author"
points = 50
only_if = { answer = "accepted" }
reason = "accepted"

[[rule]]
name = "implemented"
event = "proposal.answered"
recipient = "author"
points = 100
only_if = { answer = "implemented" }
reason = "implemented"

[[reversal]]
name = "unsupported"
event = "proposal.unsupported"
undoes = "subject"
reason = "unsupported"

[[reversal]]
name = "withdrawn"
event = "proposal.withdrawn"
undoes = "content"
reason = "withdrawn"

[[reversal]]
name = "comment_deleted"
event = "comment.deleted"
undoes = "content"
reason = "comment deleted"

[[reversal]]
name = "hidden"
event = "proposal.hidden"
undoes = "content"
reason = "hidden"

[[reversal]]
name = "rejected"
event = "proposal.rejected"
undoes = "content"
reason = "rejected"

[[reversal]]
name = "comment_hidden"
event = "comment.hidden"
undoes = "content"
reason = "comment hidden"
"""

RULE_SETS = {"packaged": load_rules(), "tight": parse_rules(TIGHT, "tight")}
BADGES = load_badges()

ACCOUNTS = [1, 2, 3, 4]
OFFICIAL = 9  # the moderator or official who hides, rejects, restores and answers
AUTHOR_OF = {1: 1, 2: 2, 3: 1}  # proposal -> author
COMMENT_OF = {1: (1, 2), 2: (1, 1), 3: (2, 3), 4: (3, 4), 5: (2, 2)}  # comment -> (proposal, author)
START = datetime(2030, 3, 1, 22, 0, tzinfo=UTC)
# Consultations 1 and 2 (2 in a district, so district boards are kept too), for the leaderboards.
CONSULTATION_OF = {1: 1, 2: 2, 3: 1}  # proposal -> consultation
DISTRICT_OF = {1: None, 2: "Yasamal"}
# An answer status with points in both rule sets, one with points in the packaged set only, one never.
ANSWERS = ("accepted", "implemented", "partially_accepted", "under_review")

proposals = st.sampled_from(sorted(AUTHOR_OF))
comments = st.sampled_from(sorted(COMMENT_OF))
accounts = st.sampled_from(ACCOUNTS)
acts = st.one_of(
    st.tuples(st.just("submit"), proposals, st.none()),
    st.tuples(st.just("withdraw"), proposals, st.none()),
    st.tuples(st.just("threshold"), proposals, st.none()),
    st.tuples(st.just("support"), proposals, accounts),
    st.tuples(st.just("support"), proposals, accounts),
    st.tuples(st.just("unsupport"), proposals, accounts),
    st.tuples(st.just("comment"), comments, st.none()),
    st.tuples(st.just("delete_comment"), comments, st.none()),
    # moderation reversals, and moderators changing their mind
    st.tuples(st.sampled_from(("hide", "reject", "restore")), proposals, st.none()),
    st.tuples(st.sampled_from(("hide_comment", "restore_comment")), comments, st.none()),
    # officials' answers (the int picks the status)
    st.tuples(st.just("answer"), proposals, st.integers(0, len(ANSWERS) - 1)),
    st.tuples(st.just("answer"), proposals, st.just(0)),
)
histories = st.lists(st.tuples(acts, st.integers(0, 5)), min_size=1, max_size=30)


def _proposal(p: int) -> dict[str, Any]:
    return {
        "proposal_id": p,
        "consultation_id": CONSULTATION_OF[p],
        "agency_id": 1,
        "author_id": AUTHOR_OF[p],
    }


MODERATION = {
    "hide": (pe.PROPOSAL_HIDDEN, "hidden"),
    "reject": (pe.PROPOSAL_REJECTED, "rejected"),
    "restore": (pe.PROPOSAL_RESTORED, "published"),
}
COMMENT_KINDS = {
    "comment": pe.COMMENT_POSTED,
    "delete_comment": pe.COMMENT_DELETED,
    "hide_comment": pe.COMMENT_HIDDEN,
    "restore_comment": pe.COMMENT_RESTORED,
}


def _event(seq: int, hours: int, act: tuple[str, int, int | None]) -> Envelope:
    what, target, who = act
    kind: EventType[Any]
    payload: BaseModel
    if what in ("submit", "withdraw"):
        kind = pe.PROPOSAL_SUBMITTED if what == "submit" else pe.PROPOSAL_WITHDRAWN
        payload, actor = (
            pe.ProposalChanged(**_proposal(target), title="A proposal", status="published"),
            AUTHOR_OF[target],
        )
    elif what == "threshold":
        kind, payload, actor = (
            pe.PROPOSAL_THRESHOLD_REACHED,
            pe.ThresholdReached(**_proposal(target), support_count=3, threshold=3),
            None,
        )
    elif what in ("support", "unsupport"):
        kind = pe.PROPOSAL_SUPPORTED if what == "support" else pe.PROPOSAL_UNSUPPORTED
        payload, actor = pe.SupportChanged(**_proposal(target), support_count=1), who
    elif what in MODERATION:
        kind, status = MODERATION[what]
        payload, actor = pe.ProposalChanged(**_proposal(target), title="A proposal", status=status), OFFICIAL
    elif what == "answer":
        kind, actor = pe.PROPOSAL_ANSWERED, OFFICIAL
        payload = pe.ProposalAnswered(
            **_proposal(target),
            answer_id=seq,
            title="A proposal",
            answer=ANSWERS[who or 0],
            previous_answer=None,
            official_id=OFFICIAL,
            first=False,
        )
    else:
        proposal, author = COMMENT_OF[target]
        kind = COMMENT_KINDS[what]
        data = {**_proposal(proposal), "author_id": author, "proposal_author_id": AUTHOR_OF[proposal]}
        # A comment's own author posts or deletes it; a moderator hides or restores it.
        actor = author if what in ("comment", "delete_comment") else OFFICIAL
        payload = pe.CommentChanged(**data, comment_id=target, parent_id=None, depth=0)
    return Envelope(
        id=f"00000000-0000-4000-8000-{seq:012d}",
        seq=seq,
        type=kind.name,
        v=1,
        occurred_at=START + timedelta(hours=hours * 10),  # spans three UTC days
        actor=actor,
        topics=[],
        data=payload.model_dump(mode="json"),
    )


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


Boards = dict[tuple[str, int], int]


def _deliver(
    db: Database, rules: Rules, deliveries: list[Envelope], handler: Handler | None = None
) -> tuple[dict[int, int], dict[int, int]]:
    """Run the handler on each delivery in its own savepoint; return (kept, ledger) balances and
    check no (citizen, rule, day) went past its cap or below zero. Everything is rolled back."""
    kept, ledger, _boards = _deliver_and_read(db, rules, deliveries, handler or points_handler(rules))
    return kept, ledger


def _deliver_and_read(
    db: Database, rules: Rules, deliveries: list[Envelope], handler: Handler
) -> tuple[dict[int, int], dict[int, int], tuple[Boards, Boards]]:
    """`_deliver`, also returning the leaderboards as kept and as a rebuild from the ledger computes them."""
    with db.engine.connect() as connection:
        outer = connection.begin()
        try:
            with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
                _add_consultations(session)
                session.commit()
            for event in deliveries:
                with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
                    handler.fn(session, event)
                    session.commit()
            with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
                buckets = session.execute(
                    select(PointsEntry.rule, func.sum(PointsEntry.points)).group_by(
                        PointsEntry.account_id, PointsEntry.rule, PointsEntry.day
                    )
                ).all()
                for rule, total in buckets:
                    cap = rules.cap(rule)
                    assert 0 <= total <= (cap if cap is not None else total), (rule, total)
                kept_boards = {
                    (r.board, r.account_id): r.score for r in session.exec(select_model(LeaderboardScore))
                }
                private = leaderboards.private_rules(rules)
                rebuilt = {(b, a): score for b, a, score in leaderboards.computed_scores(session, private)}
                return queries.balances(session), queries.ledger_balances(session), (kept_boards, rebuilt)
        finally:
            outer.rollback()


def _add_consultations(session: Session) -> None:
    """The consultations the events name, so points count on their boards and on a district's
    (with the agency and official their foreign keys need, ids far from the citizens')."""
    session.add(Agency(id=1000, slug="property-agency", name="Agency", name_az="Agency", kind="agency"))
    session.flush()
    session.add(
        Account(
            id=1000,
            email="convener@property.example",
            display_name="Convener",
            kind=AccountKind.OFFICIAL,
            password_hash="-",
            agency_id=1000,
            created_at=START,
        )
    )
    session.flush()
    for consultation_id, district in DISTRICT_OF.items():
        session.add(
            Consultation(
                id=consultation_id,
                agency_id=1000,
                title="A consultation",
                summary="A consultation's summary",
                body="Body",
                district=district,
                created_by_id=1000,
                created_at=START,
            )
        )
    session.flush()


@pytest.mark.parametrize("rule_set", sorted(RULE_SETS))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, data=st.data())
def test_balances_equal_a_from_scratch_recomputation_whatever_the_delivery_order(
    db: Database, rule_set: str, history: list[tuple[tuple[str, int, int | None], int]], data: st.DataObject
):
    rules = RULE_SETS[rule_set]
    events = [_event(seq, hours, act) for seq, (act, hours) in enumerate(history, 1)]
    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=len(events)), label="duplicates")
    delivered = data.draw(st.permutations(events + duplicates), label="delivery order")

    expected = compute_balances(rules, events)
    kept, ledger = _deliver(db, rules, delivered)
    assert kept == ledger == expected
    clean_kept, clean_ledger = _deliver(db, rules, events)
    assert clean_kept == clean_ledger == expected


@pytest.mark.parametrize("rule_set", sorted(RULE_SETS))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, data=st.data())
def test_the_whole_handler_keeps_balances_and_leaderboards_a_rebuild_would_give(
    db: Database, rule_set: str, history: list[tuple[tuple[str, int, int | None], int]], data: st.DataObject
):
    """Engagement's real handler (points, leaderboards, badges and levels together), shuffled and
    duplicated deliveries: balances as from scratch, and every board as a rebuild computes it."""
    rules = RULE_SETS[rule_set]
    handler = engagement_handler(rules, BADGES)
    events = [_event(seq, hours, act) for seq, (act, hours) in enumerate(history, 1)]
    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=len(events)), label="duplicates")
    delivered = data.draw(st.permutations(events + duplicates), label="delivery order")

    expected = compute_balances(rules, events)
    kept, ledger, (boards, rebuilt) = _deliver_and_read(db, rules, delivered, handler)
    assert kept == ledger == expected
    assert boards == rebuilt
    assert {account for (_, account) in boards} == set(expected), "on the boards exactly those with points"
    if expected:
        assert {board.split("|")[1][:2] for board, _ in boards} >= {"al", "m:", "w:"}, "every window kept"
