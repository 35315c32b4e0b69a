"""Events leadership emits, with their topics.

Moderation news goes to the agency's moderation topic (only its moderators may follow it) and to
the author concerned; a reporter is never named (`report.filed` keeps its actor private), so an
author cannot learn who reported them.
"""

from __future__ import annotations

from pydantic import BaseModel

from civic.events import topics
from civic.events.envelope import event_type


class ReportFiled(BaseModel):
    report_id: int
    case_id: int
    item_kind: str
    item_id: int
    agency_id: int
    consultation_id: int
    reason: str
    report_weight: float  # the open case's total
    report_count: int


REPORT_FILED = event_type(
    "report.filed",
    ReportFiled,
    # Also on the agency's dashboard, so officials who watch it without moderating see reports move.
    topics=lambda d: [topics.agency_moderation(d.agency_id), topics.agency_dashboard(d.agency_id)],
    actor_public=False,
)


class CaseChanged(BaseModel):
    case_id: int
    item_kind: str
    item_id: int
    agency_id: int
    consultation_id: int
    author_id: int
    origin: str
    state: str
    decision: str | None = None
    reason: str | None = None  # the moderator's reason: the author is shown it


def _case_topics(d: CaseChanged) -> list[str]:
    return [topics.agency_moderation(d.agency_id), topics.user(d.author_id)]


MODERATION_CASE_OPENED = event_type(
    "moderation.case_opened", CaseChanged, topics=lambda d: [topics.agency_moderation(d.agency_id)]
)
MODERATION_AUTO_HIDDEN = event_type("moderation.auto_hidden", CaseChanged, topics=_case_topics)
MODERATION_DECIDED = event_type("moderation.decided", CaseChanged, topics=_case_topics)


class AppealChanged(BaseModel):
    appeal_id: int
    case_id: int
    agency_id: int
    appellant_id: int
    state: str
    reason: str | None = None


def _appeal_topics(d: AppealChanged) -> list[str]:
    return [topics.agency_moderation(d.agency_id), topics.user(d.appellant_id)]


MODERATION_APPEALED = event_type("moderation.appealed", AppealChanged, topics=_appeal_topics)
MODERATION_APPEAL_DECIDED = event_type("moderation.appeal_decided", AppealChanged, topics=_appeal_topics)


class BlockChanged(BaseModel):
    block_id: int
    account_id: int
    agency_id: int
    hidden_count: int
    reason: str


def _block_topics(d: BlockChanged) -> list[str]:
    return [topics.agency_moderation(d.agency_id), topics.user(d.account_id)]


MODERATION_ACCOUNT_BLOCKED = event_type("moderation.account_blocked", BlockChanged, topics=_block_topics)
MODERATION_ACCOUNT_UNBLOCKED = event_type("moderation.account_unblocked", BlockChanged, topics=_block_topics)


class NotificationCreated(BaseModel):
    notification_id: int
    account_id: int
    kind: str
    title: str
    url: str


NOTIFICATION_CREATED = event_type(
    "notification.created", NotificationCreated, topics=lambda d: [topics.user(d.account_id)]
)
