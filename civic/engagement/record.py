"""A citizen's moderation record, as engagement learns it from leadership's events.

Engagement may not read leadership's tables, so it keeps its own copy of what it needs: who
reported the item of which case (`report.filed`, whose actor the bus keeps private but handlers
read from the outbox), how each case was decided (`moderation.decided`) and whether an appeal
overturned the decision (`moderation.appeal_decided`). Each write is idempotent and order-free (a
decision older than the one kept changes nothing), and the whole record can be rebuilt from the
outbox (`rebuild_record`), so the reset command recomputes it like everything else.

A report is *upheld* when its case was decided hide or reject and not overturned; *dismissed*
when decided otherwise or overturned. A *strike* is content of the citizen's that moderators hid or
rejected (not overturned): strikes lower the citizen's level for a while.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from civic.engagement.models import CaseRecord, ReportRecord
from civic.events.envelope import Envelope
from civic.events.models import OutboxEvent

REPORT_FILED = "report.filed"
CASE_DECIDED = "moderation.decided"
APPEAL_DECIDED = "moderation.appeal_decided"
RECORD_EVENTS = (REPORT_FILED, CASE_DECIDED, APPEAL_DECIDED)
UPHOLDING = ("hide", "reject")  # leadership's Decision values that remove content
OVERTURNED = "overturned"  # leadership's AppealState value

CASE = CaseRecord.__table__  # type: ignore[attr-defined]
REPORT = ReportRecord.__table__  # type: ignore[attr-defined]


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def record_event(session: Session, event: Envelope) -> set[int]:
    """Keep what `event` tells about moderation; returns the accounts whose record it may change
    (the author of the decided item and everyone who reported it)."""
    data = event.data
    if event.type not in RECORD_EVENTS or data.get("case_id") is None:
        return set()
    case_id = int(data["case_id"])
    insert = _insert(session)
    if event.type == REPORT_FILED:
        if event.actor is None:
            return set()
        session.execute(
            insert(REPORT)
            .values(case_id=case_id, reporter_id=event.actor, event_seq=event.seq)
            .on_conflict_do_nothing(index_elements=["case_id", "reporter_id"])
        )
        return involved(session, case_id)
    if event.type == CASE_DECIDED:
        values = {
            "case_id": case_id,
            "author_id": data.get("author_id"),
            "item_kind": data.get("item_kind") or "",
            "decision": data.get("decision"),
            "decided_at": event.occurred_at,
            "decision_seq": event.seq,
        }
        statement = insert(CASE).values(**values, overturned=False)
        newer = statement.excluded.decision_seq > CASE.c.decision_seq
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["case_id"],
                set_={k: statement.excluded[k] for k in values if k != "case_id"},
                where=newer,
            )
        )
        return involved(session, case_id)
    if data.get("state") != OVERTURNED:
        return set()
    statement = insert(CASE).values(case_id=case_id, item_kind="", decision_seq=0, overturned=True)
    session.execute(statement.on_conflict_do_update(index_elements=["case_id"], set_={"overturned": True}))
    return involved(session, case_id)


def involved(session: Session, case_id: int) -> set[int]:
    reporters = session.execute(select(REPORT.c.reporter_id).where(REPORT.c.case_id == case_id)).scalars()
    author = session.execute(select(CASE.c.author_id).where(CASE.c.case_id == case_id)).scalar_one_or_none()
    return {int(r) for r in reporters} | ({int(author)} if author is not None else set())


@dataclass(frozen=True)
class Record:
    upheld: int
    dismissed: int
    strikes: int  # within the window asked for


def record_of(session: Session, account_id: int, strikes_since: datetime) -> Record:
    decided = CASE.c.decision.is_not(None)
    upholds = CASE.c.decision.in_(UPHOLDING) & ~CASE.c.overturned
    joined = REPORT.join(CASE, CASE.c.case_id == REPORT.c.case_id)
    upheld, dismissed = session.execute(
        select(func.count().filter(upholds), func.count().filter(~upholds))
        .select_from(joined)
        .where(REPORT.c.reporter_id == account_id, decided)
    ).one()
    strikes = session.execute(
        select(func.count())
        .select_from(CASE)
        .where(CASE.c.author_id == account_id, upholds, CASE.c.decided_at >= strikes_since)
    ).scalar_one()
    return Record(int(upheld), int(dismissed), int(strikes))


def record_events(session: Session, batch: int = 1000) -> Iterator[Envelope]:
    """The outbox's moderation events, in sequence order, read in batches."""
    after = 0
    while True:
        query = (
            select(OutboxEvent)
            .where(col(OutboxEvent.type).in_(RECORD_EVENTS), col(OutboxEvent.seq) > after)
            .order_by(col(OutboxEvent.seq))
            .limit(batch)
        )
        rows = list(session.execute(query).scalars())
        if not rows:
            return
        for row in rows:
            yield Envelope.from_row(row)
        after = rows[-1].seq or after


def rebuild_record(session: Session) -> int:
    """Forget the record and read it again from the outbox; returns the number of events read."""
    session.execute(delete(ReportRecord))
    session.execute(delete(CaseRecord))
    count = 0
    for event in record_events(session):
        record_event(session, event)
        count += 1
    return count
