"""The consent ledger: an append-only log whose entries are the leaves of an RFC 9162 Merkle tree.

What is hashed (the project's canonical serialisation, version 1). For an entry at 0-based `index`:

    record bytes  = JSON of the record: keys sorted, separators "," and ":" (no whitespace), UTF-8
                    (non-ASCII kept as is), no NaN/Infinity; datetimes as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC)
    commitment    = SHA-256(salt || record bytes), salt = 32 random bytes kept beside the record
    entry bytes   = JSON, same rules, of exactly these keys:
                    {"commitment": hex(commitment), "index": index, "kind": kind,
                     "time": "YYYY-MM-DDTHH:MM:SS.ffffffZ", "v": 1}
    leaf hash     = SHA-256(0x00 || entry bytes)                    (civic/trust/merkle.py)

e.g. {"commitment":"9f2c…","index":7,"kind":"consent.granted","time":"2030-03-01T12:00:00.000000Z","v":1}.
The entry bytes hold no personal data: the record (account ids, attribute names, purpose, times —
never attribute values) lives in `ledger_record`, and `erase_subject` wipes it together with its salt.
Without the salt the commitment reveals nothing, yet the leaf, the tree and every proof stay valid.

Appends are serialised: on PostgreSQL a transaction-scoped advisory lock, on SQLite the write
transaction (BEGIN IMMEDIATE, see civic/db.py). So concurrent appends from several workers get one
order, gapless indices and no duplicates; the lock is held until the caller's transaction ends.
Each append also writes the complete subtrees it finishes (`ledger_node`), so `root`,
`inclusion_proof` and `consistency_proof` read O(log n) stored hashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import func, select, text, update
from sqlmodel import Session, col

from civic.clock import as_utc, utcnow
from civic.errors import InvalidInput
from civic.i18n import _
from civic.trust import merkle
from civic.trust.ledger_models import LedgerEntry, LedgerRecord

if TYPE_CHECKING:
    from civic.trust.treeheads import SignedTreeHead

KINDS = frozenset(
    {
        "disclosure.requested",
        "consent.granted",
        "consent.refused",
        "consent.revoked",
        "consent.expired",
        "data.accessed",
        "data.access_refused",
    }
)
LOCK_KEY = 0x6C6467  # "ldg": the advisory lock every append (and tree head signing) takes
SALT_BYTES = 32


class LedgerCorrupt(RuntimeError):
    """A stored hash a proof needs is missing: the ledger was tampered with (run `civic ledger verify`)."""


# ---- canonical bytes -------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    return as_utc(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"a ledger record cannot hold {type(value).__name__}")


def canonical_json(value: object) -> bytes:
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    ).encode()


def commitment(salt: bytes, record_bytes: bytes) -> bytes:
    return hashlib.sha256(salt + record_bytes).digest()


def entry_bytes(index: int, kind: str, created_at: datetime | str, commitment_hash: bytes) -> bytes:
    """The canonical entry bytes (the same as canonical_json of the five keys, written out for speed);
    `created_at` may be given already formatted (as receipts carry it)."""
    when = created_at if isinstance(created_at, str) else format_time(created_at)
    return (
        f'{{"commitment":"{commitment_hash.hex()}","index":{index},"kind":{json.dumps(kind, ensure_ascii=False)},'
        f'"time":{json.dumps(when, ensure_ascii=False)},"v":1}}'
    ).encode()


# ---- appending -------------------------------------------------------------------------------


def lock(session: Session) -> None:
    """Serialise with every other ledger writer until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def _subject(record: Mapping[str, object]) -> int | None:
    for key in ("subject_id", "citizen_id"):
        value = record.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _frontier(session: Session, size: int) -> list[tuple[int, int, bytes]]:
    """The complete subtrees covering entries [0, size), left to right (one per set bit of size)."""
    ids = merkle.range_nodes(0, size)
    found = fetch_nodes(session, ids)
    return [(level, index, found[(level, index)]) for level, index in ids]


def append(
    session: Session, kind: str, record: Mapping[str, object], *, subject_id: int | None = None
) -> LedgerEntry:
    """Append one entry for `record` (stored erasably) in the caller's transaction; returns the entry
    (attached to the session) with its gapless `.index` and `.leaf_hash`. The record's subject (whose
    data `erase_subject` erases) is `subject_id`, else the record's "subject_id" or "citizen_id"."""
    return _append(session, [(kind, record, subject_id)], attach=True)[0]


