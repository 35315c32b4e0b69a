"""Property: for any stream of events, delivered in any order with any duplicates, the balances the
handler keeps equal a from-scratch recomputation of the stream and those of a clean in-order run.

Hypothesis writes random histories of submissions, supports (self-supports included), withdrawn
supports, thresholds, withdrawn proposals and comments posted and deleted, over three UTC days so
the daily caps bite, then delivers them shuffled and partly duplicated through the real handler.
Each example runs in one database transaction rolled back at its end (each delivery in a savepoint
of its own), on SQLite or, in the services pass, on PostgreSQL.
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

from civic.db import Database
from civic.engagement import queries
from civic.engagement.handlers import points_handler
from civic.engagement.models import PointsEntry
from civic.engagement.rules import Rules, load_rules, parse_rules
from civic.engagement.scoring import compute_balances
from civic.events.envelope import Envelope, EventType
from civic.participation import events as pe

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
"""

RULE_SETS = {"packaged": load_rules(), "tight": parse_rules(TIGHT, "tight")}

ACCOUNTS = [1, 2, 3, 4]
AUTHOR_OF = {1: 1, 2: 2, 3: 1}  # proposal -> author
COMMENT_OF = {1: (1, 2), 2: (1, 1), 3: (2, 3), 4: (3, 4), 5: (2, 2)}  # comment -> (proposal, author)
START = datetime(2030, 3, 1, 22, 0, tzinfo=UTC)

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
)
histories = st.lists(st.tuples(acts, st.integers(0, 5)), min_size=1, max_size=30)


def _proposal(p: int) -> dict[str, Any]:
    return {"proposal_id": p, "consultation_id": 1, "agency_id": 1, "author_id": AUTHOR_OF[p]}


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
    else:
        proposal, author = COMMENT_OF[target]
        kind = pe.COMMENT_POSTED if what == "comment" else pe.COMMENT_DELETED
        data = {**_proposal(proposal), "author_id": author, "proposal_author_id": AUTHOR_OF[proposal]}
        payload, actor = pe.CommentChanged(**data, comment_id=target, parent_id=None, depth=0), author
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


def _deliver(db: Database, rules: Rules, deliveries: list[Envelope]) -> tuple[dict[int, int], dict[int, int]]:
    """Run the handler on each delivery in its own savepoint; return (kept, ledger) balances and
    check no (citizen, rule, day) went past its cap or below zero. Everything is rolled back."""
    handler = points_handler(rules)
    with db.engine.connect() as connection:
        outer = connection.begin()
        try:
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
                return queries.balances(session), queries.ledger_balances(session)
        finally:
            outer.rollback()


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
