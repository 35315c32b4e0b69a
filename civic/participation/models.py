"""Consultations, proposals, supports and comments: what the three modules act on."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, DateTime, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class ConsultationStatus(StrEnum):
    DRAFT = "draft"  # visible only to the owning agency's officials
    PUBLISHED = "published"


class Phase(StrEnum):
    INFORMATION = "information"
    PROPOSALS = "proposals"
    SUPPORT = "support"
    DELIBERATION = "deliberation"
    ANSWERED = "answered"
    CLOSED = "closed"


PHASE_ORDER = list(Phase)


class Moderation(StrEnum):
    PRE = "pre"  # proposals wait for a moderator before anyone sees them
    POST = "post"  # proposals appear at once; moderators act on reports


class ProposalStatus(StrEnum):
    PENDING = "pending"  # waiting for pre-moderation
    PUBLISHED = "published"
    REJECTED = "rejected"
    HIDDEN = "hidden"
    WITHDRAWN = "withdrawn"
    # Withdrawn by its author while still waiting for pre-moderation: it was never public and must
    # not become public by being withdrawn, so only its author and the agency's officials see it.
    RETRACTED = "retracted"


class Consultation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    title: str = Field(max_length=200)
    summary: str = Field(max_length=500)
    body: str = Field(sa_column=Column(Text, nullable=False))
    district: str | None = Field(default=None, max_length=80)  # None: the whole country
    cover_url: str | None = Field(default=None, max_length=300)
    cover_alt: str = Field(default="", max_length=200)
    language: str = Field(default="en", max_length=5)
    status: str = Field(default=ConsultationStatus.DRAFT, max_length=12)
    phase: str = Field(default=Phase.INFORMATION, max_length=14)
    # Schedule: {"proposals": {"starts": "2026-12-01", "ends": "2027-01-15"}, …}
    schedule: dict[str, dict[str, str]] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Who may take part.
    min_verification: str = Field(default="unverified", max_length=20)
    allow_organisations: bool = True  # businesses and NGOs
    allow_foreign_residents: bool = True
    # Proposing needs at least this standing level (identity's 0-4); supporting and commenting don't.
    min_level: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    moderation: str = Field(default=Moderation.POST, max_length=4)
    support_threshold: int = 100
    created_by_id: int = Field(foreign_key="account.id")
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    published_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class Proposal(SQLModel, table=True):
    __table_args__ = (Index("ix_proposal_consultation_status", "consultation_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    author_id: int = Field(foreign_key="account.id", index=True)
    title: str = Field(max_length=150)
    body: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    category: str | None = Field(default=None, max_length=80)
    district: str | None = Field(default=None, max_length=80)
    status: str = Field(default=ProposalStatus.PUBLISHED, max_length=12)
    support_count: int = 0
    comment_count: int = 0
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    threshold_reached_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # The officials' current answer (AnswerStatus), kept in step with the latest ProposalAnswer row.
    answer_status: str | None = Field(default=None, max_length=20)
    first_answered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # Why moderation last hid or rejected it: its author is shown this.
    moderation_reason: str | None = Field(default=None, max_length=1000)


class AnswerStatus(StrEnum):
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    PARTIALLY_ACCEPTED = "partially_accepted"
    REJECTED = "rejected"
    IMPLEMENTED = "implemented"


class ProposalAnswer(SQLModel, table=True):
    """One official answer or status change, kept forever: the proposal's answer history.

    Signed with the official's name, role and agency as they were when answering, so a later
    rename or transfer does not rewrite what citizens were told.
    """

    __tablename__ = "proposal_answer"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    status: str = Field(max_length=20)
    text: str = Field(sa_column=Column(Text, nullable=False))
    text_html: str = Field(sa_column=Column(Text, nullable=False))
    official_id: int = Field(foreign_key="account.id", index=True)
    official_name: str = Field(max_length=80)
    official_role: str = Field(max_length=20)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    agency_name: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Support(SQLModel, table=True):
    """One citizen's support of one proposal; the unique constraint makes a double click count once."""

    __table_args__ = (UniqueConstraint("proposal_id", "account_id", name="uq_support_proposal_account"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id")
    account_id: int = Field(foreign_key="account.id", index=True)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CommentStatus(StrEnum):
    PUBLISHED = "published"
    DELETED = "deleted"  # by its author: a tombstone keeps the thread readable
    HIDDEN = "hidden"  # by moderation


class Comment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="comment.id", index=True)
    author_id: int = Field(foreign_key="account.id", index=True)
    depth: int = 0
    body: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=CommentStatus.PUBLISHED, sa_column=Column(String(10), nullable=False))
    reply_count: int = 0
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    deleted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # Why moderation hid it: its author is shown this.
    moderation_reason: str | None = Field(default=None, max_length=1000)