class Appended(NamedTuple):
    index: int
    leaf_hash: bytes


def append_many(session: Session, items: Iterable[tuple[str, Mapping[str, object]]]) -> list[Appended]:
    """Append many entries at once (bulk inserts, one lock): the batch API. Returns (index, leaf_hash)s."""
    return _append(session, [(kind, record, None) for kind, record in items], attach=False)


def _append(
    session: Session, items: list[tuple[str, Mapping[str, object], int | None]], *, attach: bool
) -> list[Any]:
    for kind, _record, _subject_id in items:
        if kind not in KINDS:
            raise ValueError(f"unknown ledger entry kind {kind!r}")
    lock(session)
    last = session.execute(
        select(col(LedgerEntry.index), col(LedgerEntry.created_at))
        .order_by(col(LedgerEntry.index).desc())
        .limit(1)
    ).first()
    size = 0 if last is None else last[0] + 1
    now = utcnow() if last is None else max(utcnow(), as_utc(last[1]))
    frontier = _frontier(session, size)
    when, kinds_json = format_time(now), {kind: json.dumps(kind) for kind in KINDS}
    rows: list[dict[str, object]] = []
    records: list[dict[str, object]] = []
    nodes: list[dict[str, object]] = []
    node_hash, sha256, urandom = merkle.node_hash, hashlib.sha256, os.urandom
    for position, (kind, record, subject_id) in enumerate(items, start=size):
        salt, body = urandom(SALT_BYTES), canonical_json(record)
        committed = sha256(salt + body).digest()
        entry = (
            f'{{"commitment":"{committed.hex()}","index":{position},"kind":{kinds_json[kind]},'
            f'"time":"{when}","v":1}}'
        )  # = entry_bytes(position, kind, now, committed), inlined for the batch API's speed
        leaf = sha256(b"\x00" + entry.encode()).digest()
        rows.append(
            {"index": position, "kind": kind, "commitment": committed, "created_at": now, "leaf_hash": leaf}
        )
        subject = subject_id if subject_id is not None else _subject(record)
        records.append({"entry_index": position, "subject_id": subject, "salt": salt, "body": body})
        value, level = leaf, 0
        while frontier and frontier[-1][0] == level:
            value = node_hash(frontier.pop()[2], value)
            level += 1
            nodes.append({"level": level, "index": position >> level, "hash": value})
        frontier.append((level, position >> level, value))
    if attach:
        entries = [LedgerEntry(**row) for row in rows]  # type: ignore[arg-type]
        session.add_all(entries)
        session.add_all(LedgerRecord(**row) for row in records)  # type: ignore[arg-type]
        session.flush()
    else:
        stored_now = LedgerEntry.__table__.c.created_at.type.bind_processor(session.get_bind().dialect)  # type: ignore[attr-defined]
        at = stored_now(now) if stored_now else now
        _insert(
            session,
            "ledger_entry",
            ("index", "kind", "commitment", "created_at", "leaf_hash"),
            [(r["index"], r["kind"], r["commitment"], at, r["leaf_hash"]) for r in rows],
        )
        _insert(
            session,
            "ledger_record",
            ("entry_index", "subject_id", "salt", "body"),
            [(r["entry_index"], r["subject_id"], r["salt"], r["body"]) for r in records],
        )
        entries = [Appended(r["index"], r["leaf_hash"]) for r in rows]  # type: ignore[misc]
    if nodes:
        _insert(
            session,
            "ledger_node",
            ("level", "index", "hash"),
            [(n["level"], n["index"], n["hash"]) for n in nodes],
        )
    return entries


