"""The citizen's data tracker ("who used my data"): every read of their attributes through the
gate, allowed or refused, newest first, optionally within a period. Like Estonia's data tracker,
it names the agency, the official's role (not the person: the CJEU's Pankki S, C-579/21), the
purpose, the time and what the read served."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from civic.errors import InvalidInput
from civic.i18n import _
from civic.identity.models import Account
from civic.trust.models import DataAccess
from civic.trust.requests import citizen_actor

LIMIT = 1000


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def my_accesses(
    session: Session, actor: Account | None, since: date | None = None, until: date | None = None
) -> list[DataAccess]:
    """Reads of the citizen's data from `since` (inclusive) to `until` (inclusive), newest first."""
    citizen = citizen_actor(session, actor)
    if since and until and since > until:
        raise InvalidInput(
            _("The period ends before it starts."), {"until": _("Choose a day on or after the first.")}
        )
    query = select(DataAccess).where(DataAccess.citizen_id == citizen.id)
    if since:
        query = query.where(col(DataAccess.created_at) >= _start(since))
    if until:
        query = query.where(col(DataAccess.created_at) < _start(until + timedelta(days=1)))
    query = query.order_by(col(DataAccess.created_at).desc(), col(DataAccess.id).desc()).limit(LIMIT)
    return list(session.exec(query).all())
