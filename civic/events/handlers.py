"""Reactions to events, and running one of them exactly once in effect.

A module declares its handlers in its own `handlers.py`; `civic.wiring` gathers them. The relay
records one `HandlerDelivery` per (event, handler); `run_delivery` runs the handler inside the
transaction that marks the delivery done, so a handler that runs twice (a replay, a job sent
twice, a worker killed after the commit) changes nothing the second time. A handler that raises
has its writes rolled back to a savepoint, the failure recorded, and is retried with exponential
backoff until `max_attempts`, after which the delivery is dead-lettered with the error; the other
handlers of the same event run regardless.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session, select

from civic.clock import utcnow
from civic.db import Database
from civic.events.envelope import Envelope, EventType
from civic.events.models import DeliveryStatus, HandlerDelivery, OutboxEvent

log = logging.getLogger(__name__)

HandlerFn = Callable[[Session, Envelope], None]


@dataclass(frozen=True)
class Handler:
    name: str
    event_types: frozenset[str]
    fn: HandlerFn


def handler(name: str, *kinds: EventType) -> Callable[[HandlerFn], Handler]:
    """Declare `fn` as the handler `name` of the given event types."""

    def wrap(fn: HandlerFn) -> Handler:
        return Handler(name=name, event_types=frozenset(k.name for k in kinds), fn=fn)

    return wrap


class HandlerSet:
    def __init__(self, handlers: Iterable[Handler] = ()) -> None:
        self._by_name: dict[str, Handler] = {}
        self._by_type: dict[str, list[Handler]] = {}
        for h in handlers:
            if h.name in self._by_name:
                raise ValueError(f"two handlers are named {h.name!r}")
            self._by_name[h.name] = h
            for event_type in h.event_types:
                self._by_type.setdefault(event_type, []).append(h)

    def for_type(self, event_type: str) -> list[Handler]:
        return self._by_type.get(event_type, [])

    def get(self, name: str) -> Handler | None:
        return self._by_name.get(name)

    def __len__(self) -> int:
        return len(self._by_name)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 600.0

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.backoff_seconds * 2 ** (attempts - 1), self.max_backoff_seconds))


def _session_info_copy(session: Session) -> dict[str, Any]:
    return {k: v.copy() if isinstance(v, list | set | dict) else v for k, v in session.info.items()}


def _restore_session_info(session: Session, saved: dict[str, Any]) -> None:
    """Forget what a failed handler registered on the session (after-commit jobs, relay wake-ups).

    Its writes were rolled back to the savepoint, but the transaction still commits to record the
    failure; work it scheduled for "after commit" belongs to the rolled-back writes, not to that.
    """
    session.info.clear()
    session.info.update(saved)


def run_delivery(db: Database, handlers: HandlerSet, delivery_id: int, policy: RetryPolicy) -> str:
    """Run one delivery if it is still pending; returns its status afterwards ("skipped" if not ours)."""
    with db.transaction() as session:
        query = select(HandlerDelivery).where(HandlerDelivery.id == delivery_id)
        if db.is_postgres:
            # Another worker running the same delivery right now: leave it to them.
            query = query.with_for_update(skip_locked=True)
        delivery = session.exec(query).first()
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return "skipped"
        now = utcnow()
        delivery.attempts += 1
        found = handlers.get(delivery.handler)
        if found is None:
            delivery.status = DeliveryStatus.DEAD
            delivery.last_error = f"no handler named {delivery.handler!r} in this version of civic"
            return delivery.status
        row = session.get(OutboxEvent, delivery.event_seq)
        assert row is not None
        before = _session_info_copy(session)
        try:
            with session.begin_nested():
                found.fn(session, Envelope.from_row(row))
        except Exception as exc:
            _restore_session_info(session, before)
            delivery.last_error = "".join(traceback.format_exception(exc, limit=-8))[-4000:]
            if delivery.attempts >= policy.max_attempts:
                delivery.status = DeliveryStatus.DEAD
                log.error("handler %s dead-lettered event %s: %s", found.name, row.id, exc)
            else:
                delivery.next_attempt_at = now + policy.delay(delivery.attempts)
                log.warning(
                    "handler %s failed on event %s (attempt %d): %s",
                    found.name,
                    row.id,
                    delivery.attempts,
                    exc,
                )
            return "failed" if delivery.status == DeliveryStatus.PENDING else delivery.status
        delivery.status = DeliveryStatus.DONE
        delivery.completed_at = now
        delivery.last_error = None
        return delivery.status
