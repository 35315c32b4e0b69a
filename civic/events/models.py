"""The outbox and the record of handler deliveries.

An action writes its rows and an `OutboxEvent` in one transaction, so a state change and its
event commit together or not at all. `seq` is the global sequence number. A `HandlerDelivery` is
one (event, handler) pair: the handler's writes commit in the same transaction that marks it
done, which is what makes a replayed event change nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_event"
    __table_args__ = (
        Index(
            "ix_outbox_event_unpublished",
            "seq",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )

    seq: int | None = Field(default=None, primary_key=True)
    id: str = Field(sa_column=Column(String(36), unique=True, nullable=False))
    type: str = Field(sa_column=Column(String(80), nullable=False, index=True))
    version: int = 1
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    actor_id: int | None = None
    topics: list[str] = Field(sa_column=Column(JSON, nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class DeliveryStatus:
    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


class HandlerDelivery(SQLModel, table=True):
    __tablename__ = "handler_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "handler", name="uq_handler_delivery_event_handler"),
        Index("ix_handler_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_seq: int = Field(foreign_key="outbox_event.seq", index=True)
    event_id: str = Field(sa_column=Column(String(36), nullable=False))
    handler: str = Field(sa_column=Column(String(120), nullable=False))
    status: str = Field(default=DeliveryStatus.PENDING, sa_column=Column(String(10), nullable=False))
    attempts: int = 0
    # When the sweeper should (re)send the job: a lease while queued, a backoff after a failure.
    next_attempt_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    completed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
