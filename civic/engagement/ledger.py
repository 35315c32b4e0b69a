"""Booking an event's points into the ledger, in the caller's transaction.

`apply_event` is engagement's one writer (its `do_x`): the handler calls it inside the delivery's
transaction. It records the event's awards and reversal marks (each unique, so a second run inserts
nothing), then brings every (citizen, rule, day) the event touches to its value under
`civic.engagement.scoring`: the difference between that value and what the ledger already holds is
booked as a row and added to the balance. Handling an event again, late, or after its reversal
therefore books exactly what is still missing, which is nothing once it has been handled.

Concurrent handlers serialise per citizen: on PostgreSQL each run takes transaction-level advisory
locks on the accounts the event names, in order (no deadlock), before reading any total; SQLite
already runs one writer at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from civic.clock import utcnow
from civic.engagement.events import POINTS_AWARDED, POINTS_REVERSED, PointsChanged
from civic.engagement.models import EntryKind, PointsBalance, PointsEntry, PointsReversal, ReversalKind
from civic.engagement.rules import Rules
from civic.engagement.scoring import Award, Bucket, Mark, awards_for, capped, marks_for
from civic.events.envelope import Envelope, emit

LOCK_NAMESPACE = 0x656E67  # "eng": the first key of engagement's per-account advisory locks

ENTRY = PointsEntry.__table__  # type: ignore[attr-defined]
MARK = PointsReversal.__table__  # type: ignore[attr-defined]
BALANCE = PointsBalance.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Booking:
    """One change to a citizen's balance made while handling an event."""

    account_id: int
    rule: str
    day: date
    points: int
    balance: int
    reason: str


def apply_event(session: Session, rules: Rules, event: Envelope, *, notify: bool = True) -> list[Booking]:
    """Book the points `event` earns or takes back. Idempotent; order of events does not matter.

    Emits `points.awarded` / `points.reversed` to each citizen whose balance changed (unless
    `notify` is False, as when the ledger is rebuilt from the outbox).
    """
    awards = awards_for(rules, event)
    marks = marks_for(rules, event)
    if not awards and not marks:
        return []
    lock_accounts(session, {a.account_id for a in awards} | {m.account_id for m in marks})
    now = utcnow()
    for mark in marks:
        _insert_ignoring_duplicates(
            session, MARK, _mark_row(mark, now), ["event_id", "kind", "key", "account_id"]
        )
    for award in awards:
        _insert_ignoring_duplicates(
            session, ENTRY, _award_row(award, now, event), ["event_id", "rule", "account_id", "day"]
        )
    touched: dict[Bucket, str] = {a.bucket: a.reason for a in awards}
    for bucket, reason in _buckets_reversed(session, marks).items():
        touched.setdefault(bucket, reason)
    bookings = []
    for bucket in sorted(touched):
        booking = _bring_to_target(session, rules, event, bucket, touched[bucket])
        if booking is not None:
            bookings.append(booking)
            if notify:
                kind = POINTS_AWARDED if booking.points > 0 else POINTS_REVERSED
                payload = PointsChanged(
                    account_id=booking.account_id,
                    points=booking.points,
                    balance=booking.balance,
                    rule=booking.rule,
                    reason=booking.reason,
                )
                emit(session, kind, payload, actor_id=None)
    return bookings


def lock_accounts(session: Session, accounts: set[int]) -> None:
    """Serialise with every other engagement transaction touching these accounts (PostgreSQL;
    SQLite has one writer at a time): taken before reading anything a write depends on."""
    if session.get_bind().dialect.name != "postgresql":
        return
    # The handler locks the accounts an event concerns, then booking locks those it books for
    # (mostly the same): a lock this transaction already holds costs a round trip for nothing.
    # Remembered per innermost transaction: a rolled-back savepoint releases the locks taken in it.
    held_in, held = session.info.get(_HELD_LOCKS, (None, set()))
    if held_in is None or held_in is not _innermost(session):
        held = set()
    for account in sorted(accounts - held):
        session.execute(_ACCOUNT_LOCK, {"namespace": LOCK_NAMESPACE, "account": account})
    session.info[_HELD_LOCKS] = (_innermost(session), held | accounts)


def _innermost(session: Session) -> object:
    return session.get_nested_transaction() or session.get_transaction()


_HELD_LOCKS = "civic.engagement.held_account_locks"
_ACCOUNT_LOCK = text("SELECT pg_advisory_xact_lock(:namespace, :account)")


def _insert_ignoring_duplicates(session: Session, table, values: dict, unique: list[str]) -> None:  # type: ignore[no-untyped-def,type-arg]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=unique))


