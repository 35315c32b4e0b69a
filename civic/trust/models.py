"""Trust's records: the encrypted data vault, disclosure requests, consents and the access log.

The ledger's own tables (entries, erasable records, tree heads) are in `ledger_models`. Rows here
name the ledger entry that commits to them (`*_index`), so a receipt can carry its proof.
Attribute values only ever exist as Fernet ciphertext in `vault_entry`: no other table, event or
ledger record holds one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from civic.trust import ledger_models  # noqa: F401  (the ledger's tables come with trust's)


class VaultEntry(SQLModel, table=True):
    """One attribute of one citizen, encrypted. The plaintext binds the account and attribute, so
    a row copied onto another account or attribute does not decrypt as valid (see vault.py)."""

    __tablename__ = "vault_entry"
    __table_args__ = (UniqueConstraint("account_id", "attribute", name="uq_vault_entry_account_attribute"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    attribute: str = Field(max_length=20)
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DisclosureRequest(SQLModel, table=True):
    """An official's request, on behalf of an agency, for named attributes for one purpose and a
    retention period. Addressed to one citizen, or (citizen_id NULL) to every participant of the
    consultation named."""

    __tablename__ = "disclosure_request"
    __table_args__ = (Index("ix_disclosure_request_agency_time", "agency_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id")
    requested_by_id: int = Field(foreign_key="account.id")
    citizen_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    consultation_id: int | None = Field(default=None, foreign_key="consultation.id", index=True)
    purpose: str = Field(max_length=40)
    attributes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    retention_days: int
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ledger_index: int | None = None


class ConsentState(StrEnum):
    """W3C DPV's consent status concepts (dpv:ConsentRequested … dpv:ConsentExpired). A request
    a citizen has not answered is "requested" without a consent row; ignoring it costs nothing."""

    REQUESTED = "requested"
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Consent(SQLModel, table=True):
    """A citizen's answer: given (for some or all of the attributes asked), refused, or given
    unprompted (request_id NULL). A given consent later becomes withdrawn or expired; a request gets
    one answer per citizen."""

    __table_args__ = (
        UniqueConstraint("request_id", "citizen_id", name="uq_consent_request_citizen"),
        Index("ix_consent_citizen_agency_purpose", "citizen_id", "agency_id", "purpose"),
        Index("ix_consent_state_expiry", "state", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="account.id")
    agency_id: int = Field(foreign_key="agency.id", index=True)
    request_id: int | None = Field(default=None, foreign_key="disclosure_request.id")
    consultation_id: int | None = Field(default=None, foreign_key="consultation.id")
    purpose: str = Field(max_length=40)
    attributes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    state: str = Field(max_length=10)
    retention_days: int
    decided_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    ended_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    ledger_index: int | None = None  # the consent.granted / consent.refused entry
    end_ledger_index: int | None = None  # the consent.revoked / consent.expired entry


class AccessOutcome(StrEnum):
    ACCESSED = "accessed"
    REFUSED = "refused"


class DataAccess(SQLModel, table=True):
    """Every read through the gate, allowed or refused: who (official, their role, their agency),
    which attributes, for what purpose, when, and what it served. The citizen's "who used my data"."""

    __tablename__ = "data_access"
    __table_args__ = (Index("ix_data_access_citizen_time", "citizen_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="account.id")
    official_id: int = Field(foreign_key="account.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")
    role: str = Field(max_length=20)
    consent_id: int | None = Field(default=None, foreign_key="consent.id")
    purpose: str = Field(max_length=40)
    attributes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    served: str = Field(max_length=300)
    outcome: str = Field(max_length=10)
    reason: str | None = Field(default=None, max_length=20)  # a refusal's: none, revoked, expired…
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ledger_index: int | None = None
