"""civic/trust/merkle.py against RFC 9162 §2.1's definitions, written out here as naively as the RFC
states them (MTH, PATH, PROOF/SUBPROOF), for every tree size from 1 to 64: every root, every
inclusion proof and every consistency proof; the verifiers accept each and reject it tampered.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic.trust import merkle

SIZES = range(1, 65)


def H(data: bytes) -> bytes:  # noqa: N802 (the RFC's name)
    return hashlib.sha256(data).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def MTH(D: list[bytes]) -> bytes:  # noqa: N802, N803
    n = len(D)
    if n == 0:
        return H(b"")
    if n == 1:
        return H(b"\x00" + D[0])
    k = largest_power_of_two_below(n)
    return H(b"\x01" + MTH(D[:k]) + MTH(D[k:]))


def PATH(m: int, D: list[bytes]) -> list[bytes]:  # noqa: N802, N803
    n = len(D)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return PATH(m, D[:k]) + [MTH(D[k:])]
    return PATH(m - k, D[k:]) + [MTH(D[:k])]


def SUBPROOF(m: int, D: list[bytes], b: bool) -> list[bytes]:  # noqa: N802, N803
    n = len(D)
    if m == n:
        return [] if b else [MTH(D)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return SUBPROOF(m, D[:k], b) + [MTH(D[k:])]
    return SUBPROOF(m - k, D[k:], False) + [MTH(D[:k])]


def PROOF(m: int, D: list[bytes]) -> list[bytes]:  # noqa: N802, N803
    return SUBPROOF(m, D, True)


ENTRIES = [f"entry {i}".encode() * (i % 3) for i in range(64)]
LEAVES = [merkle.leaf_hash(d) for d in ENTRIES]


def flipped(proof: list[bytes], at: int) -> list[bytes]:
    wrong = list(proof)
    wrong[at] = bytes([wrong[at][0] ^ 1]) + wrong[at][1:]
    return wrong


def test_the_hashes_are_the_rfc_ones():
    assert merkle.leaf_hash(b"abc") == H(b"\x00abc")
    assert merkle.node_hash(b"l" * 32, b"r" * 32) == H(b"\x01" + b"l" * 32 + b"r" * 32)
    assert merkle.root([]) == H(b"") == merkle.EMPTY_ROOT


@pytest.mark.parametrize("n", SIZES)
def test_root_and_every_inclusion_proof(n: int):
    D, leaves = ENTRIES[:n], LEAVES[:n]
    root = MTH(D)
    assert merkle.root(leaves) == root
    for m in range(n):
        proof = merkle.inclusion_proof(m, leaves)
        assert proof == PATH(m, D)
        assert merkle.verify_inclusion(m, n, leaves[m], proof, root)
        assert not merkle.verify_inclusion(m, n, merkle.leaf_hash(b"other"), proof, root)
        assert not merkle.verify_inclusion(m, 2 * n, leaves[m], proof, root)
        if n > 1:
            assert not merkle.verify_inclusion((m + 1) % n, n, leaves[m], proof, root)
            assert not merkle.verify_inclusion(m, n, leaves[m], proof[:-1], root)
            assert not merkle.verify_inclusion(m, n, leaves[m], [*proof, proof[0]], root)
        for at in range(len(proof)):
            assert not merkle.verify_inclusion(m, n, leaves[m], flipped(proof, at), root)


@pytest.mark.parametrize("n", SIZES)
def test_every_consistency_proof(n: int):
    D, leaves = ENTRIES[:n], LEAVES[:n]
    new_root = MTH(D)
    for m in range(1, n + 1):
        old_root = MTH(D[:m])
        proof = merkle.consistency_proof(m, leaves)
        assert proof == PROOF(m, D)
        assert merkle.verify_consistency(m, n, old_root, new_root, proof)
        if m == n:
            assert proof == []
            continue
        assert not merkle.verify_consistency(m, n, new_root, old_root, proof)
        assert not merkle.verify_consistency(m, n, old_root, merkle.leaf_hash(b"x"), proof)
        assert not merkle.verify_consistency(m, n, old_root, new_root, proof[:-1])
        assert not merkle.verify_consistency(m, n, old_root, new_root, [*proof, new_root])
        assert not merkle.verify_consistency(m, 2 * n, old_root, new_root, proof)
        if m > 1:
            assert not merkle.verify_consistency(m - 1, n, old_root, new_root, proof)
        for at in range(len(proof)):
            assert not merkle.verify_consistency(m, n, old_root, new_root, flipped(proof, at))


def test_plans_need_only_a_logarithmic_number_of_stored_nodes():
    size = 1_000_003
    assert len(merkle.plan_nodes(merkle.inclusion_plan(123_457, size))) <= 2 * size.bit_length()
    assert len(merkle.plan_nodes(merkle.consistency_plan(500_001, size))) <= 2 * size.bit_length()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        merkle.inclusion_proof(3, LEAVES[:3])
    with pytest.raises(ValueError):
        merkle.consistency_proof(0, LEAVES[:3])
    with pytest.raises(ValueError):
        merkle.consistency_proof(4, LEAVES[:3])
    assert not merkle.verify_consistency(0, 0, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [])
    assert not merkle.verify_inclusion(0, 1, LEAVES[0][:31], [], LEAVES[0][:31])


@settings(max_examples=200, deadline=None)
@given(
    entries=st.lists(st.binary(max_size=40), min_size=1, max_size=200),
    data=st.data(),
)
def test_any_log_proves_its_entries_and_its_growth(entries: list[bytes], data: st.DataObject):
    n = len(entries)
    leaves = [merkle.leaf_hash(e) for e in entries]
    m = data.draw(st.integers(0, n - 1), label="index")
    old = data.draw(st.integers(1, n), label="old size")
    root = merkle.root(leaves)
    assert root == MTH(entries)
    proof = merkle.inclusion_proof(m, leaves)
    assert merkle.verify_inclusion(m, n, leaves[m], proof, root)
    consistency = merkle.consistency_proof(old, leaves)
    assert merkle.verify_consistency(old, n, merkle.root(leaves[:old]), root, consistency)
    # An entry changed anywhere before the old size breaks the proof against the old root.
    changed = data.draw(st.integers(0, old - 1), label="changed")
    forged = [*leaves[:changed], merkle.leaf_hash(entries[changed] + b"!"), *leaves[changed + 1 :]]
    assert not merkle.verify_consistency(old, n, merkle.root(forged[:old]), root, consistency)
