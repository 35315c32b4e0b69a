"""The ledger's public API: anyone can fetch the signed tree head and check any entry's inclusion
and the log's consistency with RFC 9162's verifiers, without an account."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from civic.runtime import Runtime
from civic.trust import ledger, merkle
from civic.trust.treeheads import SignedTreeHead, verify_tree_head


def _append(runtime: Runtime, count: int) -> None:
    with runtime.db.transaction() as s:
        for n in range(count):
            ledger.append(s, "consent.granted", {"citizen_id": 1000 + n, "purpose": "research"})


def _get(client, path: str, **params: int):  # type: ignore[no-untyped-def]
    return client.get(f"{path}?{urlencode(params)}")


def _b(value: str) -> bytes:
    return base64.b64decode(value)


def test_head_inclusion_and_consistency_verify_with_the_rfc_9162_functions(runtime: Runtime, browser) -> None:
    anyone = browser()
    _append(runtime, 5)
    first = anyone.get("/api/ledger/head").json()
    _append(runtime, 8)
    head = anyone.get("/api/ledger/head").json()

    assert (first["size"], head["size"]) == (5, 13)
    signed = SignedTreeHead.from_json(head)
    assert verify_tree_head(signed, signed.public_key)
    assert anyone.get("/api/ledger/head").json() == head, "one head per size: asking again signs nothing"

    proof = _get(anyone, "/api/ledger/inclusion", index=6).json()
    assert proof["size"] == 13 and proof["tree_head"] == head
    assert merkle.verify_inclusion(
        6, 13, _b(proof["leaf_hash"]), [_b(h) for h in proof["inclusion_proof"]], _b(head["root"])
    )
    older = _get(anyone, "/api/ledger/inclusion", index=2, size=5).json()
    assert merkle.verify_inclusion(
        2, 5, _b(older["leaf_hash"]), [_b(h) for h in older["inclusion_proof"]], _b(first["root"])
    )

    consistency = _get(anyone, "/api/ledger/consistency", old=5, new=13).json()
    assert merkle.verify_consistency(
        5, 13, _b(first["root"]), _b(head["root"]), [_b(h) for h in consistency["consistency_proof"]]
    )


def test_proofs_the_ledger_cannot_give_are_422_with_a_message(runtime: Runtime, browser) -> None:
    anyone = browser()
    _append(runtime, 3)
    for path, params in (
        ("/api/ledger/inclusion", {"index": 3}),
        ("/api/ledger/inclusion", {"index": 0, "size": 4}),
        ("/api/ledger/consistency", {"old": 3, "new": 2}),
        ("/api/ledger/consistency", {"old": 1, "new": 9}),
        ("/api/ledger/inclusion", {"index": -1}),
    ):
        response = _get(anyone, path, **params)
        assert response.status_code == 422, (path, params, response.text)
        assert response.json()["error"]["message"]
