"""The outbox relay: publishes committed events in order and hands them to the handlers.

One relay is active at a time: on PostgreSQL it holds a transaction-scoped advisory lock while it
publishes a batch, so a second worker's relay waits instead of publishing the same rows. A relay
killed after publishing but before marking the rows publishes them again on restart, and the
backend drops the repeat by event id: subscribers see each event once.

Deliveries are sent as jobs only after the transaction that created them commits. Jobs can be
lost (RQ between pop and registry, a killed inline thread), so the database stays the record of
work to do: `sweep` re-sends every pending delivery whose lease or backoff has run out.

A lease running out does not prove a job lost while the queue still holds a backlog: the job may
simply be waiting its turn, and re-sending it would grow the queue exactly when it is longest. So
while jobs are waiting, the sweep leaves expired leases alone (they are re-sent once the queue
drains), unless a lease is so far past due (`STALE_LEASES` leases) that the job must be lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import insert, text, update
from sqlmodel import col, select

from civic.clock import utcnow
from civic.db import Database, after_commit
from civic.events.backends import EventBackend
from civic.events.envelope import Envelope
from civic.events.handlers import HandlerSet
from civic.events.models import DeliveryStatus, HandlerDelivery, OutboxEvent
from civic.events.notify import OutboxListener

log = logging.getLogger(__name__)

RELAY_LOCK_KEY = 0x63697669  # "civi": the advisory lock only one relay may hold

SendDeliveries = Callable[[list[int]], None]
QueueBacklog = Callable[[], int]
STALE_LEASES = 10


class Relay:
    def __init__(
        self,
        db: Database,
        backend: EventBackend,
        handlers: HandlerSet,
        send: SendDeliveries,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.2,
        lease_seconds: float = 60.0,
        sweep_every_seconds: float = 1.0,
        backlog: QueueBacklog = lambda: 0,
    ) -> None:
        self.db = db
        self.backend = backend
        self.handlers = handlers
        self.send = send
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.sweep_every_seconds = sweep_every_seconds
        self.backlog = backlog
        self._wake = threading.Event()
        self._listener: OutboxListener | None = None

    def wake(self) -> None:
        self._wake.set()

    def publish_batch(self) -> int:
        """Publish the oldest unpublished events; returns how many rows were handled."""
        with self.db.transaction() as session:
            if (
                self.db.is_postgres
                and not session.exec(  # type: ignore[call-overload]
                    text("SELECT pg_try_advisory_xact_lock(:key)"), params={"key": RELAY_LOCK_KEY}
                ).scalar()
            ):
                return 0
            rows = session.exec(
                select(OutboxEvent)
                .where(col(OutboxEvent.published_at).is_(None))
                .order_by(col(OutboxEvent.seq))
                .limit(self.batch_size)
            ).all()
            if not rows:
                return 0
            envelopes = [Envelope.from_row(row) for row in rows]
            self.backend.publish(envelopes)
            now = utcnow()
            session.execute(
                update(OutboxEvent)
                .where(col(OutboxEvent.seq).in_([e.seq for e in envelopes]))
                .values(published_at=now)
            )
            deliveries = [
                {
                    "event_seq": e.seq,
                    "event_id": e.id,
                    "handler": h.name,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now + self.lease,
                }
                for e in envelopes
                for h in self.handlers.for_type(e.type)
            ]
            if deliveries:
                ids = list(
                    session.execute(
                        insert(HandlerDelivery).returning(HandlerDelivery.id), deliveries
                    ).scalars()
                )
                after_commit(session, lambda: self._send(ids))
            return len(rows)

    def sweep(self) -> int:
        """Re-send deliveries whose lease (job lost) or backoff (job failed) has run out."""
        now = utcnow()
        due_before = now if self._queue_idle() else now - self.lease * STALE_LEASES
        with self.db.transaction() as session:
            query = (
                select(HandlerDelivery)
                .where(
                    HandlerDelivery.status == DeliveryStatus.PENDING,
                    HandlerDelivery.next_attempt_at <= due_before,
                )
                .order_by(col(HandlerDelivery.next_attempt_at))
                .limit(self.batch_size)
            )
            if self.db.is_postgres:
                query = query.with_for_update(skip_locked=True)
            due = session.exec(query).all()
            for delivery in due:
                delivery.next_attempt_at = now + self.lease
            ids = [d.id for d in due if d.id is not None]
            if ids:
                after_commit(session, lambda: self._send(ids))
            return len(ids)

    def _queue_idle(self) -> bool:
        try:
            return self.backlog() == 0
        except Exception as exc:  # an unreachable queue cannot be sent to either; sweep as usual
            log.debug("outbox relay: queue backlog unknown (%s)", exc)
            return True

    def _send(self, ids: list[int]) -> None:
        """Send the jobs; if the queue is unreachable, leave them to the sweep.

        The deliveries are already committed with a lease, so a failed send only delays them; it
        must not make the relay retry a batch that is published and marked.
        """
        try:
            self.send(ids)
        except Exception as exc:
            log.warning(
                "outbox relay: could not send %d deliveries (%s); the sweep will resend them", len(ids), exc
            )

    def drain(self, max_rounds: int = 1000) -> int:
        """Publish and deliver until nothing is left that is due now (tests and `civic worker --burst`)."""
        total = 0
        for _ in range(max_rounds):
            published = self.publish_batch()
            swept = self.sweep()
            total += published
            if not published and not swept:
                break
        return total

    def run_forever(self, stop: threading.Event) -> None:
        last_sweep = 0.0
        failures = 0
        log.info("outbox relay started")
        while not stop.is_set():
            try:
                published = self.publish_batch()
                if time.monotonic() - last_sweep >= self.sweep_every_seconds:
                    self.sweep()
                    last_sweep = time.monotonic()
                failures = 0
            except Exception as exc:
                failures += 1
                delay = min(0.5 * 2 ** (failures - 1), 10.0)
                log.warning("outbox relay: %s; retrying in %.1fs", exc, delay)
                stop.wait(delay)
                continue
            if published < self.batch_size:
                self._wait()
        if self._listener is not None:
            self._listener.close()
        log.info("outbox relay stopped")

    def _wait(self) -> None:
        """Until the next poll, or sooner when a commit (here, or on PostgreSQL anywhere) wrote events."""
        if self._wake.is_set():
            self._wake.clear()
            return
        if self.db.is_postgres:
            if self._listener is None:
                self._listener = OutboxListener(self.db.url)
            self._listener.wait(self.poll_seconds)
        else:
            self._wake.wait(self.poll_seconds)
        self._wake.clear()
