"""Fixtures for identity's tests; the shared helpers live in tests/http/support.py."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from civic.events.models import OutboxEvent
from civic.runtime import Runtime
from tests.http.support import make_client  # noqa: F401  (a fixture, re-exported for this package)


def outbox(runtime: Runtime, event_type: str) -> list[dict[str, Any]]:
    """The outbox rows of one event type, oldest first, as plain dicts."""
    with runtime.db.transaction() as session:
        rows = session.exec(
            select(OutboxEvent).where(OutboxEvent.type == event_type).order_by(col(OutboxEvent.seq))
        ).all()
        return [{"data": dict(r.data), "topics": list(r.topics), "actor": r.actor_id} for r in rows]
