"""Leadership's records: reports, the moderation queue, appeals, blocks, the action log,
notifications and each agency's answer promise.

Items (proposals, comments) are named by kind and id, never by foreign key into participation's
tables beyond the id: leadership reads participation, but writes only these tables.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, DateTime, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class ItemKind(StrEnum):
    PROPOSAL = "proposal"
    COMMENT = "comment"


class ReportReason(StrEnum):
    SPAM = "spam"
    OFFENSIVE = "offensive"
    OFF_TOPIC = "off_topic"
    PERSONAL_DATA = "personal_data"


class ReportOutcome(StrEnum):
    UPHELD = "upheld"  # a moderator hid or rejected the item
    DISMISSED = "dismissed"  # a moderator kept the item


class Report(SQLModel, table=True):
    """One e-citizen's report of one item; a second report of the same item by the same person is
    the same report (unique), so nobody can push an item over the threshold alone."""

    __table_args__ = (
        UniqueConstraint("item_kind", "item_id", "reporter_id", name="uq_report_item_reporter"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_kind: str = Field(max_length=10)
    item_id: int
    agency_id: int = Field(foreign_key="agency.id", index=True)
    consultation_id: int
    reporter_id: int = Field(foreign_key="account.id", index=True)
    reason: str = Field(max_length=20)
    note: str = Field(default="", max_length=500)
    weight: float  # fixed when filed, from the reporter's record then
    case_id: int | None = Field(default=None, index=True)
    outcome: str | None = Field(default=None, max_length=10)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CaseOrigin(StrEnum):
    PRE_MODERATION = "pre_moderation"  # a proposal waiting to be approved
    REPORTS = "reports"  # reported by e-citizens
    BLOCK = "block"  # reserved: blocks hide items without queueing them (see blocks.py)
    DIRECT = "direct"  # a moderator acted on an item from its page, without a queued case


class CaseState(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class Decision(StrEnum):
    APPROVE = "approve"  # a pending proposal goes public
    REJECT = "reject"  # a pending proposal is refused
    HIDE = "hide"  # a public item is hidden
    RESTORE = "restore"  # a hidden or rejected item is public again
    KEEP = "keep"  # reports dismissed: the item stays as it is


class ModerationCase(SQLModel, table=True):
    """An item in the moderation queue. At most one open case per item (partial unique index);
    a decided case stays as the record of that decision, and later reports open a new case."""

    __tablename__ = "moderation_case"
    __table_args__ = (
        Index(
            "uq_moderation_case_open_item",
            "item_kind",
            "item_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
        Index("ix_moderation_case_queue", "agency_id", "state", "opened_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_kind: str = Field(max_length=10)
    item_id: int
    agency_id: int = Field(foreign_key="agency.id")
    consultation_id: int = Field(index=True)
    author_id: int = Field(foreign_key="account.id", index=True)
    title: str = Field(max_length=200)  # what the queue shows: the proposal's title, a comment's opening
    origin: str = Field(max_length=16)
    state: str = Field(default=CaseState.OPEN, max_length=8)
    report_weight: float = 0.0
    report_count: int = 0
    auto_hidden: bool = False
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    decided_by_id: int | None = Field(default=None, foreign_key="account.id")
    decision: str | None = Field(default=None, max_length=10)
    reason: str | None = Field(default=None, max_length=1000)


class AppealState(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the decision stands
    OVERTURNED = "overturned"  # the decision is reversed


class Appeal(SQLModel, table=True):
    """The author's one appeal against one decision, decided by a different moderator."""

    __table_args__ = (UniqueConstraint("case_id", name="uq_appeal_case"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="moderation_case.id")
    agency_id: int = Field(foreign_key="agency.id", index=True)
    appellant_id: int = Field(foreign_key="account.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default=AppealState.OPEN, max_length=10)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    decided_by_id: int | None = Field(default=None, foreign_key="account.id")
    reason: str | None = Field(default=None, max_length=1000)


class AccountBlock(SQLModel, table=True):
    """A blocked account. `hidden` lists exactly the items the block hid, so lifting it restores
    those and not what moderators had hidden for their own reasons."""

    __tablename__ = "account_block"
    __table_args__ = (
        Index(
            "uq_account_block_active",
            "account_id",
            unique=True,
            sqlite_where=text("lifted_at IS NULL"),
            postgresql_where=text("lifted_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")  # the scope it was decided in
    blocked_by_id: int = Field(foreign_key="account.id")
    reason: str = Field(max_length=1000)
    hidden: list[dict[str, int | str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    lifted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    lifted_by_id: int | None = Field(default=None, foreign_key="account.id")
    lift_reason: str | None = Field(default=None, max_length=1000)


class OfficialAction(SQLModel, table=True):
    """The action log: every official act, who, what, when and why. `public` rows (acts on public
    content) are on the transparency page; the rest only officials see."""

    __tablename__ = "official_action"
    __table_args__ = (Index("ix_official_action_agency_time", "agency_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="account.id", index=True)  # None: command line
    action: str = Field(max_length=40)  # "moderation.hide", "proposal.answer", "role.grant", …
    subject_kind: str = Field(max_length=20)  # proposal, comment, consultation, account, grant, appeal
    subject_id: int
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    public: bool = False
    detail: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The event the entry was made from, when it was made by a handler: makes it idempotent.
    event_id: str | None = Field(default=None, sa_column=Column(String(36), unique=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Notification(SQLModel, table=True):
    """A message in an account's inbox (answers to proposals one wrote or supported, moderation
    decisions on one's content). One per (event, account): a replayed event notifies once."""

    __table_args__ = (
        UniqueConstraint("event_id", "account_id", name="uq_notification_event_account"),
        Index("ix_notification_inbox", "account_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    event_id: str = Field(max_length=36)
    kind: str = Field(max_length=40)
    title: str = Field(max_length=300)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    url: str = Field(default="", max_length=300)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    read_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


DEFAULT_ANSWER_PROMISE_DAYS = 14


class AgencyPromise(SQLModel, table=True):
    """How many days an agency promises to take to answer a proposal (default 14)."""

    __tablename__ = "agency_promise"

    agency_id: int = Field(foreign_key="agency.id", primary_key=True)
    answer_days: int = DEFAULT_ANSWER_PROMISE_DAYS


class NotificationSettings(SQLModel, table=True):
    """One account's choices about its notifications, and where its e-mail digest stands.

    The kinds switched *off* are stored, not the ones on: a kind added later reaches everyone
    until they turn it off. `digest_sent_at` is the end of the window the last digest covered, so
    the next one starts there and a notification is mailed at most once.
    """

    __tablename__ = "notification_settings"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    no_toast: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    no_email: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    digest_sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
