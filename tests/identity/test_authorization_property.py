"""`authorize` against a naive reading of its rules, over random agency trees and grants.

The matrix in tests/leadership checks every endpoint against fixed roles; this checks the rule
itself: any tree shape, any mix of agency- and consultation-scoped, expired, revoked and future-
ending grants, any permission and target. The reference walks parents one by one and reads the
role table literally, sharing no code with the implementation but the table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from civic.identity.authorization import RULES, Permission, Target, is_allowed
from civic.identity.models import Account, AccountKind, Agency, Grant, Role

NOW = datetime.now(UTC)
CONSULTATIONS = (101, 102, 103)

grant_strategy = st.fixed_dictionaries(
    {
        "role": st.sampled_from(list(Role)),
        "scope": st.one_of(
            st.tuples(st.just("agency"), st.integers(0, 7)),
            st.tuples(st.just("consultation"), st.sampled_from(CONSULTATIONS)),
        ),
        "ends": st.sampled_from([None, -3600, 3600]),  # open-ended, ended an hour ago, ends in an hour
        "revoked": st.booleans(),
    }
)
case_strategy = st.fixed_dictionaries(
    {
        # parents[i] is the parent of agency i+1 (an index below it): every shape of tree
        "parents": st.lists(st.integers(0, 6), min_size=7, max_size=7),
        "kind": st.sampled_from([AccountKind.OFFICIAL, AccountKind.OFFICIAL, AccountKind.CITIZEN]),
        "active": st.sampled_from([True, True, False]),
        "grants": st.lists(grant_strategy, max_size=5),
        "permission": st.sampled_from(list(Permission)),
        "target_agency": st.one_of(st.none(), st.integers(0, 7)),
        "target_consultation": st.one_of(st.none(), st.sampled_from(CONSULTATIONS)),
    }
)


def reference(case: dict, parent_of: dict[int, int | None]) -> bool:
    if case["kind"] != AccountKind.OFFICIAL or not case["active"]:
        return False
    target_agency, target_consultation = case["target_agency"], case["target_consultation"]
    for g in case["grants"]:
        if g["revoked"] or (g["ends"] is not None and g["ends"] < 0):
            continue
        if g["role"] not in RULES[case["permission"]]:
            continue
        if target_agency is None and target_consultation is None:
            return True
        kind, value = g["scope"]
        if kind == "consultation":
            if value == target_consultation:
                return True
            continue
        walk = target_agency
        while walk is not None:
            if walk == value:
                return True
            walk = parent_of[walk]
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=case_strategy)
def test_authorize_agrees_with_the_naive_rule(case: dict) -> None:
    engine = create_engine("sqlite://", poolclass=StaticPool)
    SQLModel.metadata.create_all(engine, tables=[Agency.__table__, Account.__table__, Grant.__table__])  # type: ignore[attr-defined]
    parent_of: dict[int, int | None] = {0: None}
    for child, parent in enumerate(case["parents"], start=1):
        parent_of[child] = min(parent, child - 1)
    with Session(engine) as session:
        ids: dict[int, int] = {}
        for index in range(8):  # parents before children, so ids exist when referenced
            parent = parent_of[index]
            agency = Agency(
                slug=f"a{index}",
                name=f"A{index}",
                name_az=f"A{index}",
                kind="ministry" if parent is None else "agency",
                parent_id=None if parent is None else ids[parent],
            )
            session.add(agency)
            session.flush()
            ids[index] = agency.id  # type: ignore[assignment]
        actor = Account(
            email="o@example.az",
            display_name="O",
            kind=case["kind"],
            password_hash="x",
            created_at=NOW,
            is_active=case["active"],
        )
        session.add(actor)
        session.flush()
        for g in case["grants"]:
            kind, value = g["scope"]
            session.add(
                Grant(
                    account_id=actor.id,  # type: ignore[arg-type]
                    role=g["role"],
                    agency_id=ids[value] if kind == "agency" else None,
                    consultation_id=value if kind == "consultation" else None,
                    granted_at=NOW - timedelta(days=1),
                    ends_at=None if g["ends"] is None else NOW + timedelta(seconds=g["ends"]),
                    revoked_at=NOW - timedelta(minutes=1) if g["revoked"] else None,
                )
            )
        session.flush()
        target = Target(
            agency_id=None if case["target_agency"] is None else ids[case["target_agency"]],
            consultation_id=case["target_consultation"],
        )
        assert is_allowed(session, actor, case["permission"], target) == reference(case, parent_of)
    engine.dispose()
