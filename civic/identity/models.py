"""Accounts, the agency tree, verification records and server-side sessions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, String
from sqlmodel import Field, SQLModel


class AccountKind(StrEnum):
    CITIZEN = "citizen"
    FOREIGN_RESIDENT = "foreign_resident"
    BUSINESS = "business"
    NGO = "ngo"
    OFFICIAL = "official"


E_CITIZEN_KINDS = (AccountKind.CITIZEN, AccountKind.FOREIGN_RESIDENT, AccountKind.BUSINESS, AccountKind.NGO)


class VerificationLevel(StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"  # identity confirmed in person by a registrar
    ESIGNATURE = "esignature"  # identity bound to a qualified electronic signature

    @property
    def rank(self) -> int:
        return list(VerificationLevel).index(self)


class AgencyKind(StrEnum):
    MINISTRY = "ministry"
    COUNCIL = "council"
    DIRECTORATE = "directorate"
    AGENCY = "agency"


class Agency(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(80), unique=True, nullable=False))
    name: str = Field(max_length=200)
    name_az: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    parent_id: int | None = Field(default=None, foreign_key="agency.id", index=True)


class Account(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(254), unique=True, nullable=False))
    display_name: str = Field(max_length=80)
    kind: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    verification_level: str = Field(default=VerificationLevel.UNVERIFIED, max_length=20)
    language: str = Field(default="en", max_length=5)
    # District of residence, recorded by a registrar from the identity document when verifying;
    # used only to open district consultations to their residents.
    district: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    is_active: bool = True


class VerificationRecord(SQLModel, table=True):
    """Each change of an account's verification level, kept forever: who confirmed it, how, when."""

    __tablename__ = "verification_record"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    level: str = Field(max_length=20)
    method: str = Field(max_length=40)
    verified_by_id: int = Field(foreign_key="account.id")
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class AuthSession(SQLModel, table=True):
    """A login. The cookie holds a random token; only its SHA-256 is stored, so a copy of the
    database cannot be used to hijack sessions. Deleting the row logs that browser out."""

    __tablename__ = "auth_session"

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    account_id: int = Field(foreign_key="account.id", index=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_seen_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    user_agent: str = Field(default="", max_length=200)


class Role(StrEnum):
    ADMINISTRATOR = "administrator"  # grants roles within its scope
    CONVENER = "convener"  # publishes and runs consultations
    MODERATOR = "moderator"
    RESPONDER = "responder"  # answers proposals in public
    REGISTRAR = "registrar"  # verifies e-citizens' identity
    ANALYST = "analyst"  # sees consented aggregates


class Grant(SQLModel, table=True):
    """A role held by an official within a scope: an agency and every unit below it, or one
    consultation. Never deleted: a revocation is recorded on the row, so the history of who could
    do what, and who decided it, stays."""

    __tablename__ = "role_grant"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    role: str = Field(max_length=20)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    consultation_id: int | None = Field(default=None, index=True)
    granted_by_id: int | None = Field(default=None, foreign_key="account.id")
    granted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ends_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revoked_by_id: int | None = Field(default=None, foreign_key="account.id")