def consultation_of(event: Envelope) -> int | None:
    value = event.data.get("consultation_id")
    return int(value) if value is not None else None


def _award_row(award: Award, now: object, event: Envelope) -> dict[str, object]:
    return {
        "account_id": award.account_id,
        "rule": award.rule,
        "day": award.day,
        "kind": EntryKind.AWARD,
        "points": 0,  # set by _bring_to_target, within this transaction
        "base": award.points,
        "event_id": award.event_id,
        "event_seq": award.seq,
        "subject": award.subject,
        "content": award.content,
        "reason": award.reason,
        "created_at": now,
        "consultation_id": consultation_of(event),
    }


def _mark_row(mark: Mark, now: object) -> dict[str, object]:
    return {
        "event_id": mark.event_id,
        "event_seq": mark.seq,
        "rule": mark.rule,
        "kind": mark.kind,
        "key": mark.key,
        "account_id": mark.account_id,
        "created_at": now,
    }


def _matches(mark: Mark):  # type: ignore[no-untyped-def]
    column = ENTRY.c.subject if mark.kind == ReversalKind.SUBJECT else ENTRY.c.content
    return and_(
        ENTRY.c.account_id == mark.account_id,
        ENTRY.c.kind == EntryKind.AWARD,
        column == mark.key,
        ENTRY.c.event_seq < mark.seq,
    )


def _buckets_reversed(session: Session, marks: list[Mark]) -> dict[Bucket, str]:
    """The (citizen, rule, day) buckets holding awards the marks take back, with the reversal's reason."""
    found: dict[Bucket, str] = {}
    for mark in marks:
        rows = session.execute(select(ENTRY.c.rule, ENTRY.c.day).where(_matches(mark)).distinct())
        for rule, day in rows:
            found.setdefault((mark.account_id, rule, day), mark.reason)
    return found


def _unreversed_total(session: Session, bucket: Bucket) -> int:
    account, rule, day = bucket
    reversed_later = exists().where(
        MARK.c.account_id == ENTRY.c.account_id,
        MARK.c.event_seq > ENTRY.c.event_seq,
        or_(
            and_(MARK.c.kind == ReversalKind.SUBJECT, MARK.c.key == ENTRY.c.subject),
            and_(MARK.c.kind == ReversalKind.CONTENT, MARK.c.key == ENTRY.c.content),
        ),
    )
    query = select(func.coalesce(func.sum(ENTRY.c.base), 0)).where(
        ENTRY.c.account_id == account,
        ENTRY.c.rule == rule,
        ENTRY.c.day == day,
        ENTRY.c.kind == EntryKind.AWARD,
        ~reversed_later,
    )
    return int(session.execute(query).scalar_one())


def _booked(session: Session, bucket: Bucket) -> int:
    account, rule, day = bucket
    query = select(func.coalesce(func.sum(ENTRY.c.points), 0)).where(
        ENTRY.c.account_id == account, ENTRY.c.rule == rule, ENTRY.c.day == day
    )
    return int(session.execute(query).scalar_one())


def _bring_to_target(
    session: Session, rules: Rules, event: Envelope, bucket: Bucket, reason: str
) -> Booking | None:
    """Book the difference between the bucket's value and what the ledger holds, on this event's row."""
    account, rule, day = bucket
    delta = capped(rules, rule, _unreversed_total(session, bucket)) - _booked(session, bucket)
    if delta == 0:
        return None
    own_row = and_(
        ENTRY.c.event_id == event.id, ENTRY.c.rule == rule, ENTRY.c.account_id == account, ENTRY.c.day == day
    )
    updated = session.execute(ENTRY.update().where(own_row).values(points=ENTRY.c.points + delta))
    if not updated.rowcount:  # type: ignore[attr-defined]
        session.execute(
            ENTRY.insert().values(
                account_id=account,
                rule=rule,
                day=day,
                kind=EntryKind.REVERSAL,
                points=delta,
                base=0,
                event_id=event.id,
                event_seq=event.seq,
                subject="",
                content="",
                reason=reason,
                created_at=utcnow(),
                consultation_id=consultation_of(event),
            )
        )
    return Booking(account, rule, day, delta, _add_to_balance(session, account, delta), reason)


def _add_to_balance(session: Session, account: int, delta: int) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    statement = insert(BALANCE).values(account_id=account, points=delta, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["account_id"],
        set_={"points": BALANCE.c.points + statement.excluded.points, "updated_at": now},
    ).returning(BALANCE.c.points)
    return int(session.execute(statement).scalar_one())
