"""Merkle tree hashing and proofs exactly as RFC 9162 (Certificate Transparency 2.0) §2.1 defines them.

Pure functions over raw bytes, no database and no project imports, so anyone can check the consent
ledger with this file alone (and Python's hashlib).

Definitions (RFC 9162 §2.1.1), with HASH = SHA-256 and D[n] the list of n entries:

    leaf hash            HASH(0x00 || entry bytes)
    node hash            HASH(0x01 || left || right)
    MTH({})              HASH()                       (the empty string's SHA-256)
    MTH({d0})            HASH(0x00 || d0)
    MTH(D[n])            HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  for n > 1,
                         k the largest power of two smaller than n

Inclusion proof PATH(m, D[n]) (§2.1.3.1): the sibling hashes from leaf m up to the root, lowest first.
Consistency proof PROOF(m, D[n]) (§2.1.4.1): the nodes that let a verifier holding the root of the
first m entries compute both that root and the root of all n entries; only defined for 0 < m <= n.

Verification (§2.1.3.2 and §2.1.4.2) follows the RFC's algorithms, with the rules of the reference
verifier in transparency-dev/merkle and its test vectors (tests/trust/vectors/):
  * every hash that is hashed (leaf hash, proof hashes, roots of a non-trivial proof) must be 32 bytes;
  * an inclusion proof needs 0 <= index < size and exactly the expected number of hashes;
  * a consistency proof from size 0 is rejected (it proves nothing), as is old size > new size;
  * for old size == new size the proof must be empty and the two roots the same byte string
    (nothing is hashed: the reference verifier compares them as given);
  * otherwise the proof must be non-empty and have exactly the expected length.

The ledger stores every complete subtree ("node" (level, index) covers leaves
[index * 2**level, (index + 1) * 2**level)), so its proofs are built from O(log n) stored nodes: the
`*_plan` functions say which nodes an answer needs, `hash_plan` folds the fetched nodes into the answer.
The functions over lists (`root`, `inclusion_proof`, `consistency_proof`) use the same plans.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]  # (level, index): a complete subtree of 2**level leaves
Plan = list[list[NodeId]]  # one output hash per inner list: the fold of those complete subtrees


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# ---- plans: which complete subtrees an answer is made of --------------------------------------


def range_nodes(begin: int, end: int) -> list[NodeId]:
    """The complete subtrees whose fold is MTH(D[begin:end]), left to right.

    Valid for every range RFC 9162's recursion produces (begin is a multiple of the largest power of
    two not above end - begin): MTH splits off its largest power-of-two prefix until nothing is left.
    """
    nodes: list[NodeId] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def root_plan(size: int) -> Plan:
    return [range_nodes(0, size)] if size else []


def inclusion_plan(index: int, size: int) -> Plan:
    """PATH(index, D[size]) as ranges of complete subtrees, lowest sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    top_down: Plan = []
    begin, end, m = 0, size, index
    while end - begin > 1:
        k = _split(end - begin)
        if m < k:
            top_down.append(range_nodes(begin + k, end))
            end = begin + k
        else:
            top_down.append(range_nodes(begin, begin + k))
            begin, m = begin + k, m - k
    return top_down[::-1]


def consistency_plan(old_size: int, new_size: int) -> Plan:
    """PROOF(old_size, D[new_size]) (RFC 9162 SUBPROOF) as ranges of complete subtrees."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    top_down: Plan = []
    begin, end, m, whole = 0, new_size, old_size, True
    while m != end - begin:
        k = _split(end - begin)
        if m <= k:
            top_down.append(range_nodes(begin + k, end))
            end = begin + k
        else:
            top_down.append(range_nodes(begin, begin + k))
            begin, m, whole = begin + k, m - k, False
    if not whole:
        top_down.append(range_nodes(begin, end))
    return top_down[::-1]


def plan_nodes(plan: Plan) -> set[NodeId]:
    return {node for part in plan for node in part}


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its complete subtrees (left to right): H(c1, H(c2, ... H(cm-1, cm)))."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def hash_plan(plan: Plan, nodes: Mapping[NodeId, bytes] | Callable[[NodeId], bytes]) -> list[bytes]:
    get = nodes if callable(nodes) else nodes.__getitem__
    return [fold([get(node) for node in part]) for part in plan]


# ---- over a list of leaf hashes -------------------------------------------------------------


def subtree(leaf_hashes: Sequence[bytes], node: NodeId) -> bytes:
    """The hash of the complete subtree `node`, from the leaf hashes under it."""
    level, index = node
    layer = list(leaf_hashes[index << level : (index + 1) << level])
    if len(layer) != 1 << level:
        raise ValueError(f"node {node} is not complete in a tree of {len(leaf_hashes)} leaves")
    while len(layer) > 1:
        layer = [node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
    return layer[0]


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the leaves (given as leaf hashes); the empty tree's root is SHA-256 of nothing."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return hash_plan(root_plan(len(leaf_hashes)), lambda node: subtree(leaf_hashes, node))[0]


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    return hash_plan(inclusion_plan(index, len(leaf_hashes)), lambda node: subtree(leaf_hashes, node))


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    plan = consistency_plan(old_size, len(leaf_hashes))
    return hash_plan(plan, lambda node: subtree(leaf_hashes, node))


# ---- verification -------------------------------------------------------------------------


def _bad_hash(value: bytes) -> bool:
    return not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE


def inclusion_problem(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes
) -> str | None:
    """Why the inclusion proof does not hold (RFC 9162 §2.1.3.2), or None when it does."""
    if not 0 <= index < size:
        return f"index {index} is not in a tree of size {size}"
    if _bad_hash(leaf) or _bad_hash(root_hash) or any(_bad_hash(p) for p in proof):
        return "a hash is not 32 bytes"
    fn, sn, result = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            return "the proof is too long"
        if fn & 1 or fn == sn:
            result = node_hash(p, result)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        return "the proof is too short"
    return None if result == root_hash else "the computed root does not match the tree head"


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """True when `proof` shows the leaf hash at `index` in the tree of `size` leaves with `root_hash`."""
    return inclusion_problem(index, size, leaf, proof, root_hash) is None


def consistency_problem(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> str | None:
    """Why the consistency proof does not hold (RFC 9162 §2.1.4.2), or None when it does."""
    if old_size <= 0:
        return "a consistency proof from an empty tree proves nothing"
    if old_size > new_size:
        return f"the old size {old_size} is larger than the new size {new_size}"
    if old_size == new_size:
        if proof:
            return "the sizes are equal, so the proof must be empty"
        return None if old_root == new_root else "the sizes are equal but the roots differ"
    if not proof:
        return "the proof is empty"
    if _bad_hash(old_root) or _bad_hash(new_root) or any(_bad_hash(p) for p in proof):
        return "a hash is not 32 bytes"
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first = second = path[0]
    for c in path[1:]:
        if sn == 0:
            return "the proof is too long"
        if fn & 1 or fn == sn:
            first, second = node_hash(c, first), node_hash(c, second)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            second = node_hash(second, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        return "the proof is too short"
    if first != old_root:
        return "the proof does not lead to the old root"
    return None if second == new_root else "the proof does not lead to the new root"


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when `proof` shows the tree of `new_size` leaves extends the tree of `old_size` leaves."""
    return consistency_problem(old_size, new_size, old_root, new_root, proof) is None
