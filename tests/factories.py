"""Test data through the real actions, so factories emit the same events real use does."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlmodel import Session

from civic.clock import utcnow
from civic.identity import actions
from civic.identity.models import Account, AccountKind, Agency, AgencyKind, Grant, Role
from civic.identity.schemas import Registration
from civic.identity.standing import MAX_LEVEL, do_set_standing
from civic.runtime import Runtime

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


def make_agency(
    session: Session,
    name: str = "Agency",
    *,
    parent: Agency | None = None,
    kind: AgencyKind = AgencyKind.AGENCY,
) -> Agency:
    n = next(_numbers)
    agency = Agency(
        slug=f"agency-{n}",
        name=f"{name} {n}",
        name_az=f"{name} {n} (az)",
        kind=kind,
        parent_id=parent.id if parent else None,
    )
    session.add(agency)
    session.flush()
    return agency


def make_account(
    runtime: Runtime,
    session: Session,
    *,
    kind: AccountKind = AccountKind.CITIZEN,
    email: str | None = None,
    name: str | None = None,
    agency: Agency | None = None,
    password: str = PASSWORD,
) -> Account:
    n = next(_numbers)
    data = Registration(
        email=email or f"person{n}@example.az",
        display_name=name or f"Person {n}",
        password=password,
        kind=kind.value if kind != AccountKind.OFFICIAL else "citizen",  # type: ignore[arg-type]
    )
    return actions.do_register(
        session,
        data,
        runtime.passwords.hash(password),
        kind=kind.value,
        agency_id=agency.id if agency else None,
    )


def make_official(runtime: Runtime, session: Session, agency: Agency, *roles: Role, **kwargs) -> Account:
    official = make_account(runtime, session, kind=AccountKind.OFFICIAL, agency=agency, **kwargs)
    for role in roles:
        actions.do_grant_role(session, official, role, agency_id=agency.id)
    return official


def grant(session: Session, official: Account, role: Role, **scope) -> Grant:
    return actions.do_grant_role(session, official, role, **scope)


def raise_standing(session: Session, account: Account, level: int = MAX_LEVEL) -> Account:
    """Give `account` the standing `level` (0-4), as engagement would after enough taking part:
    for tests that need a citizen past a new account's daily limits or into a restricted
    consultation. Engagement recomputes a standing from activity whenever it handles an event
    about the account, so this holds only until the bus is next settled for that account."""
    assert account.id is not None
    do_set_standing(session, account.id, level, "set by a test")
    return account


def backdate_account(session: Session, account: Account, days: int = 2) -> Account:
    """Make `account` `days` old. Where the engagement handler runs (the bus is settled), its first
    contribution then earns level 1 (Participant) and that level's daily limits, as a real citizen
    past their first day; `raise_standing` would not last there, since the handler recomputes it."""
    row = session.get(Account, account.id)
    assert row is not None
    row.created_at = utcnow() - timedelta(days=days)
    session.add(row)
    session.flush()
    account.created_at = row.created_at
    return account
