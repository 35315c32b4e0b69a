"""Disclosure requests and the consent state machine (W3C DPV: requested, given, refused,
withdrawn, expired), each change on the ledger and as an event without any attribute value."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from civic.clock import utcnow
from civic.errors import Conflict, Forbidden, InvalidInput, NotFound
from civic.identity.models import Account, Role
from civic.runtime import Runtime
from civic.trust import consents, ledger, requests
from civic.trust.models import Consent, ConsentState
from civic.trust.schemas import AnswerInput, RequestInput
from tests.participation.conftest import World
from tests.trust._consent_support import (
    ask,
    give,
    grant,
    make_consultation,
    make_proposal,
    official,
    outbox,
    run,
    set_vault,
)

SECRET = "leyla.secret@example.az"


def _kinds(runtime: Runtime) -> list[str]:
    with runtime.db.transaction() as s:
        size = ledger.tree_size(s)
        return [str((ledger.record_of(s, i) or {}).get("_kind", "")) for i in range(size)]


def _ledger_records(runtime: Runtime) -> list[dict[str, object]]:
    with runtime.db.transaction() as s:
        return [ledger.record_of(s, i) or {} for i in range(ledger.tree_size(s))]


def test_request_then_grant_some_then_revoke(runtime: Runtime, world: World, keys) -> None:
    set_vault(runtime, keys, world.leyla, contact_email=SECRET, contact_phone="+994 12 345 67 89")
    request = ask(
        runtime, world.convener, citizen_id=world.leyla.id, attributes=["contact_email", "contact_phone"]
    )
    assert request.agency_id == world.agency.id and request.ledger_index is not None
    mine = run(runtime, lambda s: requests.open_requests(s, s.get(Account, world.leyla.id)))
    assert [r.id for r in mine] == [request.id]

    consent = grant(runtime, world.leyla, request.id, ["contact_email"])
    assert consent.state == ConsentState.GIVEN and consent.attributes == ["contact_email"]
    assert consent.expires_at is not None
    assert run(runtime, lambda s: requests.open_requests(s, s.get(Account, world.leyla.id))) == []

    revoked = run(runtime, lambda s: consents.revoke(s, s.get(Account, world.leyla.id), consent.id))
    assert revoked.state == ConsentState.WITHDRAWN and revoked.end_ledger_index is not None

    records = _ledger_records(runtime)
    assert [r.get("state") for r in records[1:]] == ["given", "withdrawn"]
    assert all(SECRET not in repr(r) for r in records)
    for kind in ("disclosure.requested", "consent.granted", "consent.revoked"):
        rows = outbox(runtime, kind)
        assert len(rows) == 1 and SECRET not in repr(rows)
    assert f"user:{world.leyla.id}" in outbox(runtime, "consent.granted")[0]["topics"]
    assert f"dashboard:agency:{world.agency.id}" in outbox(runtime, "consent.revoked")[0]["topics"]


def test_refusal_and_no_second_answer(runtime: Runtime, world: World) -> None:
    request = ask(runtime, world.convener, citizen_id=world.kamal.id)
    refused = run(runtime, lambda s: consents.refuse(s, s.get(Account, world.kamal.id), request.id))
    assert refused.state == ConsentState.REFUSED and refused.expires_at is None
    with pytest.raises(Conflict):
        grant(runtime, world.kamal, request.id, ["contact_email"])
    with pytest.raises(Conflict):  # nothing to withdraw from a refusal
        run(runtime, lambda s: consents.revoke(s, s.get(Account, world.kamal.id), refused.id))
    assert len(outbox(runtime, "consent.refused")) == 1


def test_grant_only_what_was_asked(runtime: Runtime, world: World) -> None:
    request = ask(runtime, world.convener, citizen_id=world.leyla.id)
    with pytest.raises(InvalidInput):
        grant(runtime, world.leyla, request.id, ["contact_email", "gender"])
    with pytest.raises(InvalidInput):
        grant(runtime, world.leyla, request.id, ["shoe_size"])


def test_someone_elses_request_and_consent_are_not_found(runtime: Runtime, world: World) -> None:
    request = ask(runtime, world.convener, citizen_id=world.leyla.id)
    with pytest.raises(NotFound):
        grant(runtime, world.kamal, request.id, ["contact_email"])
    consent = grant(runtime, world.leyla, request.id, ["contact_email"])
    with pytest.raises(NotFound):
        run(runtime, lambda s: consents.revoke(s, s.get(Account, world.kamal.id), consent.id))


def test_consultation_wide_request_reaches_participants_only(runtime: Runtime, world: World) -> None:
    with runtime.db.transaction() as s:
        c = make_consultation(s, s.get(Account, world.convener.id))
        make_proposal(s, s.get(Account, world.leyla.id), c)
    request = ask(
        runtime,
        world.convener,
        consultation_id=c.id,
        purpose="consultation_statistics",
        attributes=["age_band"],
    )
    assert request.citizen_id is None and request.agency_id == c.agency_id
    assert [
        r.id for r in run(runtime, lambda s: requests.open_requests(s, s.get(Account, world.leyla.id)))
    ] == [request.id]
    assert run(runtime, lambda s: requests.open_requests(s, s.get(Account, world.kamal.id))) == []
    with pytest.raises(NotFound):
        grant(runtime, world.kamal, request.id, ["age_band"])


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"attributes": ["blood_type"]}, "attributes"),
        ({"purpose": "marketing"}, "purpose"),
    ],
)
def test_outside_the_vocabulary_is_422(runtime: Runtime, world: World, fields: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ask(runtime, world.convener, citizen_id=world.leyla.id, **fields)
    assert field in caught.value.fields


def test_who_may_ask(runtime: Runtime, world: World) -> None:
    with pytest.raises(Forbidden):  # a moderator holds no REQUEST_DATA
        ask(runtime, world.moderator, citizen_id=world.leyla.id)
    with pytest.raises(Forbidden):  # a convener of another agency, for this agency
        ask(runtime, world.other_convener, citizen_id=world.leyla.id, agency_id=world.agency.id)
    analyst = official(runtime, "Analyst", world.agency.id, Role.ANALYST)
    assert ask(runtime, analyst, citizen_id=world.leyla.id).agency_id == world.agency.id
    with pytest.raises(NotFound):  # officials are not asked for their data
        ask(runtime, world.convener, citizen_id=world.moderator.id)


def test_expiry_is_lazy_then_recorded_by_the_sweep(runtime: Runtime, world: World) -> None:
    start = utcnow() - timedelta(days=10)
    consent = give(runtime, world.leyla, world.agency.id, "research", ["gender"], days=3, now=start)
    later = give(runtime, world.kamal, world.agency.id, "research", ["gender"], days=30)
    assert consents.effective_state(consent) is ConsentState.EXPIRED
    assert consent.state == ConsentState.GIVEN  # not recorded yet
    with pytest.raises(Conflict):
        run(runtime, lambda s: consents.revoke(s, s.get(Account, world.leyla.id), consent.id))
    assert run(runtime, consents.expire_due) == 1
    assert run(runtime, consents.expire_due) == 0  # once
    with runtime.db.transaction() as s:
        stored = s.get(Consent, consent.id)
        assert stored.state == ConsentState.EXPIRED and stored.end_ledger_index is not None
        assert s.get(Consent, later.id).state == ConsentState.GIVEN
        assert ledger.record_of(s, stored.end_ledger_index)["state"] == "expired"
    assert len(outbox(runtime, "consent.expired")) == 1


def test_proactive_consent_and_one_answer_per_request(runtime: Runtime, world: World) -> None:
    consent = give(runtime, world.aysel, world.other_agency.id, "research", ["education", "occupation"])
    assert consent.request_id is None and consent.attributes == ["occupation", "education"]
    with pytest.raises(NotFound):
        give(runtime, world.aysel, 2**31 - 1, "research", ["education"])
    request = ask(runtime, world.convener, citizen_id=world.aysel.id)
    grant(runtime, world.aysel, request.id, ["contact_email"])
    with runtime.db.transaction() as s:
        rows = s.exec(select(Consent).where(Consent.request_id == request.id)).all()
        assert len(rows) == 1


def test_officials_have_no_consent_centre(runtime: Runtime, world: World) -> None:
    with pytest.raises(NotFound):
        run(runtime, lambda s: consents.my_consents(s, s.get(Account, world.convener.id)))
    with pytest.raises(Exception):  # noqa: B017,PT011
        run(runtime, lambda s: consents.grant(s, None, 1, AnswerInput(attributes=["gender"])))
    assert RequestInput  # imported for the schema's own tests below


def test_request_must_name_someone() -> None:
    with pytest.raises(ValueError, match="Name a citizen"):
        RequestInput(purpose="research", attributes=["gender"], retention_days=5)
