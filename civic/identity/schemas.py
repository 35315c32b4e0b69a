"""What identity accepts and returns, shared by the HTML forms and the JSON API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, field_validator

from civic.clock import UTCDateTime
from civic.i18n import _


def _no_control_characters(value: str, allowed: str = "") -> str:
    """PostgreSQL refuses NUL in text (a 500 if it reached the database), and no other control
    character belongs in a name or an address: refuse them as a 422 here."""
    if any((ord(ch) < 0x20 and ch not in allowed) or ord(ch) == 0x7F for ch in value):
        raise ValueError(_("Remove the control characters (such as NUL or line breaks) from this field."))
    return value


def _multiline(value: str) -> str:
    return _no_control_characters(value, allowed="\t\n\r")


Line = Annotated[str, AfterValidator(_no_control_characters)]
MultiLine = Annotated[str, AfterValidator(_multiline)]
EmailAddress = Annotated[EmailStr, AfterValidator(_no_control_characters)]


class Registration(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    email: EmailAddress = Field(description="Used to log in; never shown to others.")
    display_name: Line = Field(
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

    email: Line = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=128)


class VerificationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Literal["verified", "esignature"]
    method: Literal["in_person", "esignature"] = "in_person"
    note: MultiLine = Field(default="", max_length=500)
    district: Line | None = Field(
        default=None,
        max_length=80,
        description="District of residence on the identity document, if recorded.",
    )


class AccountOut(BaseModel):
    id: int
    email: str
    display_name: str
    kind: str
    verification_level: str
    agency_id: int | None
    created_at: UTCDateTime


class SessionOut(BaseModel):
    account: AccountOut
    csrf_token: str


class VerificationOut(BaseModel):
    account_id: int
    level: str
    method: str
    verified_by_id: int
    created_at: UTCDateTime


class CsrfOut(BaseModel):
    csrf_token: str
