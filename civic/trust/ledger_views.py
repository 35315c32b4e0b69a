"""The ledger's public proofs as JSON, one shape for the API and the `civic ledger` commands:
hashes in standard base64, sizes and indices as RFC 9162 counts them (0-based entry index)."""

from __future__ import annotations

import base64

from sqlmodel import Session

from civic.trust import ledger
from civic.trust.treeheads import latest_tree_head


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def inclusion_out(session: Session, index: int, size: int | None = None) -> dict[str, object]:
    """Inclusion proof of entry `index` in the tree of the first `size` entries; without a size, in
    the latest signed head's tree (included) when it holds the entry, else the current tree.
    Raises InvalidInput for an index or size the ledger does not have."""
    head = latest_tree_head(session)
    if size is None:
        size = head.size if head is not None and index < head.size else ledger.tree_size(session)
    proof = ledger.inclusion_proof(session, index, size)
    out: dict[str, object] = {
        "index": index,
        "size": size,
        "leaf_hash": b64(ledger.fetch_nodes(session, [(0, index)])[(0, index)]),
        "root": b64(ledger.root(session, size)),
        "inclusion_proof": [b64(h) for h in proof],
    }
    if head is not None and head.size == size:
        out["tree_head"] = head.to_json()
    return out


def consistency_out(session: Session, old: int, new: int) -> dict[str, object]:
    """Consistency proof that the tree of `new` entries extends the tree of `old` entries."""
    proof = ledger.consistency_proof(session, old, new)
    return {
        "old": old,
        "new": new,
        "old_root": b64(ledger.root(session, old)),
        "new_root": b64(ledger.root(session, new)),
        "consistency_proof": [b64(h) for h in proof],
    }
