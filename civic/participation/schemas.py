"""What participation accepts and returns, shared by the HTML forms and the JSON API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from civic.clock import UTCDateTime
from civic.http.api import MAX_ID
from civic.i18n import _
from civic.identity.schemas import Line, MultiLine
from civic.identity.standing import LEVELS

PhaseName = Literal["information", "proposals", "support", "deliberation", "answered", "closed"]
LevelName = Literal["unverified", "verified", "esignature"]
# A consultation may ask proposers for a level that unlocks restricted consultations, or for none (0).
MIN_LEVELS = (0, *(p.level for p in LEVELS if p.restricted_consultations))


def _min_level(value: int | None) -> int | None:
    if value is not None and value not in MIN_LEVELS:
        choices = ", ".join(str(n) for n in MIN_LEVELS[1:])
        raise ValueError(
            _(
                "Choose 0 (open to everyone) or a level that unlocks restricted consultations: %(choices)s.",
                choices=choices,
            )
        )
    return value


class _Input(BaseModel):
    # Titles and names are `Line`s, texts `MultiLine`s: control characters are a 422 here, never a
    # 500 from PostgreSQL (which refuses NUL in text) or a title broken over lines.
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class ConsultationInput(_Input):
    agency_id: int = Field(ge=1, le=MAX_ID)
    title: Line = Field(min_length=5, max_length=200)
    summary: MultiLine = Field(min_length=10, max_length=500)
    body: MultiLine = Field(min_length=1, max_length=20_000)
    district: Line | None = Field(default=None, max_length=80)
    cover_url: str | None = Field(default=None, max_length=300, pattern=r"^/static/[\w./-]+$")
    cover_alt: Line = Field(default="", max_length=200)
    language: Literal["en", "az"] = "en"
    categories: list[Annotated[Line, Field(min_length=1, max_length=80)]] = Field(
        default_factory=list, max_length=30
    )
    schedule: dict[PhaseName, dict[Literal["starts", "ends"], str]] = Field(default_factory=dict)
    min_verification: LevelName = "unverified"
    allow_organisations: bool = True
    allow_foreign_residents: bool = True
    min_level: int = 0  # proposing needs this standing level; supporting and commenting do not
    moderation: Literal["pre", "post"] = "post"
    support_threshold: int = Field(default=100, ge=1, le=10_000_000)

    _check_min_level = field_validator("min_level")(_min_level)


class ConsultationEdit(_Input):
    """A convener's edit: only the fields sent change (a PATCH). The agency cannot change: a
    consultation moving to another agency would move it out of its officials' reach."""

    title: Line | None = Field(default=None, min_length=5, max_length=200)
    summary: MultiLine | None = Field(default=None, min_length=10, max_length=500)
    body: MultiLine | None = Field(default=None, min_length=1, max_length=20_000)
    district: Line | None = Field(default=None, max_length=80)
    cover_url: str | None = Field(default=None, max_length=300, pattern=r"^/static/[\w./-]+$")
    cover_alt: Line | None = Field(default=None, max_length=200)
    language: Literal["en", "az"] | None = None
    categories: list[Annotated[Line, Field(min_length=1, max_length=80)]] | None = Field(
        default=None, max_length=30
    )
    schedule: dict[PhaseName, dict[Literal["starts", "ends"], str]] | None = None
    min_verification: LevelName | None = None
    allow_organisations: bool | None = None
    allow_foreign_residents: bool | None = None
    min_level: int | None = None
    moderation: Literal["pre", "post"] | None = None
    support_threshold: int | None = Field(default=None, ge=1, le=10_000_000)

    _check_min_level = field_validator("min_level")(_min_level)

    @field_validator(
        "title",
        "summary",
        "body",
        "cover_alt",
        "language",
        "categories",
        "schedule",
        "min_verification",
        "allow_organisations",
        "allow_foreign_residents",
        "min_level",
        "moderation",
        "support_threshold",
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields that were sent: null clears `district` and `cover_url`, nothing else.
        if value is None:
            raise ValueError(_("This field cannot be empty; leave it out to keep it as it is."))
        return value

    def changes(self) -> dict[str, object]:
        """The fields sent, as the consultation stores them."""
        return self.model_dump(include=set(self.model_fields_set))


class PhaseChange(_Input):
    phase: PhaseName


class ProposalInput(_Input):
    title: Line = Field(min_length=5, max_length=150)
    body: MultiLine = Field(min_length=10, max_length=10_000)
    category: Line | None = Field(default=None, max_length=80)
    district: Line | None = Field(default=None, max_length=80)


class CommentInput(_Input):
    body: MultiLine = Field(min_length=1, max_length=5_000)
    parent_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class CommentEdit(_Input):
    body: MultiLine = Field(min_length=1, max_length=5_000)


class ConsultationOut(BaseModel):
    id: int
    agency_id: int
    title: str
    summary: str
    body: str
    district: str | None
    status: str
    phase: str
    schedule: dict[str, dict[str, str]]
    categories: list[str]
    min_verification: str
    allow_organisations: bool
    allow_foreign_residents: bool
    min_level: int = 0
    moderation: str
    support_threshold: int
    published_at: UTCDateTime | None


class ConsultationList(BaseModel):
    items: list[ConsultationOut]
    total: int
    page: int
    pages: int


class ProposalOut(BaseModel):
    id: int
    consultation_id: int
    author_id: int
    author_name: str
    title: str
    body: str
    body_html: str
    category: str | None
    district: str | None
    status: str
    support_count: int
    comment_count: int
    created_at: UTCDateTime
    edited_at: UTCDateTime | None
    threshold_reached: bool
    supported_by_me: bool = False


class ProposalList(BaseModel):
    items: list[ProposalOut]
    total: int
    page: int
    pages: int


class SupportOut(BaseModel):
    proposal_id: int
    supported: bool
    support_count: int
    threshold_reached: bool


class CommentOut(BaseModel):
    id: int
    proposal_id: int
    parent_id: int | None
    author_id: int | None
    author_name: str | None
    depth: int
    body_html: str | None
    status: str
    reply_count: int
    created_at: UTCDateTime
    edited_at: UTCDateTime | None
    replies: list[CommentOut] = Field(default_factory=list)


class CommentThread(BaseModel):
    items: list[CommentOut]
    total: int
