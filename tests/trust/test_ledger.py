"""The consent ledger on the real database: appends, proofs from stored nodes, erasure, signed tree
heads, receipts checked offline, and concurrent appends from several threads (on PostgreSQL the
advisory lock orders them, on SQLite the one write transaction)."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import select

from civic.errors import InvalidInput
from civic.runtime import Runtime
from civic.trust import ledger, merkle, treeheads
from civic.trust.ledger_audit import audit
from civic.trust.ledger_models import LedgerEntry, LedgerRecord
from civic.trust.receipts_verify import check_receipt

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _record(i: int, citizen: int = 7) -> dict[str, object]:
    return {
        "citizen_id": citizen,
        "agency_id": 3,
        "attributes": ["district", "age_band"],
        "purpose": "statistics",
        "n": i,
    }


def _fill(runtime: Runtime, count: int, *, citizen: int = 7) -> list[bytes]:
    with runtime.db.transaction() as s:
        for i in range(count):
            ledger.append(s, "consent.granted", _record(i, citizen))
    return _leaves(runtime)


def _leaves(runtime: Runtime) -> list[bytes]:
    with runtime.db.transaction() as s:
        return [e.leaf_hash for e in s.exec(select(LedgerEntry).order_by(LedgerEntry.index))]


def test_an_entry_is_the_canonical_bytes_documented(runtime: Runtime):
    with runtime.db.transaction() as s:
        entry = ledger.append(
            s, "consent.granted", {"purpose": "statistics", "citizen_id": 7, "name": "Ləman"}
        )
        record = s.get(LedgerRecord, entry.index)
    assert entry.index == 0 and record is not None and record.salt is not None
    assert record.body == '{"citizen_id":7,"name":"Ləman","purpose":"statistics"}'.encode()
    assert record.subject_id == 7
    assert entry.commitment == hashlib.sha256(record.salt + record.body).digest()
    expected = json.dumps(
        {
            "commitment": entry.commitment.hex(),
            "index": 0,
            "kind": "consent.granted",
            "time": entry.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "v": 1,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    assert ledger.entry_bytes(0, entry.kind, entry.created_at, entry.commitment) == expected
    assert entry.leaf_hash == hashlib.sha256(b"\x00" + expected).digest()
    assert b"citizen" not in expected and "Ləman".encode() not in expected  # no personal data in the clear


def test_unknown_kinds_are_a_programming_error(runtime: Runtime):
    with pytest.raises(ValueError), runtime.db.transaction() as s:
        ledger.append(s, "consent.bought", {})


@pytest.mark.parametrize("count", [1, 2, 5, 17, 40])
def test_roots_and_proofs_from_stored_nodes_are_those_of_the_whole_list(runtime: Runtime, count: int):
    leaves = _fill(runtime, count)
    with runtime.db.transaction() as s:
        assert ledger.tree_size(s) == count
        assert ledger.root(s, 0) == merkle.EMPTY_ROOT
        for size in range(1, count + 1):
            root = ledger.root(s, size)
            assert root == merkle.root(leaves[:size])
            for index in range(size):
                proof = ledger.inclusion_proof(s, index, size)
                assert proof == merkle.inclusion_proof(index, leaves[:size])
                assert merkle.verify_inclusion(index, size, leaves[index], proof, root)
            for old in range(1, size + 1):
                proof = ledger.consistency_proof(s, old, size)
                assert merkle.verify_consistency(old, size, ledger.root(s, old), root, proof)


def test_batches_and_single_appends_make_one_tree(runtime: Runtime):
    _fill(runtime, 3)
    with runtime.db.transaction() as s:
        made = ledger.append_many(s, [("data.accessed", _record(i)) for i in range(20)])
        ledger.append(s, "consent.revoked", _record(99))
    assert [e.index for e in made] == list(range(3, 23))
    leaves = _leaves(runtime)
    assert len(leaves) == 24
    with runtime.db.transaction() as s:
        assert ledger.root(s, 24) == merkle.root(leaves)
        assert audit(s, KEY.public_key()).ok


def test_bad_sizes_and_indices_are_refused(runtime: Runtime):
    _fill(runtime, 4)
    with runtime.db.transaction() as s:
        for call in (
            lambda: ledger.root(s, 5),
            lambda: ledger.inclusion_proof(s, 4, 4),
            lambda: ledger.inclusion_proof(s, 0, 5),
            lambda: ledger.consistency_proof(s, 0, 3),
            lambda: ledger.consistency_proof(s, 4, 3),
        ):
            with pytest.raises(InvalidInput):
                call()


def test_erasing_a_citizen_keeps_every_leaf_and_proof(runtime: Runtime):
    _fill(runtime, 3, citizen=7)
    _fill(runtime, 2, citizen=8)
    with runtime.db.transaction() as s:
        head = treeheads.sign_tree_head(s, KEY)
        evidence = ledger.receipt_evidence(s, 3, head)
    with runtime.db.transaction() as s:
        assert ledger.erase_subject(s, 7) == 3
        assert ledger.erase_subject(s, 7) == 0
        records = {r.entry_index: r for r in s.exec(select(LedgerRecord))}
    assert all(
        records[i].body is None and records[i].salt is None and records[i].subject_id is None
        for i in range(3)
    )
    assert all(records[i].erased_at is not None for i in range(3))
    assert records[3].subject_id == 8 and records[3].body is not None
    with runtime.db.transaction() as s:
        assert ledger.record_of(s, 0) is None
        assert ledger.record_of(s, 4) == _record(1, 8)
        report = audit(s, KEY.public_key())
        assert report.ok and report.erased == 3
        assert ledger.root(s, 5) == head.root
        with pytest.raises(InvalidInput):
            ledger.receipt_evidence(s, 0, head)
    assert check_receipt({"ledger": evidence}) == []  # a receipt kept by its owner still proves


def test_tree_heads_are_signed_once_per_size_and_verify(runtime: Runtime):
    with runtime.db.transaction() as s:
        empty = treeheads.sign_tree_head(s, KEY)
    assert empty.size == 0 and empty.root == merkle.EMPTY_ROOT
    _fill(runtime, 6)
    with runtime.db.transaction() as s:
        head = treeheads.sign_tree_head(s, KEY)
        again = treeheads.sign_tree_head(s, KEY)
        assert treeheads.latest_tree_head(s) == head == again
    assert head.size == 6 and head.root == merkle.root(_leaves(runtime))
    assert treeheads.verify_tree_head(head, KEY.public_key())
    assert treeheads.verify_tree_head(head, treeheads.public_key_bytes(KEY))
    assert not treeheads.verify_tree_head(head, Ed25519PrivateKey.generate().public_key())
    assert head.signed_bytes() == (
        f"civic/consent-ledger/v1\n6\n{head.to_json()['root']}\ntimestamp {head.timestamp}\n".encode()
    )
    assert treeheads.SignedTreeHead.from_json(head.to_json()) == head
    forged = treeheads.SignedTreeHead(7, head.root, head.timestamp, head.signature, head.public_key)
    assert not treeheads.verify_tree_head(forged, KEY.public_key())


def test_a_receipt_checks_offline_and_any_change_is_caught(runtime: Runtime):
    _fill(runtime, 11)
    with runtime.db.transaction() as s:
        head = treeheads.sign_tree_head(s, KEY)
        receipt = {"consent_id": 1, "ledger": ledger.receipt_evidence(s, 6, head)}
    receipt = json.loads(json.dumps(receipt))  # as downloaded
    assert check_receipt(receipt) == []
    assert check_receipt(receipt, KEY.public_key()) == []
    assert check_receipt(receipt, Ed25519PrivateKey.generate().public_key()) != []

    def altered(path: list[str | int], value: object) -> list[str]:
        copy = json.loads(json.dumps(receipt))
        target = copy["ledger"]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return check_receipt(copy)

    assert altered(["record", "purpose"], "research")
    assert altered(["kind"], "consent.revoked")
    assert altered(["index"], 5)
    assert altered(["inclusion_proof", 0], receipt["ledger"]["inclusion_proof"][1])
    assert altered(["tree_head", "size"], 12)
    assert altered(["tree_head", "root"], receipt["ledger"]["leaf_hash"])
    assert altered(["salt"], "not base64!")
    assert check_receipt({}) == ["the receipt has no `ledger` object"]


def test_concurrent_appends_get_one_order_without_gaps_or_duplicates(runtime: Runtime):
    workers, per_worker = 8, 25
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []
    got: list[int] = []

    def work(worker: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(per_worker):
                with runtime.db.transaction() as s:
                    got.append(ledger.append(s, "data.accessed", _record(i, worker)).index)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    total = workers * per_worker
    assert sorted(got) == list(range(total))
    leaves = _leaves(runtime)
    with runtime.db.transaction() as s:
        assert ledger.root(s, total) == merkle.root(leaves)
        assert audit(s, KEY.public_key()).ok
        times = [e.created_at for e in s.exec(select(LedgerEntry).order_by(LedgerEntry.index))]
    assert times == sorted(times)
