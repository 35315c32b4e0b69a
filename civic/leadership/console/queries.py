"""Reads for the console: what an official's grants reach (agencies, consultations)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, or_, select

from civic.identity.authorization import RULES, Permission, active_grants
from civic.identity.models import Account, Agency, Grant
from civic.leadership.grants import agency_subtree
from civic.participation.models import Consultation


@dataclass(frozen=True)
class HeldGrant:
    grant: Grant
    agency: Agency | None
    consultation: Consultation | None


def held_grants(session: Session, account: Account) -> list[HeldGrant]:
    """The account's active grants, with what each names."""
    assert account.id is not None
    return [
        HeldGrant(
            g,
            session.get(Agency, g.agency_id) if g.agency_id else None,
            session.get(Consultation, g.consultation_id) if g.consultation_id else None,
        )
        for g in sorted(active_grants(session, account.id), key=lambda g: (g.role, g.id or 0))
    ]


def _grants_for(session: Session, account: Account, permission: Permission) -> list[Grant]:
    assert account.id is not None
    return [g for g in active_grants(session, account.id) if g.role in RULES[permission]]


def reachable_agencies(session: Session, account: Account, permission: Permission) -> list[Agency]:
    """Agencies the account's agency-wide grants for `permission` cover (each with its units)."""
    ids: list[int] = []
    for g in _grants_for(session, account, permission):
        if g.agency_id is not None and g.consultation_id is None:
            ids.extend(a for a in agency_subtree(session, g.agency_id) if a not in ids)
    if not ids:
        return []
    return list(session.exec(select(Agency).where(col(Agency.id).in_(ids)).order_by(col(Agency.name))).all())


def reachable_consultations(session: Session, account: Account, permission: Permission) -> list[Consultation]:
    """Consultations (drafts included) the account's grants for `permission` cover, newest first."""
    agency_ids = [a.id for a in reachable_agencies(session, account, permission)]
    consultation_ids = [
        g.consultation_id for g in _grants_for(session, account, permission) if g.consultation_id is not None
    ]
    if not agency_ids and not consultation_ids:
        return []
    return list(
        session.exec(
            select(Consultation)
            .where(
                or_(col(Consultation.agency_id).in_(agency_ids), col(Consultation.id).in_(consultation_ids))
            )
            .order_by(col(Consultation.id).desc())
        ).all()
    )
