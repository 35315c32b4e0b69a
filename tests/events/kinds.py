"""Event types that exist only for the event bus tests (names are process-wide, so declared once)."""

from __future__ import annotations

from pydantic import BaseModel

from civic.events.envelope import event_type


class Ping(BaseModel):
    n: int
    topics: list[str] = ["test:ping"]


class Pong(BaseModel):
    n: int


PING = event_type("test.events.ping", Ping, topics=lambda d: list(d.topics))
PONG = event_type("test.events.pong", Pong, topics=lambda d: [f"test:pong:{d.n}"])
