"""Reads of leadership's records: the action log (public and officials' views) and answer history.

The public log shows acts on public content (answers, moderation of proposals and comments,
consultation publishing and phases); the officials' log adds the rest (verifications, grants) for
the agencies the official may see the dashboard of. An agency's log includes the units below it,
as its grants do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_
from sqlmodel import Session, col, select

from civic.clock import as_utc
from civic.identity.authorization import RULES, Permission, Target, active_grants, agency_subtree, authorize
from civic.identity.models import Account, Agency
from civic.leadership.models import OfficialAction

PER_PAGE = 50


@dataclass(frozen=True)
class LogEntry:
    """One logged act, with the names a page shows (the actor None: the command line did it)."""

    id: int
    created_at: datetime
    action: str
    subject_kind: str
    subject_id: int
    agency_id: int | None
    agency_name: str | None
    actor_id: int | None
    actor_name: str | None
    reason: str
    public: bool
    detail: dict[str, Any]


@dataclass
class LogPage:
    items: list[LogEntry]
    total: int
    page: int
    pages: int


def _page(session: Session, where: ColumnElement[bool], page: int) -> LogPage:
    total = int(session.exec(select(func.count()).select_from(OfficialAction).where(where)).one())
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(1, page), pages)
    rows = session.exec(
        select(OfficialAction, Account.display_name, Agency.name)
        .outerjoin(Account, col(Account.id) == OfficialAction.actor_id)
        .outerjoin(Agency, col(Agency.id) == OfficialAction.agency_id)
        .where(where)
        .order_by(col(OfficialAction.created_at).desc(), col(OfficialAction.id).desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    items = [
        LogEntry(
            id=row.id or 0,
            created_at=as_utc(row.created_at),
            action=row.action,
            subject_kind=row.subject_kind,
            subject_id=row.subject_id,
            agency_id=row.agency_id,
            agency_name=agency_name,
            actor_id=row.actor_id,
            actor_name=actor_name,
            reason=row.reason,
            public=row.public,
            detail=dict(row.detail),
        )
        for row, actor_name, agency_name in rows
    ]
    return LogPage(items=items, total=total, page=page, pages=pages)


def _in_agencies(agencies: set[int]) -> ColumnElement[bool]:
    return col(OfficialAction.agency_id).in_(sorted(agencies)) if agencies else false()


def public_log(session: Session, *, agency_id: int | None = None, page: int = 1) -> LogPage:
    """Public acts, newest first; of one agency and its units if `agency_id` is given."""
    where: ColumnElement[bool] = col(OfficialAction.public).is_(True)
    if agency_id is not None:
        where = and_(where, _in_agencies(agency_subtree(session, agency_id)))
    return _page(session, where, page)


def dashboard_agencies(session: Session, actor: Account) -> set[int]:
    """Agencies whose private log rows the actor may read: the subtrees of their active grants of a
    role that may see the dashboard (agency grants; a consultation grant covers its agency's rows
    of that consultation only, which the log does not distinguish, so it adds none)."""
    assert actor.id is not None
    roles = RULES[Permission.VIEW_DASHBOARD]
    agencies: set[int] = set()
    for grant in active_grants(session, actor.id):
        if grant.role in roles and grant.agency_id is not None:
            agencies.update(agency_subtree(session, grant.agency_id))
    return agencies


def official_log(
    session: Session, actor: Account | None, *, agency_id: int | None = None, page: int = 1
) -> LogPage:
    """The officials' log: every public act, and the private ones of agencies they oversee.

    With `agency_id`, the actor needs VIEW_DASHBOARD on that agency (403 naming it otherwise) and
    sees all of its acts and its units'. Without, they need VIEW_DASHBOARD somewhere and see the
    public log plus the private acts of every agency their grants cover.
    """
    if agency_id is not None:
        authorize(session, actor, Permission.VIEW_DASHBOARD, Target(agency_id=agency_id))
        return _page(session, _in_agencies(agency_subtree(session, agency_id)), page)
    official = authorize(session, actor, Permission.VIEW_DASHBOARD)
    where = or_(col(OfficialAction.public).is_(True), _in_agencies(dashboard_agencies(session, official)))
    return _page(session, where, page)
