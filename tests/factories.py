"""Test data through the real actions, so factories emit the same events real use does."""

from __future__ import annotations

import itertools

from sqlmodel import Session

from civic.identity import actions
from civic.identity.models import Account, AccountKind, Agency, AgencyKind, Grant, Role
from civic.identity.schemas import Registration
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
