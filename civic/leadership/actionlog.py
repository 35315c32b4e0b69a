"""The action log: every official act recorded with who, what, when and why.

Leadership's own acts (moderation, answers, grants) write their entry in the same transaction as
the act. Acts other modules perform (publishing a consultation, moving its phase, verifying an
e-citizen) are logged by a handler from their events, keyed by the event id so a replay logs once.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from civic.clock import utcnow
from civic.leadership.models import OfficialAction


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    subject_kind: str,
    subject_id: int,
    agency_id: int | None,
    reason: str = "",
    public: bool,
    detail: dict[str, object] | None = None,
    event_id: str | None = None,
    at: datetime | None = None,
) -> OfficialAction:
    """Log an act; `at` is when it happened (a handler logging an event passes the event's time,
    so a delivery retried late does not jump ahead in the newest-first log)."""
    entry = OfficialAction(
        actor_id=actor_id,
        action=action,
        subject_kind=subject_kind,
        subject_id=subject_id,
        agency_id=agency_id,
        reason=reason,
        public=public,
        detail=detail or {},
        event_id=event_id,
        created_at=at or utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry
