"""What leadership's JSON API answers and its pages show: response models, and the reads that fill
them beyond what the domain functions return (a case's reports, the item's text).

A report is shown with its reason, note and weight, never its reporter: an author who could read
the queue must not learn who reported them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from civic.clock import UTCDateTime
from civic.http.api import MAX_ID
from civic.identity.models import Account
from civic.leadership.models import AccountBlock, Appeal, ModerationCase, Notification, Report
from civic.leadership.queries import LogEntry
from civic.leadership.scorecard import Scorecard
from civic.participation.models import Comment, Proposal, ProposalAnswer


class CaseOut(BaseModel):
    id: int
    item_kind: str
    item_id: int
    agency_id: int
    consultation_id: int
    title: str
    origin: str
    state: str
    report_weight: float
    report_count: int
    auto_hidden: bool
    opened_at: UTCDateTime
    decided_at: UTCDateTime | None
    decided_by: str | None = Field(description="The deciding moderator's public name.")
    decision: str | None
    reason: str | None


class ReportSummary(BaseModel):
    """One report as moderators see it: why, and how much it weighed; not who filed it."""

    reason: str
    note: str
    weight: float
    created_at: UTCDateTime
    outcome: str | None


class CaseDetail(CaseOut):
    item_status: str
    item_html: str = Field(description="The item's text as rendered HTML (moderators see hidden items too).")
    proposal_id: int
    proposal_title: str
    author_id: int
    author_name: str
    reports: list[ReportSummary]


class CaseList(BaseModel):
    items: list[CaseOut]
    total: int
    page: int
    pages: int


class ReportOut(BaseModel):
    id: int
    item_kind: str
    item_id: int
    reason: str
    note: str
    case_id: int | None
    created_at: UTCDateTime


class BulkOutcomeOut(BaseModel):
    case_id: int
    ok: bool
    error: str | None = None
    code: str | None = None
    case: CaseOut | None = Field(default=None, description="The case as it stands now (decided or not).")


class BulkResult(BaseModel):
    items: list[BulkOutcomeOut]


class AppealOut(BaseModel):
    id: int
    case_id: int
    agency_id: int
    state: str
    text: str
    created_at: UTCDateTime
    decided_at: UTCDateTime | None
    reason: str | None


class AppealList(BaseModel):
    items: list[AppealOut]


class BlockOut(BaseModel):
    id: int
    account_id: int
    agency_id: int
    reason: str
    hidden_count: int
    created_at: UTCDateTime
    lifted_at: UTCDateTime | None
    lift_reason: str | None


class AnswerOut(BaseModel):
    id: int
    proposal_id: int
    status: str
    text: str
    text_html: str
    official_name: str
    official_role: str
    agency_name: str
    created_at: UTCDateTime


class AnswerList(BaseModel):
    current_status: str | None
    items: list[AnswerOut] = Field(description="Oldest first: the proposal's answer history.")


class NotificationOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: UTCDateTime
    read_at: UTCDateTime | None


class NotificationList(BaseModel):
    items: list[NotificationOut]
    total: int
    unread: int
    page: int
    pages: int


class MarkReadInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None, max_length=500, description="Notification ids; leave out to mark every one read."
    )


class MarkReadOut(BaseModel):
    marked: int
    unread: int


class ActionOut(BaseModel):
    id: int
    actor_name: str | None = Field(description="The official's public name; null for the command line.")
    action: str
    subject_kind: str
    subject_id: int
    agency_id: int | None
    agency_name: str | None
    reason: str
    public: bool
    created_at: UTCDateTime


class ActionList(BaseModel):
    items: list[ActionOut]
    total: int
    page: int
    pages: int


class ScorecardOut(BaseModel):
    """One agency's or official's figures; civic.leadership.scorecard defines each denominator."""

    kind: str = Field(description="agency or official")
    subject_id: int
    name: str
    agency_id: int | None
    promise_days: int | None
    proposals_received: int
    proposals_answered: int
    median_answer_hours: float | None
    p90_answer_hours: float | None
    answered_within_promise: int
    promise_due: int
    share_within_promise: float | None
    open_overdue: int
    cases_decided: int
    median_moderation_hours: float | None
    open_cases_overdue: int


class ScorecardList(BaseModel):
    items: list[ScorecardOut]


# ---- building them ---------------------------------------------------------------------------


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.exec(select(Account.id, Account.display_name).where(col(Account.id).in_(wanted))).all()
    return {i: name for i, name in rows if i is not None}


def case_outs(session: Session, cases: list[ModerationCase]) -> list[CaseOut]:
    names = _names(session, {c.decided_by_id for c in cases})
    return [_case_out(c, names) for c in cases]


def _case_out(case: ModerationCase, names: dict[int, str]) -> CaseOut:
    assert case.id is not None
    return CaseOut(
        id=case.id,
        item_kind=case.item_kind,
        item_id=case.item_id,
        agency_id=case.agency_id,
        consultation_id=case.consultation_id,
        title=case.title,
        origin=case.origin,
        state=case.state,
        report_weight=case.report_weight,
        report_count=case.report_count,
        auto_hidden=case.auto_hidden,
        opened_at=case.opened_at,
        decided_at=case.decided_at,
        decided_by=names.get(case.decided_by_id) if case.decided_by_id else None,
        decision=case.decision,
        reason=case.reason,
    )


def case_out(session: Session, case: ModerationCase) -> CaseOut:
    return case_outs(session, [case])[0]


def case_detail(session: Session, case: ModerationCase) -> CaseDetail:
    """The case with the item's text and its reports. The caller has authorized the moderator."""
    base = case_out(session, case)
    if case.item_kind == "comment":
        comment = session.get(Comment, case.item_id)
        proposal = session.get(Proposal, comment.proposal_id) if comment else None
        status, html = (comment.status, comment.body_html) if comment else ("deleted", "")
    else:
        proposal = session.get(Proposal, case.item_id)
        status, html = (proposal.status, proposal.body_html) if proposal else ("deleted", "")
    reports = session.exec(
        select(Report).where(Report.case_id == case.id).order_by(col(Report.created_at), col(Report.id))
    ).all()
    author = session.get(Account, case.author_id)
    return CaseDetail(
        **base.model_dump(),
        item_status=status,
        item_html=html,
        proposal_id=proposal.id if proposal and proposal.id else 0,
        proposal_title=proposal.title if proposal else "",
        author_id=case.author_id,
        author_name=author.display_name if author else "",
        reports=[
            ReportSummary(
                reason=r.reason, note=r.note, weight=r.weight, created_at=r.created_at, outcome=r.outcome
            )
            for r in reports
        ],
    )


