"""Signed tree heads: the ledger's size and root hash at a moment, signed with Ed25519.

What is signed (a C2SP tlog-checkpoint-style note body, UTF-8, every line ending in "\\n"):

    civic/consent-ledger/v1
    <tree size, decimal>
    <root hash, standard base64>
    timestamp <milliseconds since 1970-01-01T00:00:00Z, decimal>

The signature is Ed25519 (RFC 8032) over exactly those bytes. Every head ever published is stored
(`tree_head`), so `civic ledger verify` checks the log against each of them; a head is published on
demand (`civic ledger head`, receipts) and at intervals by whoever calls `sign_tree_head` on a
schedule. A new head is signed only when the log has grown: at most one head per tree size.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import Session, col, select

from civic.trust import ledger
from civic.trust.ledger_models import TreeHead

if TYPE_CHECKING:
    from civic.settings import Settings

ORIGIN = "civic/consent-ledger/v1"


@dataclass(frozen=True)
class SignedTreeHead:
    size: int
    root: bytes
    timestamp: int  # milliseconds since the epoch, UTC
    signature: bytes
    public_key: bytes  # raw Ed25519 public key (32 bytes) that signed it

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, tz=UTC)

    def signed_bytes(self) -> bytes:
        return signed_bytes(self.size, self.root, self.timestamp)

    def to_json(self) -> dict[str, object]:
        return {
            "origin": ORIGIN,
            "size": self.size,
            "root": _b64(self.root),
            "timestamp": self.timestamp,
            "time": self.time.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "signature": _b64(self.signature),
            "public_key": _b64(self.public_key),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> SignedTreeHead:
        """Parse a head as `to_json` writes it; ValueError says what is wrong."""
        try:
            if data.get("origin", ORIGIN) != ORIGIN:
                raise ValueError(f"origin is {data.get('origin')!r}, not {ORIGIN!r}")
            size, timestamp = data["size"], data["timestamp"]
            if not isinstance(size, int) or not isinstance(timestamp, int) or size < 0:
                raise ValueError("size and timestamp must be whole numbers")
            return cls(
                size=size,
                root=_unb64(data["root"]),
                timestamp=timestamp,
                signature=_unb64(data["signature"]),
                public_key=_unb64(data["public_key"]),
            )
        except (KeyError, TypeError, binascii.Error) as exc:
            raise ValueError(f"not a signed tree head: {exc.__class__.__name__}: {exc}") from exc

    @classmethod
    def from_row(cls, row: TreeHead) -> SignedTreeHead:
        return cls(row.size, row.root, row.timestamp, row.signature, row.public_key)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _unb64(value: object) -> bytes:
    if not isinstance(value, str):
        raise TypeError("expected a base64 string")
    return base64.b64decode(value, validate=True)


def signed_bytes(size: int, root: bytes, timestamp: int) -> bytes:
    return f"{ORIGIN}\n{size}\n{_b64(root)}\ntimestamp {timestamp}\n".encode()


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify_tree_head(sth: SignedTreeHead, public_key: Ed25519PublicKey | bytes) -> bool:
    """True when `sth` carries a valid Ed25519 signature by `public_key` (the trusted key, not the
    one the head names: a forger can name any key)."""
    try:
        key = (
            public_key
            if isinstance(public_key, Ed25519PublicKey)
            else Ed25519PublicKey.from_public_bytes(public_key)
        )
        key.verify(sth.signature, sth.signed_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True


def latest_tree_head(session: Session) -> SignedTreeHead | None:
    row = session.exec(select(TreeHead).order_by(col(TreeHead.size).desc()).limit(1)).first()
    return None if row is None else SignedTreeHead.from_row(row)


def all_tree_heads(session: Session) -> list[TreeHead]:
    return list(session.exec(select(TreeHead).order_by(col(TreeHead.size), col(TreeHead.id))))


def sign_tree_head(session: Session, signer: Ed25519PrivateKey) -> SignedTreeHead:
    """Sign and store a head for the ledger as it is now, in the caller's transaction; if no entry
    was appended since the latest head, return that one instead (one head per size)."""
    ledger.lock(session)  # no append slips in between reading the size and the root
    size = ledger.tree_size(session)
    latest = latest_tree_head(session)
    if latest is not None and latest.size == size:
        return latest
    root = ledger.root(session, size)
    timestamp = int(datetime.now(UTC).timestamp() * 1000)
    if latest is not None:
        timestamp = max(timestamp, latest.timestamp)
    head = SignedTreeHead(
        size, root, timestamp, signer.sign(signed_bytes(size, root, timestamp)), public_key_bytes(signer)
    )
    session.add(
        TreeHead(
            size=size,
            root=root,
            timestamp=timestamp,
            signature=head.signature,
            public_key=head.public_key,
        )
    )
    session.flush()
    return head


def load_signer(settings: Settings) -> Ed25519PrivateKey:
    """The ledger's signing key (civic/trust/keys.py: CIVIC_LEDGER_SIGNING_KEY, or var/ in embedded
    mode); ConfigurationError names what to set."""
    from civic.trust.keys import trust_keys

    return trust_keys(settings).signer
