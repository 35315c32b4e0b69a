"""Reads of identity's tables."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from civic.identity.authorization import active_grants
from civic.identity.models import Account, Agency, AuthSession, Grant, VerificationRecord


def account_by_email(session: Session, email: str) -> Account | None:
    if "\x00" in email:  # no stored address has one, and PostgreSQL would refuse the query
        return None
    return session.exec(select(Account).where(Account.email == email.strip().lower())).first()


def verification_history(session: Session, account_id: int) -> list[VerificationRecord]:
    return list(
        session.exec(
            select(VerificationRecord)
            .where(VerificationRecord.account_id == account_id)
            .order_by(col(VerificationRecord.created_at))
        ).all()
    )


def session_count(session: Session, account_id: int) -> int:
    return int(
        session.exec(
            select(func.count()).select_from(AuthSession).where(AuthSession.account_id == account_id)
        ).one()
    )


def grants_with_agencies(session: Session, account_id: int) -> list[tuple[Grant, Agency | None]]:
    return [
        (g, session.get(Agency, g.agency_id) if g.agency_id else None)
        for g in active_grants(session, account_id)
    ]
