"""The access gate: a value only under an active consent at that moment; every refusal has its
reason and is recorded too (data_access row and ledger entry), like every access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from civic.clock import utcnow
from civic.errors import Forbidden, NotFound
from civic.identity.models import Account, Role
from civic.runtime import Runtime
from civic.trust import consents, gate, ledger
from civic.trust.models import AccessOutcome, DataAccess
from tests.participation.conftest import World
from tests.trust._consent_support import ask, give, grant, official, outbox, run, set_vault

EMAIL = "leyla.private@example.az"
SERVED = "Calling back about proposal 12"


def read(
    runtime: Runtime,
    keys,
    who: Account,
    citizen: Account,
    attribute: str = "contact_email",
    purpose: str = "contact_about_proposal",
    **kw,
):  # type: ignore[no-untyped-def]
    return run(
        runtime,
        lambda s: gate.attempt(
            s, s.get(Account, who.id), citizen.id, attribute, purpose, SERVED, fernet=keys.vault, **kw
        ),
    )


def accesses(runtime: Runtime) -> list[DataAccess]:
    with runtime.db.transaction() as s:
        return list(s.exec(select(DataAccess).order_by(col(DataAccess.id))).all())


def test_read_under_consent_is_recorded(runtime: Runtime, world: World, keys) -> None:
    set_vault(runtime, keys, world.leyla, contact_email=EMAIL)
    request = ask(runtime, world.convener, citizen_id=world.leyla.id)
    grant(runtime, world.leyla, request.id, ["contact_email"])
    assert read(runtime, keys, world.convener, world.leyla) == EMAIL
    (access,) = accesses(runtime)
    assert access.outcome == AccessOutcome.ACCESSED and access.role == "convener"
    assert access.agency_id == world.agency.id and access.served == SERVED
    with runtime.db.transaction() as s:
        record = ledger.record_of(s, access.ledger_index)
    assert record["attributes"] == ["contact_email"] and record["official_id"] == world.convener.id
    assert EMAIL not in repr(record)
    (event,) = outbox(runtime, "data.accessed")
    assert EMAIL not in repr(event) and f"user:{world.leyla.id}" in event["topics"]


def test_refusals_have_reasons_and_are_recorded(runtime: Runtime, world: World, keys) -> None:
    set_vault(runtime, keys, world.leyla, contact_email=EMAIL)
    refused = read(runtime, keys, world.convener, world.leyla)
    assert isinstance(refused, gate.AccessRefused) and refused.reason == "none"

    request = ask(runtime, world.convener, citizen_id=world.leyla.id)
    consent = grant(runtime, world.leyla, request.id, ["contact_email"])
    assert read(runtime, keys, world.convener, world.leyla) == EMAIL
    assert read(runtime, keys, world.convener, world.leyla, attribute="gender").reason == "none"
    assert read(runtime, keys, world.convener, world.leyla, purpose="research").reason == "none"
    run(runtime, lambda s: consents.revoke(s, s.get(Account, world.leyla.id), consent.id))
    assert read(runtime, keys, world.convener, world.leyla).reason == "revoked"

    old = utcnow() - timedelta(days=40)
    give(runtime, world.kamal, world.agency.id, "contact_about_proposal", ["contact_email"], days=30, now=old)
    set_vault(runtime, keys, world.kamal, contact_email="kamal@example.az")
    assert read(runtime, keys, world.convener, world.kamal).reason == "expired"
    give(runtime, world.aysel, world.agency.id, "contact_about_proposal", ["contact_email"])
    assert read(runtime, keys, world.convener, world.aysel).reason == "not_provided"

    rows = accesses(runtime)
    assert [(a.outcome, a.reason) for a in rows] == [
        ("refused", "none"),
        ("accessed", None),
        ("refused", "none"),
        ("refused", "none"),
        ("refused", "revoked"),
        ("refused", "expired"),
        ("refused", "not_provided"),
    ]
    with runtime.db.transaction() as s:
        kinds = {ledger.record_of(s, a.ledger_index).get("reason") for a in rows}
    assert kinds == {None, "none", "revoked", "expired", "not_provided"}
    assert len(outbox(runtime, "data.accessed")) == 1


def test_officials_of_other_agencies_and_roles_cannot_read(runtime: Runtime, world: World, keys) -> None:
    set_vault(runtime, keys, world.leyla, contact_email=EMAIL)
    request = ask(runtime, world.convener, citizen_id=world.leyla.id)
    grant(runtime, world.leyla, request.id, ["contact_email"])
    for who, kw in [
        (world.other_convener, {}),  # their own agency holds no consent: recorded refusal
        (world.other_convener, {"agency_id": world.agency.id}),  # no grant there: Forbidden
        (world.moderator, {}),  # no REQUEST_DATA at all: Forbidden
    ]:
        try:
            result = read(runtime, keys, who, world.leyla, **kw)
        except Forbidden:
            continue
        assert isinstance(result, gate.AccessRefused) and result.reason == "none"
    # Forbidden reads wrote nothing; the one refusal for the culture agency is on record.
    assert [(a.agency_id, a.outcome) for a in accesses(runtime)] == [(world.other_agency.id, "refused")]
    with pytest.raises(NotFound):
        read(runtime, keys, world.convener, world.moderator)
    minister_analyst = official(runtime, "Ministry analyst", world.ministry.id, Role.ANALYST)
    # A grant on the ministry covers the agency below it, reading for that agency.
    assert read(runtime, keys, minister_analyst, world.leyla, agency_id=world.agency.id) == EMAIL


def test_refusal_survives_when_raised_through_a_committed_caller(
    runtime: Runtime, world: World, keys
) -> None:
    with pytest.raises(gate.AccessRefused), runtime.db.transaction() as s:
        gate.read_attribute(
            s,
            s.get(Account, world.convener.id),
            world.leyla.id,
            "gender",
            "research",
            SERVED,
            fernet=keys.vault,
        )
    assert accesses(runtime) == []  # raised through the transaction: rolled back, hence `attempt`
