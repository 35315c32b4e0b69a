"""The points ledger: entries, reversal marks and balances.

`PointsEntry` is the ledger proper: every award and every reversal is a row naming the event that
caused it and the rule it belongs to, and a citizen's balance is the sum of their rows
(`PointsBalance` keeps that sum in step, in the same transaction). An award row also keeps the
rule's full points (`base`), what it is for (`subject`: one support, one comment…) and the content
it belongs to (`content`: the proposal or comment), so a later reversal can find it. A support's subject names its supporter, and who supported what is private:
`subject` and `content` never leave engagement (queries.history leaves them out).

`PointsReversal` records that an event takes points back, even when the points it takes back have
not been awarded yet: events can be handled out of order, and an award that arrives after its
reversal finds the mark and books nothing. Account ids carry no foreign key, like the outbox's
actor: engagement reads identity only through events.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, DateTime, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel


class EntryKind:
    AWARD = "award"
    REVERSAL = "reversal"


class ReversalKind:
    SUBJECT = "subject"  # the act itself (one support): its supporter's and its author's points
    CONTENT = "content"  # everything the content (a proposal, a comment) earned its author


class PointsEntry(SQLModel, table=True):
    __tablename__ = "points_entry"
    __table_args__ = (
        # One row per (event, rule, citizen, day): handling an event again inserts nothing. The day
        # is in the key because one reversal can take back awards of the same rule from several days.
        UniqueConstraint("event_id", "rule", "account_id", "day", name="uq_points_entry_event_rule_account"),
        Index("ix_points_entry_bucket", "account_id", "rule", "day"),
        Index("ix_points_entry_subject", "account_id", "subject"),
        Index("ix_points_entry_content", "account_id", "content"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int
    rule: str = Field(sa_column=Column(String(60), nullable=False))
    # The UTC day of the event that earned the points: daily caps count per (citizen, rule, day).
    day: date = Field(sa_column=Column(Date, nullable=False))
    kind: str = Field(sa_column=Column(String(10), nullable=False))
    points: int  # the change this row made to the balance (0 for an award past the daily cap)
    base: int = 0  # an award's points before the cap; 0 on reversal rows
    event_id: str = Field(sa_column=Column(String(36), nullable=False))
    event_seq: int
    subject: str = Field(default="", sa_column=Column(String(80), nullable=False))
    content: str = Field(default="", sa_column=Column(String(80), nullable=False))
    reason: str = Field(sa_column=Column(String(200), nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # The consultation of the event that booked the row: what the per-consultation and per-district
    # leaderboards count (None for events about no consultation).
    consultation_id: int | None = None


class PointsReversal(SQLModel, table=True):
    __tablename__ = "points_reversal"
    __table_args__ = (
        UniqueConstraint("event_id", "kind", "key", "account_id", name="uq_points_reversal_event_key"),
        Index("ix_points_reversal_target", "account_id", "kind", "key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(sa_column=Column(String(36), nullable=False))
    event_seq: int  # awards of earlier events are taken back; later ones (a new support) are not
    rule: str = Field(sa_column=Column(String(60), nullable=False))  # the [[reversal]] that matched
    kind: str = Field(sa_column=Column(String(10), nullable=False))
    key: str = Field(sa_column=Column(String(80), nullable=False))
    account_id: int  # whose points it takes back
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class PointsBalance(SQLModel, table=True):
    __tablename__ = "points_balance"

    account_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    points: int = 0
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


# ---- badges, preferences, moderation record, leaderboards ----------------------------------


class BadgeLevel(SQLModel, table=True):
    """A citizen's level (0-5) in one badge, recomputed from source data whenever it may change.

    `level` can go down (content removed by moderation stops counting); `notified_level` is the
    highest level ever announced with `badge.earned`, so hiding and restoring something does not
    announce the same level twice.
    """

    __tablename__ = "engagement_badge"

    account_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    badge: str = Field(sa_column=Column(String(40), primary_key=True))
    level: int = 0
    count: int = 0  # the measure the thresholds apply to (published proposals, upheld reports…)
    notified_level: int = 0
    earned_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Preference(SQLModel, table=True):
    """What a citizen chose to show. Badges can reveal who someone is (a district, a verified
    identity), so they are private until the citizen opts in; leaderboards show only the display
    name and points, and a citizen can leave them at any time."""

    __tablename__ = "engagement_preference"

    account_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    show_badges: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))
    on_leaderboards: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, default=True))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CaseRecord(SQLModel, table=True):
    """Engagement's copy of a moderation case's outcome, from leadership's events (engagement never
    reads leadership's tables): who wrote the item, the latest decision, whether an appeal
    overturned it. Rebuilt from the outbox by `civic engagement reset`."""

    __tablename__ = "engagement_case"
    __table_args__ = (Index("ix_engagement_case_author", "author_id", "decided_at"),)

    case_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    author_id: int | None = None
    item_kind: str = Field(default="", sa_column=Column(String(20), nullable=False))
    decision: str | None = Field(default=None, sa_column=Column(String(20)))
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    decision_seq: int = 0  # the event that set `decision`: an older one arriving late changes nothing
    overturned: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, default=False))


class ReportRecord(SQLModel, table=True):
    """That a citizen reported the item of a case (from `report.filed`, whose actor is private:
    this table never leaves engagement)."""

    __tablename__ = "engagement_report"
    __table_args__ = (Index("ix_engagement_report_reporter", "reporter_id"),)

    case_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    reporter_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    event_seq: int


class LeaderboardScore(SQLModel, table=True):
    """A citizen's points on one board ("global|all", "c:12|m:2026-03", "d:Yasamal|w:2026-W10").

    Kept for every citizen, opted out or not (reads leave opted-out citizens out), so opting back in
    and rebuilding Redis need nothing but this table; the embedded mode reads it directly.
    """

    __tablename__ = "leaderboard_score"
    __table_args__ = (Index("ix_leaderboard_score_board", "board", "score"),)

    board: str = Field(sa_column=Column(String(120), primary_key=True))
    account_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    score: int
