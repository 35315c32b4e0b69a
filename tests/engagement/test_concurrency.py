"""Handlers running at once (several RQ workers) never book past a daily cap nor twice."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

from civic.engagement import queries
from civic.engagement.handlers import points_handler
from civic.engagement.rules import parse_rules
from civic.events.envelope import Envelope
from civic.runtime import Runtime

RULES = parse_rules(
    """
[[rule]]
name = "supported"
event = "proposal.supported"
recipient = "actor"
points = 1
daily_cap = 3
reason = "supported"

[[rule]]
name = "support_received"
event = "proposal.supported"
recipient = "author"
points = 2
reason = "support received"
"""
)


def _support(seq: int, proposal_id: int, supporter: int, author: int) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        seq=seq,
        type="proposal.supported",
        v=1,
        occurred_at=datetime(2030, 3, 1, 12, tzinfo=UTC),
        actor=supporter,
        topics=[],
        data={
            "proposal_id": proposal_id,
            "consultation_id": 1,
            "agency_id": 1,
            "author_id": author,
            "support_count": 1,
        },
    )


def test_concurrent_handlers_for_one_citizen_respect_the_cap_and_each_event_counts_once(runtime: Runtime):
    handler = points_handler(RULES)
    # One supporter (7) supports eight proposals of two authors at once; each event is handled twice.
    events = [_support(seq, seq, 7, 100 + seq % 2) for seq in range(1, 9)]
    barrier = threading.Barrier(len(events) * 2)
    errors: list[BaseException] = []

    def handle(event: Envelope) -> None:
        try:
            barrier.wait(timeout=30)
            with runtime.db.transaction() as s:
                handler.fn(s, event)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=handle, args=(e,)) for e in events for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    with runtime.db.transaction() as s:
        assert queries.balances(s) == {7: 3, 100: 8, 101: 8}
        assert queries.ledger_balances(s) == {7: 3, 100: 8, 101: 8}
        assert len(queries.history(s, 7)) == 8
