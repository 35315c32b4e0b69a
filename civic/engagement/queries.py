"""Reading points: a citizen's balance and history, and the checks that the ledger adds up.

`ledger_balances` sums the ledger's rows; `replay_balances` recomputes every balance from scratch
from the outbox's events, through the same scoring the handler uses. Both must equal the kept
balances (`balances`): the property tests hold them to it, and a future `civic engagement reset`
can rebuild the ledger with `rebuild_ledger`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from civic.clock import as_utc
from civic.engagement.ledger import apply_event
from civic.engagement.models import PointsBalance, PointsEntry, PointsReversal
from civic.engagement.rules import Rules
from civic.engagement.scoring import compute_balances
from civic.engagement.texts import shown
from civic.events.envelope import Envelope
from civic.events.models import OutboxEvent


def balance(session: Session, account_id: int) -> int:
    row = session.get(PointsBalance, account_id)
    return row.points if row is not None else 0


@dataclass(frozen=True)
class HistoryItem:
    """One line of a citizen's points history, fit to show them. Deliberately without the ledger's
    `subject`, `content` and event id: an author's row for a support names the supporter there, and
    who supported what is private."""

    kind: str  # "award" or "reversal"
    rule: str
    points: int  # what it changed; 0 for an award past the daily cap
    base: int  # an award's points before the daily cap
    reason: str  # in the reader's language (stored in English, the rule file's words)
    day: date
    created_at: datetime


def history(session: Session, account_id: int, limit: int = 50) -> list[HistoryItem]:
    """The citizen's ledger rows, newest first."""
    query = (
        select(PointsEntry)
        .where(col(PointsEntry.account_id) == account_id)
        .order_by(col(PointsEntry.id).desc())
        .limit(limit)
    )
    return [
        HistoryItem(e.kind, e.rule, e.points, e.base, shown(e.reason), e.day, as_utc(e.created_at))
        for e in session.execute(query).scalars()
    ]


def balances(session: Session) -> dict[int, int]:
    """The kept balances, without zeros."""
    rows = session.execute(select(PointsBalance.account_id, PointsBalance.points))
    return {account: points for account, points in rows if points}


def ledger_balances(session: Session) -> dict[int, int]:
    """Balances as the sum of the ledger's rows, without zeros."""
    rows = session.execute(
        select(PointsEntry.account_id, func.sum(PointsEntry.points)).group_by(col(PointsEntry.account_id))
    )
    return {account: int(points) for account, points in rows if points}


def outbox_events(session: Session, rules: Rules, batch: int = 1000) -> Iterator[Envelope]:
    """The outbox's events the rules react to, in sequence order, read in batches."""
    after = 0
    while True:
        query = (
            select(OutboxEvent)
            .where(col(OutboxEvent.type).in_(sorted(rules.event_types)), col(OutboxEvent.seq) > after)
            .order_by(col(OutboxEvent.seq))
            .limit(batch)
        )
        rows = list(session.execute(query).scalars())
        if not rows:
            return
        for row in rows:
            yield Envelope.from_row(row)
        after = rows[-1].seq or after


def replay_balances(session: Session, rules: Rules) -> dict[int, int]:
    """Every balance recomputed from scratch from the outbox (nothing written)."""
    return compute_balances(rules, outbox_events(session, rules))


def rebuild_ledger(session: Session, rules: Rules) -> dict[int, int]:
    """Empty the ledger and book the whole outbox again under `rules`, silently (no points events):
    for a changed rules file. Returns the new balances."""
    for model in (PointsEntry, PointsReversal, PointsBalance):
        session.execute(delete(model))
    for event in outbox_events(session, rules):
        apply_event(session, rules, event, notify=False)
    return balances(session)