def report_out(report: Report) -> ReportOut:
    assert report.id is not None
    return ReportOut(
        id=report.id,
        item_kind=report.item_kind,
        item_id=report.item_id,
        reason=report.reason,
        note=report.note,
        case_id=report.case_id,
        created_at=report.created_at,
    )


def appeal_out(appeal: Appeal) -> AppealOut:
    assert appeal.id is not None
    return AppealOut(
        id=appeal.id,
        case_id=appeal.case_id,
        agency_id=appeal.agency_id,
        state=appeal.state,
        text=appeal.text,
        created_at=appeal.created_at,
        decided_at=appeal.decided_at,
        reason=appeal.reason,
    )


def block_out(block: AccountBlock) -> BlockOut:
    assert block.id is not None
    return BlockOut(
        id=block.id,
        account_id=block.account_id,
        agency_id=block.agency_id,
        reason=block.reason,
        hidden_count=len(block.hidden),
        created_at=block.created_at,
        lifted_at=block.lifted_at,
        lift_reason=block.lift_reason,
    )


def answer_out(answer: ProposalAnswer) -> AnswerOut:
    assert answer.id is not None
    return AnswerOut(
        id=answer.id,
        proposal_id=answer.proposal_id,
        status=answer.status,
        text=answer.text,
        text_html=answer.text_html,
        official_name=answer.official_name,
        official_role=answer.official_role,
        agency_name=answer.agency_name,
        created_at=answer.created_at,
    )


def notification_out(n: Notification) -> NotificationOut:
    assert n.id is not None
    return NotificationOut(
        id=n.id,
        kind=n.kind,
        title=n.title,
        body=n.body,
        url=n.url,
        created_at=n.created_at,
        read_at=n.read_at,
    )


def action_outs(entries: list[LogEntry]) -> list[ActionOut]:
    return [
        ActionOut(
            id=e.id,
            actor_name=e.actor_name,
            action=e.action,
            subject_kind=e.subject_kind,
            subject_id=e.subject_id,
            agency_id=e.agency_id,
            agency_name=e.agency_name,
            reason=e.reason,
            public=e.public,
            created_at=e.created_at,
        )
        for e in entries
    ]


def scorecard_out(card: Scorecard) -> ScorecardOut:
    return ScorecardOut(**asdict(card))
