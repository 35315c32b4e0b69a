"""The data vault: a citizen's optional attributes, encrypted at rest with Fernet.

Only the citizen reads their own vault in the clear (`own_vault`); officials reach a value only
through the gate (gate.py), which checks consent and records the access. The ciphertext is of a
small JSON document binding the account and the attribute to the value, so a row copied onto
another citizen or attribute fails to open instead of disclosing someone else's data. Values are
never logged, never in events, never in ledger records.
"""

from __future__ import annotations

import json
import re

from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session, col, select

from civic.clock import utcnow
from civic.errors import InvalidInput, NotAuthenticated
from civic.i18n import _
from civic.identity.models import Account
from civic.trust.models import VaultEntry
from civic.trust.purposes import ATTRIBUTES, Kind

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,22}[0-9]$")
MAX_TEXT = 100


class VaultCorrupted(Exception):
    """A ciphertext that does not open with this key for this account and attribute."""


def seal(fernet: Fernet, account_id: int, attribute: str, value: str) -> bytes:
    plain = json.dumps({"a": account_id, "k": attribute, "v": value}, separators=(",", ":"))
    return fernet.encrypt(plain.encode())


def unseal(fernet: Fernet, entry: VaultEntry) -> str:
    try:
        doc = json.loads(fernet.decrypt(entry.ciphertext))
    except (InvalidToken, ValueError) as exc:
        raise VaultCorrupted(f"vault entry {entry.id} does not decrypt with the vault key") from exc
    if doc.get("a") != entry.account_id or doc.get("k") != entry.attribute:
        raise VaultCorrupted(f"vault entry {entry.id} belongs to another account or attribute")
    return str(doc["v"])


def clean_value(attribute: str, raw: str) -> str:
    """The value as stored, or InvalidInput naming the field. Empty means "remove"."""
    spec = ATTRIBUTES[attribute]
    value = "".join(ch for ch in raw if ch.isprintable()).strip()
    if not value:
        return ""
    if spec.kind is Kind.CHOICE and value not in {c[0] for c in spec.choices}:
        raise InvalidInput(
            _("Some fields need attention."),
            {attribute: _("Choose one of: %(terms)s.", terms=", ".join(c[0] for c in spec.choices))},
        )
    if spec.kind is Kind.EMAIL and (len(value) > 254 or not EMAIL.match(value)):
        raise InvalidInput(
            _("Some fields need attention."), {attribute: _("Enter an e-mail address like name@example.az.")}
        )
    if spec.kind is Kind.PHONE and not PHONE.match(value):
        raise InvalidInput(
            _("Some fields need attention."), {attribute: _("Enter a phone number like +994 12 345 67 89.")}
        )
    if len(value) > MAX_TEXT:
        raise InvalidInput(
            _("Some fields need attention."), {attribute: _("Use at most %(max)d characters.", max=MAX_TEXT)}
        )
    return value


def _entries(session: Session, account_id: int, attributes: list[str] | None = None) -> dict[str, VaultEntry]:
    query = select(VaultEntry).where(VaultEntry.account_id == account_id)
    if attributes is not None:
        query = query.where(col(VaultEntry.attribute).in_(attributes))
    return {e.attribute: e for e in session.exec(query).all()}


def own_vault(session: Session, fernet: Fernet, actor: Account | None) -> dict[str, str]:
    """The citizen's own attributes in the clear (only those they have filled in)."""
    if actor is None or actor.id is None:
        raise NotAuthenticated(_("Log in to see your data."))
    return {name: unseal(fernet, e) for name, e in _entries(session, actor.id).items()}


def update_vault(
    session: Session, fernet: Fernet, actor: Account | None, values: dict[str, str]
) -> dict[str, str]:
    """Set the attributes named in `values` (an empty value removes one); others stay as they are.
    Every value is checked before anything is written."""
    if actor is None or actor.id is None:
        raise NotAuthenticated(_("Log in to edit your data."))
    unknown = sorted(set(values) - set(ATTRIBUTES))
    if unknown:
        raise InvalidInput(
            _("Some fields need attention."),
            {name: _("This field is not accepted here.") for name in unknown},
        )
    cleaned = {name: clean_value(name, raw) for name, raw in values.items()}
    existing = _entries(session, actor.id, list(cleaned))
    now = utcnow()
    for name, value in cleaned.items():
        entry = existing.get(name)
        if not value:
            if entry is not None:
                session.delete(entry)
            continue
        if entry is None:
            entry = VaultEntry(account_id=actor.id, attribute=name, ciphertext=b"", updated_at=now)
        entry.ciphertext = seal(fernet, actor.id, name, value)
        entry.updated_at = now
        session.add(entry)
    session.flush()
    return own_vault(session, fernet, actor)


def read_values(session: Session, fernet: Fernet, account_id: int, attributes: list[str]) -> dict[str, str]:
    """Decrypt a citizen's attributes for the gate (and only the gate: it checked consent)."""
    return {name: unseal(fernet, e) for name, e in _entries(session, account_id, attributes).items()}
