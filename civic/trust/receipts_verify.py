"""Check a consent receipt offline: no database, only the receipt, SHA-256 and Ed25519.

A receipt's `ledger` object (built by civic.trust.ledger.receipt_evidence) carries:

    index            the entry's 0-based position in the ledger
    kind, time       the entry's kind and time ("YYYY-MM-DDTHH:MM:SS.ffffffZ")
    record, salt     the record the entry commits to, and its salt (base64)
    leaf_hash        the entry's leaf hash (base64)
    inclusion_proof  RFC 9162 inclusion proof of the entry in the tree head's tree (base64 hashes)
    tree_head        the signed tree head: origin, size, root, timestamp, signature, public_key

Checking recomputes commitment = SHA-256(salt || canonical record JSON), the entry bytes and the
leaf hash exactly as civic/trust/ledger.py documents, verifies the inclusion proof against the
head's root (civic/trust/merkle.py) and the head's Ed25519 signature (civic/trust/treeheads.py).
By hand: `civic ledger check-receipt receipt.json`.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from civic.trust import merkle
from civic.trust.ledger import canonical_json, commitment, entry_bytes
from civic.trust.treeheads import SignedTreeHead, verify_tree_head


def _decode(value: object, name: str, problems: list[str]) -> bytes | None:
    if not isinstance(value, str):
        problems.append(f"ledger.{name} is missing or not a base64 string")
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        problems.append(f"ledger.{name} is not valid base64")
        return None


def check_receipt(
    receipt: dict[str, object], public_key: Ed25519PublicKey | bytes | None = None
) -> list[str]:
    """What is wrong with this receipt's ledger proof; an empty list means it holds. With
    `public_key` (the ledger's published key), the head must also be signed by that key."""
    section = receipt.get("ledger") if isinstance(receipt, dict) else None
    if not isinstance(section, dict):
        return ["the receipt has no `ledger` object"]
    problems: list[str] = []
    try:
        head = SignedTreeHead.from_json(section.get("tree_head"))  # type: ignore[arg-type]
    except (ValueError, AttributeError) as exc:
        return [f"ledger.tree_head is not a signed tree head: {exc}"]
    if not verify_tree_head(head, head.public_key):
        problems.append("the tree head's signature does not verify with the public key it names")
    if public_key is not None and not verify_tree_head(head, public_key):
        problems.append("the tree head is not signed by the ledger's published key")
    index, kind, when, record = (section.get(k) for k in ("index", "kind", "time", "record"))
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        problems.append("ledger.index is missing or not a non-negative whole number")
        return problems
    if not isinstance(kind, str) or not isinstance(when, str):
        problems.append("ledger.kind or ledger.time is missing")
        return problems
    salt = _decode(section.get("salt"), "salt", problems)
    stated_leaf = _decode(section.get("leaf_hash"), "leaf_hash", problems)
    raw_proof = section.get("inclusion_proof")
    if not isinstance(raw_proof, list):
        problems.append("ledger.inclusion_proof is missing or not a list")
        return problems
    proof = [_decode(h, "inclusion_proof[]", problems) for h in raw_proof]
    if salt is None or stated_leaf is None or None in proof:
        return problems
    try:
        record_bytes = canonical_json(record)
    except (TypeError, ValueError):
        return [*problems, "ledger.record is not plain JSON"]
    leaf = merkle.leaf_hash(entry_bytes(index, kind, when, commitment(salt, record_bytes)))
    if leaf != stated_leaf:
        problems.append(
            f"the record, salt, kind or time do not hash to the stated leaf of entry {index}: the receipt was altered"
        )
    why = merkle.inclusion_problem(index, head.size, leaf, proof, head.root)  # type: ignore[arg-type]
    if why is not None:
        problems.append(f"the inclusion proof of entry {index} in the tree of size {head.size} fails: {why}")
    return problems