def _insert(session: Session, table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    """executemany straight to the driver: the batch API's rows need no per-value processing."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    marks = ", ".join([mark] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (our own table and column names)
    connection.exec_driver_sql(sql, rows)  # type: ignore[arg-type]


def erase_subject(session: Session, account_id: int) -> int:
    """Erase every record of this citizen (GDPR Art. 17): body, salt and the link to them go; the
    entries, their leaves and all proofs stay valid. Returns how many records were erased."""
    result = session.execute(
        update(LedgerRecord)
        .where(col(LedgerRecord.subject_id) == account_id)
        .values(salt=None, body=None, subject_id=None, erased_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---- reading and proving ---------------------------------------------------------------------


def tree_size(session: Session) -> int:
    last = session.execute(select(func.max(col(LedgerEntry.index)))).scalar()
    return 0 if last is None else int(last) + 1


def fetch_nodes(session: Session, ids: Iterable[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
    """The stored hashes of these complete subtrees (level 0: the entries' leaf hashes), in one query.

    The SQL is written out with the (integer) node ids inline: a proof needs ~2 log n of them, and a
    statement built per call would cost more to compile than to run."""
    wanted = {(int(level), int(index)) for level, index in ids}
    if not wanted:
        return {}
    leaves = ",".join(str(index) for level, index in wanted if level == 0)
    inner = ", ".join(f"({level}, {index})" for level, index in wanted if level)
    parts = []
    if leaves:
        parts.append(f'SELECT 0, "index", leaf_hash FROM ledger_entry WHERE "index" IN ({leaves})')  # noqa: S608
    if inner:
        node_sql = f'SELECT level, "index", hash FROM ledger_node WHERE (level, "index") IN (VALUES {inner})'  # noqa: S608
        parts.append(node_sql)
    rows = session.execute(text(" UNION ALL ".join(parts)))  # integers only: nothing to inject
    found = {(int(level), int(index)): bytes(value) for level, index, value in rows}
    missing = wanted - found.keys()
    if missing:
        raise LedgerCorrupt(
            f"the ledger lacks the stored hashes {sorted(missing)[:3]}: run `civic ledger verify`"
        )
    return found


def _within(session: Session, size: int) -> None:
    current = tree_size(session)
    if not 0 <= size <= current:
        raise InvalidInput(
            _(
                "The ledger has %(current)s entries; there is no tree of size %(size)s.",
                current=current,
                size=size,
            )
        )


def _answer(session: Session, plan: merkle.Plan, size: int) -> list[bytes]:
    """Every plan for `size` needs a hash covering entry size - 1: when one is missing, either the
    size is beyond the ledger (InvalidInput) or the ledger is damaged (LedgerCorrupt). One query."""
    try:
        return merkle.hash_plan(plan, fetch_nodes(session, merkle.plan_nodes(plan)))
    except LedgerCorrupt:
        _within(session, size)
        raise


def root(session: Session, size: int) -> bytes:
    """The root hash of the first `size` entries (the empty tree's is SHA-256 of nothing)."""
    if size < 0:
        raise InvalidInput(_("There is no tree of size %(size)s.", size=size))
    return _answer(session, merkle.root_plan(size), size)[0] if size else merkle.EMPTY_ROOT


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of entry `index` in the tree of the first `size` entries."""
    if not 0 <= index < size:
        raise InvalidInput(_("Entry %(index)s is not in a tree of size %(size)s.", index=index, size=size))
    return _answer(session, merkle.inclusion_plan(index, size), size)


def consistency_proof(session: Session, old: int, new: int) -> list[bytes]:
    """RFC 9162 consistency proof between the trees of the first `old` and `new` entries."""
    if not 0 < old <= new:
        raise InvalidInput(
            _("A consistency proof needs 0 < old <= new (got %(old)s and %(new)s).", old=old, new=new)
        )
    return _answer(session, merkle.consistency_plan(old, new), new)


def record_of(session: Session, index: int) -> dict[str, object] | None:
    """The record entry `index` commits to, or None if it was erased (or never existed)."""
    row = session.get(LedgerRecord, index)
    return None if row is None or row.body is None else json.loads(row.body)


def receipt_evidence(session: Session, index: int, head: SignedTreeHead) -> dict[str, object]:
    """Everything a receipt needs to prove entry `index` offline against a signed tree head
    (the `ledger` part of a receipt; civic/trust/receipts_verify.py checks it)."""
    entry = session.get(LedgerEntry, index)
    record = session.get(LedgerRecord, index)
    if entry is None or record is None or record.body is None or record.salt is None:
        raise InvalidInput(_("Ledger entry %(index)s does not exist or its record was erased.", index=index))
    return {
        "index": index,
        "kind": entry.kind,
        "time": format_time(entry.created_at),
        "record": json.loads(record.body),
        "salt": base64.b64encode(record.salt).decode(),
        "leaf_hash": base64.b64encode(entry.leaf_hash).decode(),
        "inclusion_proof": [base64.b64encode(h).decode() for h in inclusion_proof(session, index, head.size)],
        "tree_head": head.to_json(),
    }
