"""Fixtures shared by leadership's tests.

Builds on participation's: the same fast per-test database, the `world` cast (a ministry, its
transport agency with a unit below it, an unrelated culture agency, their officials and
e-citizens) and the factories that go through participation's real actions, so every proposal and
comment here emitted the events real use does.

`scene` adds what moderation needs on top of `world`:
- `consultation`: the transport agency's, published, in its proposals phase, post-moderation;
- `pre_consultation`: the same agency's, pre-moderated (proposals wait in the queue);
- `other_consultation`: the culture agency's, post-moderation;
- `moderator` (world's, of the transport agency and so of its unit), `second_moderator` (same
  agency: appeals go to a different moderator), `other_moderator` (of the culture agency only).

Helpers, each in its own committed transaction: `proposal(runtime, author, consultation)`,
`comment(runtime, author, proposal_id)`, `report(runtime, reporter, kind, item_id)`;
`established(runtime, n)` makes n verified three-month-old citizens (a report of theirs weighs
exactly 1.0, so three hide an item) and `set_age` ages an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from civic.clock import utcnow
from civic.identity.models import Account, AccountKind, Grant, Role
from civic.leadership.models import Report
from civic.leadership.reports import file_report
from civic.leadership.schemas import ReportInput
from civic.participation.models import Comment, Consultation, Phase, Proposal
from civic.runtime import Runtime
from tests.participation.conftest import (  # noqa: F401  (fixtures re-exported for this package)
    Browser,
    World,
    _hash,
    _numbers,
    _sqlite_template,
    app,
    browser,
    database_url,
    error,
    load,
    make_comment,
    make_consultation,
    make_proposal,
    outbox,
    person,
    snapshot,
    world,
)


@dataclass
class Scene:
    world: World
    consultation: Consultation  # transport agency, post-moderation, proposals phase
    pre_consultation: Consultation  # transport agency, pre-moderation, proposals phase
    other_consultation: Consultation  # culture agency, post-moderation, proposals phase
    moderator: Account  # transport agency (and its unit)
    second_moderator: Account  # transport agency: decides appeals against `moderator`
    other_moderator: Account  # culture agency only


def official(session: Session, runtime: Runtime, name: str, agency_id: int | None, *roles: Role) -> Account:
    """An official of the agency holding `roles` there (rows as identity's actions leave them)."""
    now = utcnow()
    account = Account(
        email=f"{name.lower().replace(' ', '-')}.{next(_numbers)}@example.az",
        display_name=name,
        kind=AccountKind.OFFICIAL,
        password_hash=_hash(runtime),
        agency_id=agency_id,
        created_at=now,
    )
    session.add(account)
    session.flush()
    session.add_all(
        [Grant(account_id=account.id, role=r, agency_id=agency_id, granted_at=now) for r in roles]
    )
    session.flush()
    return account


@pytest.fixture
def scene(runtime: Runtime, world: World) -> Scene:  # noqa: F811
    with runtime.db.transaction() as s:
        consultation = make_consultation(s, world.convener, phase=Phase.PROPOSALS)
        pre = make_consultation(
            s, world.convener, phase=Phase.PROPOSALS, moderation="pre", title="Pre-moderated parks"
        )
        other = make_consultation(s, world.other_convener, phase=Phase.PROPOSALS, title="Museum hours")
        second = official(s, runtime, "Second moderator", world.agency.id, Role.MODERATOR)
        other_mod = official(s, runtime, "Other moderator", world.other_agency.id, Role.MODERATOR)
    return Scene(world, consultation, pre, other, world.moderator, second, other_mod)


def proposal(runtime: Runtime, author: Account, consultation: Consultation, **kwargs: Any) -> Proposal:
    with runtime.db.transaction() as s:
        return make_proposal(s, author, consultation, **kwargs)


def comment(
    runtime: Runtime, author: Account, proposal_id: int, body: str = "This is spam, buy now."
) -> Comment:
    with runtime.db.transaction() as s:
        return make_comment(s, author, proposal_id, body)


def report(runtime: Runtime, reporter: Account, kind: str, item_id: int, reason: str = "spam") -> Report:
    """`reporter` reports the item through the real action, in its own transaction."""
    with runtime.db.transaction() as s:
        return file_report(s, reporter, kind, item_id, ReportInput(reason=reason))  # type: ignore[arg-type]


def set_age(runtime: Runtime, account: Account, days: float) -> Account:
    """Make the account `days` old (report weights depend on it)."""
    with runtime.db.transaction() as s:
        row = s.get(Account, account.id)
        assert row is not None
        row.created_at = utcnow() - timedelta(days=days)
        s.add(row)
    account.created_at = row.created_at
    return account


def established(runtime: Runtime, count: int, name: str = "Citizen") -> list[Account]:
    """`count` verified citizens three months old: each report of theirs weighs exactly 1.0."""
    with runtime.db.transaction() as s:
        people = [person(runtime, s, f"{name} {i}") for i in range(count)]
        for p in people:
            p.verification_level = "verified"
            p.created_at = utcnow() - timedelta(days=90)
            s.add(p)
    return people
