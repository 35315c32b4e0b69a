"""What leadership accepts, shared by the HTML forms and the JSON API.

A reason is required wherever an official decides something about a citizen's content: the author
is shown it, and an empty one is a 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from civic.http.api import MAX_ID
from civic.identity.schemas import Line, MultiLine

ReasonText = MultiLine


class _Input(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class ReportInput(_Input):
    reason: Literal["spam", "offensive", "off_topic", "personal_data"]
    note: MultiLine = Field(default="", max_length=500)


class DecisionInput(_Input):
    decision: Literal["approve", "reject", "hide", "restore", "keep"]
    reason: ReasonText = Field(min_length=3, max_length=1000)


class BulkDecisionInput(_Input):
    case_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=200)
    decision: Literal["approve", "reject", "hide", "restore", "keep"]
    reason: ReasonText = Field(min_length=3, max_length=1000)


class ItemDecisionInput(_Input):
    """A moderator acting on an item directly (from its page), not from a queued case."""

    item_kind: Literal["proposal", "comment"]
    item_id: int = Field(ge=1, le=MAX_ID)
    decision: Literal["approve", "reject", "hide", "restore"]
    reason: ReasonText = Field(min_length=3, max_length=1000)


class AppealInput(_Input):
    text: MultiLine = Field(min_length=10, max_length=2000)


class AppealDecisionInput(_Input):
    outcome: Literal["upheld", "overturned"]
    reason: ReasonText = Field(min_length=3, max_length=1000)


class BlockInput(_Input):
    agency_id: int = Field(ge=1, le=MAX_ID)  # the scope the moderator acts in
    reason: ReasonText = Field(min_length=3, max_length=1000)


class ReasonInput(_Input):
    reason: ReasonText = Field(min_length=3, max_length=1000)


class AnswerInput(_Input):
    status: Literal["under_review", "accepted", "partially_accepted", "rejected", "implemented"]
    text: MultiLine = Field(min_length=10, max_length=10_000)


class GrantInput(_Input):
    account_id: int = Field(ge=1, le=MAX_ID)
    role: Literal["administrator", "convener", "moderator", "responder", "registrar", "analyst"]
    agency_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    consultation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    ends_at: datetime | None = None
    reason: Line = Field(default="", max_length=300)


class PromiseInput(_Input):
    answer_days: int = Field(ge=1, le=365)
