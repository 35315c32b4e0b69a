"""`civic ledger verify`: recompute the whole ledger from its stored entries and records and check it
against every signed tree head.

Streams the entries in index order, in chunks, and for each one checks that
  * the indices run 0, 1, 2, … with no gap (a gap: an entry was removed);
  * its stored fields hash to its stored leaf hash (else it was altered, or moved: when its fields
    hash to its stored leaf at another altered position, the two were reordered);
  * its record, unless erased, still matches the entry's commitment (else the record was altered);
  * every complete subtree it finishes matches the stored node proofs are built from;
and for every stored tree head that its Ed25519 signature holds under the ledger's key and that the
root recomputed at its size is the signed one (a head beyond the log's end: entries were removed).
A rewrite that recomputed every hash consistently is caught by the signed heads; it is then named
as "the first entry after the last head that still matches".

The report's problems are sorted by the first entry they concern, so the first one names the first
entry altered, removed or reordered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from civic.trust import merkle
from civic.trust.ledger import KINDS, commitment, entry_bytes, format_time, tree_size
from civic.trust.ledger_models import LedgerEntry, LedgerNode, LedgerRecord
from civic.trust.treeheads import SignedTreeHead, all_tree_heads, verify_tree_head

CHUNK = 1 << 14
MAX_PROBLEMS = 50


@dataclass(frozen=True)
class Problem:
    entry: int | None  # the first entry concerned; None for a problem of a tree head alone
    message: str
    last: int | None = None  # set when the problem lies somewhere in entries entry..last


@dataclass
class AuditReport:
    size: int = 0
    heads: int = 0
    erased: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def sorted_problems(self) -> list[Problem]:
        """By first entry concerned; a range already explained by an entry found inside it is left out."""
        exact = [p.entry for p in self.problems if p.last is None and p.entry is not None]
        kept = [
            p
            for p in self.problems
            if p.last is None or p.entry is None or not any(p.entry <= e <= p.last for e in exact)
        ]
        return sorted(kept, key=lambda p: (p.entry is None, p.entry or 0))


@dataclass
class _Mismatch:
    index: int
    kind: str
    created_at: object
    commitment: bytes
    stored_leaf: bytes


def _stored_nodes(session: Session, begin: int, end: int) -> dict[merkle.NodeId, bytes]:
    """The stored nodes completed by entries [begin, end): node (L, i) is completed by entry (i+1)*2**L - 1."""
    conditions = []
    for level in range(1, end.bit_length() + 1):
        low, high = ((begin + (1 << level)) >> level) - 1, (end >> level) - 1
        if low <= high:
            conditions.append(and_(col(LedgerNode.level) == level, col(LedgerNode.index).between(low, high)))
    if not conditions:
        return {}
    rows = session.execute(
        select(LedgerNode.level, LedgerNode.index, LedgerNode.hash).where(or_(*conditions))
    )
    return {(level, index): value for level, index, value in rows}


def audit(
    session: Session, public_key: Ed25519PublicKey | bytes, progress: Callable[[int], None] | None = None
) -> AuditReport:
    size = tree_size(session)
    heads = [SignedTreeHead.from_row(row) for row in all_tree_heads(session)]
    report = AuditReport(size=size, heads=len(heads))
    add = report.problems.append
    pending: list[SignedTreeHead] = []  # the heads the ledger's key signed: the only ones trusted
    for head in heads:
        if verify_tree_head(head, public_key):
            pending.append(head)
        else:
            add(
                Problem(
                    None,
                    f"the tree head at size {head.size} ({head.time:%Y-%m-%d %H:%M:%S} UTC) does not carry a valid signature by the ledger's key: it was altered or forged",
                )
            )
    frontier: list[tuple[int, bytes]] = []
    mismatches: list[_Mismatch] = []
    position, last_good_head, tree_ok = 0, 0, True

    def check_heads() -> None:
        nonlocal last_good_head
        while pending and pending[0].size == position:
            head = pending.pop(0)
            computed = merkle.fold([h for _, h in frontier]) if frontier else merkle.EMPTY_ROOT
            if computed == head.root:
                last_good_head = position
            elif tree_ok:
                add(
                    Problem(
                        last_good_head,
                        f"the entries no longer match the tree head signed at size {head.size}: an entry from "
                        f"{last_good_head} to {head.size - 1} was altered, removed or reordered after it was "
                        f"signed (entries before {last_good_head} match the heads)",
                        last=head.size - 1,
                    )
                )

    check_heads()
    kinds = {kind: json.dumps(kind) for kind in KINDS}
    last_time, when, sha256 = None, "", hashlib.sha256
    for begin in range(0, size, CHUNK):
        end = min(begin + CHUNK, size)
        stored = _stored_nodes(session, begin, end)
        rows = session.execute(
            select(
                col(LedgerEntry.index),
                LedgerEntry.kind,
                LedgerEntry.created_at,
                LedgerEntry.commitment,
                LedgerEntry.leaf_hash,
                LedgerRecord.entry_index,
                LedgerRecord.salt,
                LedgerRecord.body,
            )
            .outerjoin(LedgerRecord, col(LedgerRecord.entry_index) == col(LedgerEntry.index))
            .where(col(LedgerEntry.index) >= begin, col(LedgerEntry.index) < end)
            .order_by(col(LedgerEntry.index))
        )
        for index, kind, created_at, committed, stored_leaf, record_index, salt, body in rows:
            if len(report.problems) + len(mismatches) >= MAX_PROBLEMS:
                break
            if index != position:
                add(
                    Problem(
                        position, f"entries {position} to {index - 1} are missing: removed from the ledger"
                    )
                )
                tree_ok, position = False, index
            if created_at != last_time:
                last_time, when = created_at, json.dumps(format_time(created_at))
            kind_json = kinds.get(kind) or json.dumps(kind, ensure_ascii=False)
            data = (
                f'{{"commitment":"{committed.hex()}","index":{index},"kind":{kind_json},"time":{when},"v":1}}'
            )
            leaf = sha256(b"\x00" + data.encode()).digest()  # = merkle.leaf_hash(entry_bytes(...)), inlined
            if leaf != stored_leaf:
                mismatches.append(_Mismatch(index, kind, created_at, committed, stored_leaf))
            if record_index is None:
                add(Problem(index, f"the record of entry {index} is missing (deleted rather than erased)"))
            elif body is None:
                report.erased += 1
            elif commitment(salt, body) != committed:
                add(
                    Problem(
                        index,
                        f"the record of entry {index} was altered: it no longer matches the entry's commitment",
                    )
                )
            value, level = leaf, 0
            while frontier and frontier[-1][0] == level:
                value = merkle.node_hash(frontier.pop()[1], value)
                level += 1
                node = (level, index >> level)
                if tree_ok and stored.get(node) != value:
                    first, last = node[1] << level, ((node[1] + 1) << level) - 1
                    add(
                        Problem(
                            first,
                            f"the stored hash of entries {first} to {last} differs from their recomputation: "
                            "one of them was altered",
                            last=last,
                        )
                    )
            frontier.append((level, value))
            position += 1
            if pending and pending[0].size == position:
                check_heads()
        if progress is not None:
            progress(end - begin)
        if len(report.problems) + len(mismatches) >= MAX_PROBLEMS:
            break
    _explain_mismatches(mismatches, add)
    for head in pending if position == size else ():
        add(
            Problem(
                size,
                f"the tree head signed at size {head.size} covers entries {size} to {head.size - 1}, which are gone: removed from the ledger",
            )
        )
    return report


def _explain_mismatches(mismatches: list[_Mismatch], add: Callable[[Problem], None]) -> None:
    """An entry whose fields hash to its stored leaf at another altered position was moved there."""
    positions = [m.index for m in mismatches[:MAX_PROBLEMS]]
    for m in mismatches[:MAX_PROBLEMS]:
        home = next(
            (
                other
                for other in positions
                if other != m.index
                and merkle.leaf_hash(entry_bytes(other, m.kind, m.created_at, m.commitment)) == m.stored_leaf  # type: ignore[arg-type]
            ),
            None,
        )
        if home is not None:
            add(
                Problem(
                    m.index, f"entry {m.index} holds the entry that belongs at {home}: entries were reordered"
                )
            )
        else:
            add(
                Problem(
                    m.index, f"entry {m.index} was altered: its stored fields do not hash to its leaf hash"
                )
            )
