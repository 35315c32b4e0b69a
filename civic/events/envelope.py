"""The one shape of every event: in the outbox, on the stream and on the WebSocket.

An `EventType` is declared once, in the emitting module's `events.py`, with the pydantic model
of its payload and the function that names its topics. `emit` is the only way to create an
event: it validates the payload and writes the outbox row in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import insert
from sqlmodel import Session

from civic.clock import as_utc, utcnow
from civic.db import signal_after_commit
from civic.events.models import OutboxEvent
from civic.events.notify import notify_on_commit

P = TypeVar("P", bound=BaseModel)

_REGISTRY: dict[str, EventType[Any]] = {}
OUTBOX_WRITTEN = "civic_outbox_written"


@dataclass(frozen=True)
class EventType(Generic[P]):
    name: str
    payload: type[P]
    topics: Callable[[P], list[str]]
    version: int = 1
    # False when who acted is private (who supported a proposal): the bus then publishes the
    # envelope without its actor; handlers still read it from the outbox.
    actor_public: bool = True

    def __post_init__(self) -> None:
        if self.name in _REGISTRY and _REGISTRY[self.name] is not self:
            raise ValueError(f"event type {self.name!r} is declared twice")
        _REGISTRY[self.name] = self


def event_type(
    name: str,
    payload: type[P],
    *,
    topics: Callable[[P], list[str]],
    version: int = 1,
    actor_public: bool = True,
) -> EventType[P]:
    return EventType(name=name, payload=payload, topics=topics, version=version, actor_public=actor_public)


def registered_event_types() -> dict[str, EventType[Any]]:
    return dict(_REGISTRY)


class Envelope(BaseModel):
    id: str
    seq: int
    type: str
    v: int
    occurred_at: datetime
    actor: int | None
    topics: list[str]
    data: dict[str, Any]

    @classmethod
    def from_row(cls, row: OutboxEvent) -> Envelope:
        assert row.seq is not None
        return cls(
            id=row.id,
            seq=row.seq,
            type=row.type,
            v=row.version,
            # PostgreSQL answers in the session's time zone; the envelope always speaks UTC.
            occurred_at=as_utc(row.occurred_at).astimezone(UTC),
            actor=row.actor_id,
            topics=list(row.topics),
            data=dict(row.data),
        )

    def wire_json(self) -> str:
        """The envelope as published on the bus (and so on WebSockets): serialised once, without
        the actor when the event type keeps who acted private."""
        kind = _REGISTRY.get(self.type)
        if kind is not None and not kind.actor_public and self.actor is not None:
            return self.model_copy(update={"actor": None}).model_dump_json()
        return self.model_dump_json()

    def payload(self, kind: EventType[P]) -> P:
        """The typed payload, for handlers: `event.payload(PROPOSAL_SUPPORTED).proposal_id`."""
        if kind.name != self.type:
            raise ValueError(f"event {self.id} is {self.type}, not {kind.name}")
        return kind.payload.model_validate(self.data)


_OUTBOX_INSERT = insert(OutboxEvent.__table__).returning(OutboxEvent.__table__.c.seq)  # type: ignore[arg-type,attr-defined]


def emit(session: Session, kind: EventType[P], payload: P, *, actor_id: int | None) -> Envelope:
    """Write an event into the outbox in the caller's transaction; returns it as it will be published.

    The event exists if and only if the transaction commits. After the commit, the database's
    `OUTBOX_WRITTEN` listeners (the relay, when it runs in this process) are woken.
    """
    if not isinstance(payload, kind.payload):
        raise TypeError(f"{kind.name} takes a {kind.payload.__name__}, not {type(payload).__name__}")
    event_id, occurred_at = str(uuid.uuid4()), utcnow()
    topics = list(dict.fromkeys(kind.topics(payload)))  # a topic named twice gets the event once
    data = payload.model_dump(mode="json")
    # A plain INSERT on the session's connection, not an ORM object through the unit of work:
    # every action emits, and building and flushing the object cost more than the statement.
    seq = session.connection().execute(
        _OUTBOX_INSERT,
        {"id": event_id, "type": kind.name, "version": kind.version, "occurred_at": occurred_at,
         "actor_id": actor_id, "topics": topics, "data": data},
    ).scalar_one()  # fmt: skip
    signal_after_commit(session, OUTBOX_WRITTEN)
    notify_on_commit(session)
    return Envelope(
        id=event_id,
        seq=seq,
        type=kind.name,
        v=kind.version,
        occurred_at=occurred_at,
        actor=actor_id,
        topics=topics,
        data=data,
    )
