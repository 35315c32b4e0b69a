"""authorize() as a grid: every permission × every role × every kind of scope, checked against a
table written here from the roles' descriptions, not copied from RULES."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from civic.clock import utcnow
from civic.errors import Forbidden, NotAuthenticated
from civic.identity import actions
from civic.identity.authorization import ANYWHERE, Permission, Target, agency_lineage, authorize, is_allowed
from civic.identity.models import Account, AccountKind, Agency, AgencyKind, Role
from civic.identity.schemas import Registration
from tests.factories import grant, make_agency

P = Permission

# What each role is for, read across: the officials' job descriptions.
MAY: dict[Role, set[Permission]] = {
    Role.ADMINISTRATOR: {P.MANAGE_GRANTS, P.VIEW_DRAFTS, P.VIEW_DASHBOARD},
    Role.CONVENER: {P.MANAGE_CONSULTATIONS, P.VIEW_DRAFTS, P.REQUEST_DATA, P.VIEW_DASHBOARD},
    Role.MODERATOR: {P.MODERATE, P.VIEW_DRAFTS, P.VIEW_DASHBOARD},
    Role.RESPONDER: {P.ANSWER_PROPOSALS, P.VIEW_DRAFTS, P.VIEW_DASHBOARD},
    Role.REGISTRAR: {P.VERIFY_IDENTITY},
    Role.ANALYST: {P.REQUEST_DATA, P.VIEW_AGGREGATES, P.VIEW_DASHBOARD},
}

TARGET_CONSULTATION = 7
OTHER_CONSULTATION = 8

# Where the grant sits, relative to the target agency (ministry > target > unit; sibling under the
# ministry too), and whether it reaches: (agency-only target, target naming the consultation).
SCOPES: dict[str, tuple[bool, bool]] = {
    "target agency": (True, True),
    "parent ministry": (True, True),
    "sibling agency": (False, False),
    "child unit": (False, False),
    "matching consultation": (False, True),
    "other consultation": (False, False),
}

# A direct fake hash: these officials never log in, and argon2 would make the grid slow.
NO_LOGIN_HASH = "$argon2id$v=19$m=19456,t=2,p=1$bm90LWEtcmVhbC1zYWx0$bm90LWEtcmVhbC1oYXNo"


@pytest.fixture
def tree(runtime):
    with runtime.db.transaction() as session:
        ministry = make_agency(session, "Ministry", kind=AgencyKind.MINISTRY)
        target = make_agency(session, "Target agency", parent=ministry)
        sibling = make_agency(session, "Sibling agency", parent=ministry)
        unit = make_agency(session, "Unit", parent=target, kind=AgencyKind.DIRECTORATE)
    return {"ministry": ministry, "target": target, "sibling": sibling, "unit": unit}


def official(session, agency: Agency, *, kind: AccountKind = AccountKind.OFFICIAL) -> Account:
    n = next(_numbers)
    data = Registration(email=f"grid{n}@gov.az", display_name=f"Official {n}", password="x" * 10)
    return actions.do_register(session, data, NO_LOGIN_HASH, kind=kind.value, agency_id=agency.id)


_numbers = itertools.count(1)


def scope_kwargs(scope: str, tree: dict[str, Agency]) -> dict[str, int]:
    return {
        "target agency": {"agency_id": tree["target"].id},
        "parent ministry": {"agency_id": tree["ministry"].id},
        "sibling agency": {"agency_id": tree["sibling"].id},
        "child unit": {"agency_id": tree["unit"].id},
        "matching consultation": {"consultation_id": TARGET_CONSULTATION},
        "other consultation": {"consultation_id": OTHER_CONSULTATION},
    }[scope]


def decision(session, actor, permission, target) -> bool:
    try:
        authorize(session, actor, permission, target)
    except Forbidden as exc:
        assert permission.value in exc.message  # the refusal names what was needed
        return False
    return True


@pytest.mark.parametrize("role", list(Role))
def test_authorize_matches_the_expectation_table(runtime, tree, role):
    """One official per kind of scope holding `role`; each asked every permission on three targets."""
    targets = {
        "agency only": Target(agency_id=tree["target"].id),
        "agency + consultation": Target(agency_id=tree["target"].id, consultation_id=TARGET_CONSULTATION),
        "anywhere": ANYWHERE,
    }
    wrong = []
    with runtime.db.transaction() as session:
        for scope, (reach_agency, reach_consultation) in SCOPES.items():
            actor = official(session, tree["target"])
            grant(session, actor, role, **scope_kwargs(scope, tree))
            for permission in Permission:
                role_may = permission in MAY[role]
                expected = {
                    "agency only": role_may and reach_agency,
                    "agency + consultation": role_may and reach_consultation,
                    "anywhere": role_may,
                }
                for name, target in targets.items():
                    got = decision(session, actor, permission, target)
                    if got != expected[name] or is_allowed(session, actor, permission, target) != got:
                        wrong.append(
                            f"{scope} grant, {permission.value} on {name}: expected {expected[name]}"
                        )
    assert wrong == []


def test_every_permission_is_granted_by_some_role_and_the_table_covers_them_all():
    assert set(Permission) == set().union(*MAY.values())
    assert set(MAY) == set(Role)


@pytest.mark.parametrize("kind", [k for k in AccountKind if k != AccountKind.OFFICIAL])
def test_e_citizens_are_refused_every_permission_naming_the_roles(runtime, tree, kind):
    with runtime.db.transaction() as session:
        citizen = official(session, tree["target"], kind=kind)
        # Even a grant row (a data mistake) does not make an e-citizen an official.
        grant(session, citizen, Role.ADMINISTRATOR, agency_id=tree["ministry"].id)
        for permission, target in itertools.product(
            Permission, (ANYWHERE, Target(agency_id=tree["target"].id))
        ):
            with pytest.raises(Forbidden) as refused:
                authorize(session, citizen, permission, target)
            for role in Role:
                assert (role.value in refused.value.message) == (permission in MAY[role]), (permission, role)


def test_anonymous_visitors_must_log_in(runtime):
    with runtime.db.transaction() as session:
        for permission in Permission:
            with pytest.raises(NotAuthenticated):
                authorize(session, None, permission)
            assert not is_allowed(session, None, permission)


def test_an_official_without_grants_is_refused_with_a_message_naming_role_and_scope(runtime, tree):
    with runtime.db.transaction() as session:
        actor = official(session, tree["target"])
        with pytest.raises(Forbidden) as refused:
            authorize(session, actor, P.MODERATE, Target(agency_id=tree["target"].id, consultation_id=7))
    message = refused.value.message
    assert "moderator" in message
    assert f"agency {tree['target'].id}" in message
    assert "consultation 7" in message


def test_a_deactivated_official_loses_every_grant(runtime, tree):
    with runtime.db.transaction() as session:
        actor = official(session, tree["target"])
        grant(session, actor, Role.MODERATOR, agency_id=tree["target"].id)
        actor.is_active = False
        assert not is_allowed(session, actor, P.MODERATE, Target(agency_id=tree["target"].id))


@pytest.mark.parametrize(
    ("change", "allowed"),
    [
        ({"ends_at": timedelta(minutes=-1)}, False),
        ({"ends_at": timedelta(minutes=5)}, True),
        ({"revoked_at": timedelta(minutes=-1)}, False),
    ],
)
def test_only_grants_active_now_count(runtime, tree, change, allowed):
    with runtime.db.transaction() as session:
        actor = official(session, tree["target"])
        row = grant(session, actor, Role.CONVENER, agency_id=tree["ministry"].id)
        for name, delta in change.items():
            setattr(row, name, utcnow() + delta)
        session.add(row)
        session.flush()
        assert (
            is_allowed(session, actor, P.MANAGE_CONSULTATIONS, Target(agency_id=tree["unit"].id)) is allowed
        )


def test_a_grant_on_the_ministry_reaches_every_level_below(runtime, tree):
    with runtime.db.transaction() as session:
        actor = official(session, tree["ministry"])
        grant(session, actor, Role.MODERATOR, agency_id=tree["ministry"].id)
        for name in ("ministry", "target", "sibling", "unit"):
            assert is_allowed(session, actor, P.MODERATE, Target(agency_id=tree[name].id)), name


def test_lineage_ends_even_if_the_agency_tree_has_a_cycle(runtime, tree):
    with runtime.db.transaction() as session:
        ministry = session.get(Agency, tree["ministry"].id)
        ministry.parent_id = tree["unit"].id  # a data-entry mistake must not hang every request
        session.add(ministry)
        session.flush()
        lineage = agency_lineage(session, tree["unit"].id)
    assert lineage == [tree["unit"].id, tree["target"].id, tree["ministry"].id]
