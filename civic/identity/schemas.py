"""What identity accepts and returns, shared by the HTML forms and the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

EmailAddress = EmailStr


class Registration(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    email: EmailAddress = Field(description="Used to log in; never shown to others.")
    display_name: str = Field(
        min_length=2, max_length=80, description="Shown publicly next to what you write."
    )
    password: str = Field(min_length=10, max_length=128)
    kind: Literal["citizen", "foreign_resident", "business", "ngo"] = "citizen"

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class Credentials(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=128)


class VerificationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Literal["verified", "esignature"]
    method: Literal["in_person", "esignature"] = "in_person"
    note: str = Field(default="", max_length=500)


class AccountOut(BaseModel):
    id: int
    email: str
    display_name: str
    kind: str
    verification_level: str
    agency_id: int | None
    created_at: datetime


class SessionOut(BaseModel):
    account: AccountOut
    csrf_token: str


class VerificationOut(BaseModel):
    account_id: int
    level: str
    method: str
    verified_by_id: int
    created_at: datetime


class CsrfOut(BaseModel):
    csrf_token: str
