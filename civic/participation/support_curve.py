"""A proposal's supports over time: how many arrived each day (UTC) and the running total, for the
chart on its page. Only current supports count (a withdrawn support is gone), so the last total
is the proposal's support count; the days show when supports came, never who gave them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from civic.clock import utcnow
from civic.participation.models import Support

MAX_DAYS = 60


@dataclass(frozen=True)
class SupportDay:
    day: date
    count: int  # supports given that day
    total: int  # supports given up to the end of that day


def supports_per_day(session: Session, proposal_id: int) -> dict[date, int]:
    day = func.date(Support.created_at)
    rows = session.exec(
        select(day, func.count()).where(col(Support.proposal_id) == proposal_id).group_by(day)
    ).all()
    return {date.fromisoformat(str(d)[:10]): int(n) for d, n in rows if d is not None}


def support_curve(
    session: Session, proposal_id: int, *, today: date | None = None, max_days: int = MAX_DAYS
) -> list[SupportDay]:
    """Every day from the first support to today, oldest first ([] without supports). At most
    `max_days` days: when supports stopped long ago the curve ends on the last one's day, and
    supports before the first day shown are in its total."""
    per_day = supports_per_day(session, proposal_id)
    if not per_day:
        return []
    today = today or utcnow().date()
    first, last = min(per_day), max(per_day)
    end = max(today, last) if (today - last).days < max_days else last
    start = max(first, end - timedelta(days=max_days - 1))
    total = sum(n for d, n in per_day.items() if d < start)
    curve = []
    for i in range((end - start).days + 1):
        d = start + timedelta(days=i)
        total += per_day.get(d, 0)
        curve.append(SupportDay(d, per_day.get(d, 0), total))
    return curve
