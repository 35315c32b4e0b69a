"""The consent ledger's tables: entries (the Merkle tree's leaves), erasable records, stored nodes and
signed tree heads.

`ledger_entry` is append-only and holds no personal data: each entry commits to its record through a
salted hash. `ledger_record` holds the record itself and can be erased (GDPR) without touching any
leaf. `ledger_node` keeps every complete subtree's hash so proofs read O(log n) rows. `tree_head`
keeps every signed tree head ever published, so `civic ledger verify` can check the log against
each of them. See civic/trust/ledger.py for the bytes that are hashed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, SmallInteger, String
from sqlmodel import Field, SQLModel


class LedgerEntry(SQLModel, table=True):
    """One leaf: its 0-based position (gapless), what happened, when, and the record's commitment."""

    __tablename__ = "ledger_entry"

    index: int = Field(sa_column=Column("index", BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(sa_column=Column(String(40), nullable=False))
    commitment: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))  # SHA-256(salt || record)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class LedgerRecord(SQLModel, table=True):
    """The record an entry commits to. Erasing it wipes salt, body and subject and keeps the row, so
    the entry's leaf (and every proof) still holds while nothing links it to the person any more."""

    __tablename__ = "ledger_record"

    entry_index: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    subject_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True, index=True))
    salt: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32), nullable=True))
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))  # canonical JSON
    erased_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class LedgerNode(SQLModel, table=True):
    """A complete subtree: level L, index i covers entries [i * 2**L, (i + 1) * 2**L); level >= 1
    (level-0 hashes are the entries' leaf hashes). Written once, when its last entry is appended."""

    __tablename__ = "ledger_node"

    level: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    index: int = Field(sa_column=Column("index", BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class TreeHead(SQLModel, table=True):
    """A signed tree head as published: at most one per tree size."""

    __tablename__ = "tree_head"

    id: int | None = Field(default=None, primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    timestamp: int = Field(sa_column=Column(BigInteger, nullable=False))  # milliseconds since the epoch, UTC
    signature: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False))
    public_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
