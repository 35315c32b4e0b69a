"""Receipts: ISO/IEC TS 27560 / Kantara fields, and a ledger proof that checks offline with
`check_receipt` (no database) — and stops checking when anything in it is altered."""

from __future__ import annotations

import copy
import json

import pytest

from civic.errors import NotFound
from civic.identity.models import Account
from civic.runtime import Runtime
from civic.trust import consents, receipts
from civic.trust.receipts_verify import check_receipt
from tests.participation.conftest import World
from tests.trust._consent_support import ask, give, grant, run

BASE = "https://civic.example.az"


def receipt_of(runtime: Runtime, keys, citizen: Account, consent_id: int) -> dict:  # type: ignore[no-untyped-def]
    body = run(
        runtime,
        lambda s: receipts.my_receipt(s, keys.signer, s.get(Account, citizen.id), consent_id, base_url=BASE),
    )
    return json.loads(json.dumps(body))  # as downloaded


def test_receipt_fields_and_offline_check(runtime: Runtime, world: World, keys) -> None:
    request = ask(runtime, world.convener, citizen_id=world.leyla.id, attributes=["contact_email", "gender"])
    consent = grant(runtime, world.leyla, request.id, ["gender"])
    give(runtime, world.kamal, world.agency.id, "research", ["gender"])  # the log grows past it
    receipt = receipt_of(runtime, keys, world.leyla, consent.id)
    for field in ("receipt_id", "consent_timestamp", "pii_principal_id", "pii_controllers", "policy_url",
                  "services", "expiry", "withdrawal", "state", "ledger"):  # fmt: skip
        assert field in receipt, field
    purpose = receipt["services"][0]["purposes"][0]
    assert purpose["purpose_id"] == "contact_about_proposal"
    assert purpose["lawful_basis"]["dpv"].endswith("#Consent")
    assert [c["attribute"] for c in purpose["pii_category"]] == ["gender"]
    assert receipt["pii_controllers"][0]["agency_id"] == world.agency.id
    assert receipt["ledger"]["index"] == consent.ledger_index
    assert receipt["ledger"]["record"]["consent_id"] == consent.id
    assert check_receipt(receipt) == []
    assert check_receipt(receipt, keys.public_key) == []


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r["ledger"]["record"].__setitem__("attributes", ["contact_email"]),
        lambda r: r["ledger"].__setitem__("index", r["ledger"]["index"] + 1),
        lambda r: r["ledger"]["tree_head"].__setitem__("size", r["ledger"]["tree_head"]["size"] + 1),
    ],
    ids=["record", "index", "tree-size"],
)
def test_an_altered_receipt_fails(runtime: Runtime, world: World, keys, tamper) -> None:  # type: ignore[no-untyped-def]
    consent = give(runtime, world.leyla, world.agency.id, "research", ["gender", "contact_email"])
    give(runtime, world.kamal, world.agency.id, "research", ["gender"])
    receipt = receipt_of(runtime, keys, world.leyla, consent.id)
    altered = copy.deepcopy(receipt)
    tamper(altered)
    assert check_receipt(altered) != []


def test_withdrawn_consent_receipt_and_privacy(runtime: Runtime, world: World, keys) -> None:
    consent = give(runtime, world.leyla, world.agency.id, "research", ["gender"])
    run(runtime, lambda s: consents.revoke(s, s.get(Account, world.leyla.id), consent.id))
    receipt = receipt_of(runtime, keys, world.leyla, consent.id)
    assert receipt["state"] == "withdrawn"
    assert [e["event_type"] for e in receipt["events"]] == ["consent.granted", "consent.revoked"]
    assert check_receipt(receipt) == []
    with pytest.raises(NotFound):
        receipt_of(runtime, keys, world.kamal, consent.id)
