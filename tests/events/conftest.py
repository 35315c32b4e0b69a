"""Fixtures for the event bus tests.

`make_runtime` builds runtimes with test handlers on the suite's database and Redis prefix: the
embedded pair (SQLite, memory backend, inline jobs) by default, production (PostgreSQL, Redis
Streams, RQ) in the CIVIC_TEST_BACKEND=postgres pass. Handlers prove their effects by writing to
`EFFECTS`, a table outside SQLModel's metadata so no migration or schema check ever sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select
from sqlmodel import Session, col

from civic.events.envelope import Envelope, EventType, emit
from civic.events.handlers import Handler, HandlerSet
from civic.events.models import HandlerDelivery, OutboxEvent
from civic.runtime import Runtime, build_runtime, set_worker_runtime
from tests.conftest import BACKEND, make_settings

PRODUCTION = BACKEND == "postgres"

EFFECTS = Table(
    "test_event_effect",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("handler", String(120), nullable=False),
    Column("event_id", String(36), nullable=False),
)

MakeRuntime = Callable[..., Runtime]


@pytest.fixture
def make_runtime(tmp_path: Path, database_url: str, redis_prefix: str) -> Iterator[MakeRuntime]:
    """Build runtimes with the given handlers and Settings overrides; all are closed afterwards."""
    engine = create_engine(database_url)
    EFFECTS.metadata.create_all(engine)
    built: list[Runtime] = []

    def make(handlers: Sequence[Handler] = (), **overrides: Any) -> Runtime:
        url = overrides.pop("database_url", database_url)
        settings = make_settings(tmp_path, url, redis_prefix, **overrides)
        runtime = build_runtime(settings, handlers=HandlerSet(handlers))
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        if PRODUCTION:
            runtime.jobs.queue.empty()  # type: ignore[attr-defined]  (job hashes outlive the prefix cleanup)
        runtime.close()
    EFFECTS.metadata.drop_all(engine)
    engine.dispose()


def record_effect(session: Session, handler_name: str, envelope: Envelope) -> None:
    """What a test handler does: one row, written in the delivery's transaction."""
    session.execute(insert(EFFECTS).values(handler=handler_name, event_id=envelope.id))


def effects(runtime: Runtime, handler_name: str | None = None) -> list[str]:
    """Event ids of the committed effects (of one handler), in insertion order."""
    query = select(EFFECTS.c.event_id).order_by(EFFECTS.c.id)
    if handler_name is not None:
        query = query.where(EFFECTS.c.handler == handler_name)
    with runtime.db.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def emit_many(runtime: Runtime, kind: EventType[Any], payloads: Sequence[Any]) -> list[OutboxEvent]:
    with runtime.db.transaction() as session:
        return [emit(session, kind, payload, actor_id=None) for payload in payloads]


def outbox_rows(runtime: Runtime) -> list[OutboxEvent]:
    with runtime.db.transaction() as session:
        return list(session.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq))).scalars())  # type: ignore[call-overload]


def deliveries(runtime: Runtime, handler_name: str | None = None) -> list[HandlerDelivery]:
    query = select(HandlerDelivery).order_by(col(HandlerDelivery.id))
    if handler_name is not None:
        query = query.where(HandlerDelivery.handler == handler_name)
    with runtime.db.transaction() as session:
        return list(session.exec(query).scalars())  # type: ignore[call-overload]


def unpublished_count(runtime: Runtime) -> int:
    query = select(func.count()).select_from(OutboxEvent).where(col(OutboxEvent.published_at).is_(None))
    with runtime.db.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def published(runtime: Runtime) -> list[dict[str, Any]]:
    """The envelopes on the backend's global log, oldest first, as a follower decodes them."""
    return [json.loads(p.event_json) for p in runtime.backend.read("0", 0, limit=100_000)]


def run_jobs(runtime: Runtime) -> None:
    """Run the queued jobs: an RQ burst in production; inline jobs already ran when they were sent."""
    if not PRODUCTION:
        return
    from rq import SimpleWorker

    queue = runtime.jobs.queue  # type: ignore[attr-defined]
    set_worker_runtime(runtime)
    try:
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    finally:
        set_worker_runtime(None)


def settle(runtime: Runtime, rounds: int = 20) -> None:
    """Relay, sweep and run jobs until nothing due is left (bounded)."""
    for _ in range(rounds):
        moved = runtime.relay.drain()
        run_jobs(runtime)
        if not moved:
            return


class FrozenClock:
    """The relay's and the handler dispatcher's "now", moved by hand so leases and backoffs are exact."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    frozen = FrozenClock()
    monkeypatch.setattr("civic.events.relay.utcnow", frozen)
    monkeypatch.setattr("civic.events.handlers.utcnow", frozen)
    return frozen
