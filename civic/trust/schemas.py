"""What trust accepts, shared by the HTML forms and the JSON API.

Purposes and attributes are plain strings here and checked against the vocabulary in the domain
(purposes.py), so a term outside it is a 422 that names the field and lists the allowed terms.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from civic.http.api import MAX_ID
from civic.i18n import _
from civic.identity.schemas import Line, MultiLine

MAX_RETENTION_DAYS = 3650  # ten years: a consent with no end is not a consent one can keep track of


class _Input(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class VaultInput(_Input):
    """The attributes to change; a field left out stays as it is, an empty one is removed."""

    district: str | None = Field(default=None, max_length=200)
    age_band: str | None = Field(default=None, max_length=200)
    gender: str | None = Field(default=None, max_length=200)
    occupation: str | None = Field(default=None, max_length=200)
    education: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=300)
    contact_phone: str | None = Field(default=None, max_length=200)

    def changes(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


Attributes = list[Line]


class RequestInput(_Input):
    """An official's request. `agency_id` defaults to the official's own agency; the request goes
    to one citizen, or to every participant of `consultation_id` when no citizen is named."""

    agency_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    citizen_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    consultation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    purpose: Line = Field(max_length=40)
    attributes: Attributes = Field(min_length=1, max_length=20)
    retention_days: int = Field(ge=1, le=MAX_RETENTION_DAYS)
    message: MultiLine = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def _addressed(self) -> RequestInput:
        if self.citizen_id is None and self.consultation_id is None:
            raise ValueError(_("Name a citizen, or a consultation whose participants are asked."))
        return self


class AnswerInput(_Input):
    """Granting a request: the attributes granted, all of those asked or some of them."""

    attributes: Attributes = Field(min_length=1, max_length=20)


class ProactiveInput(_Input):
    """A consent the citizen gives without being asked."""

    agency_id: int = Field(ge=1, le=MAX_ID)
    purpose: Line = Field(max_length=40)
    attributes: Attributes = Field(min_length=1, max_length=20)
    retention_days: int = Field(ge=1, le=MAX_RETENTION_DAYS)
    consultation_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ReadInput(_Input):
    """A read through the gate: whose attribute, for which purpose, and what it will serve (the
    citizen is shown this). `agency_id`: the agency read for (default: the official's own)."""

    citizen_id: int = Field(ge=1, le=MAX_ID)
    attribute: Line = Field(max_length=20)
    purpose: Line = Field(max_length=40)
    served: Line = Field(min_length=3, max_length=300)
    agency_id: int | None = Field(default=None, ge=1, le=MAX_ID)
