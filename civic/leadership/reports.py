"""E-citizens' reports, what one report weighs, and hiding an item once its reports weigh enough.

A report's weight is a reviewable score in the spirit of Discourse's: it starts at 1 (an ordinary
established citizen, so three of them hide an item, Decidim's default of three distinct reports),
is lower for a fresh or unverified account, and moves with the reporter's record here: reports
that moderators upheld raise it, dismissed ones lower it. It is capped below the threshold, so no
single account, however reliable, can hide content alone; a reliable reporter only acts faster
(with one more ordinary report instead of two).

Locking: every writer of an item's reports and case locks the item's proposal row first (as every
participation writer does), then the case: two reports of the same item queue instead of both
opening a case, and no order of report and decision can deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from civic.clock import as_utc, utcnow
from civic.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from civic.events.envelope import emit
from civic.i18n import N_, _
from civic.identity.models import Account, AccountKind, VerificationLevel
from civic.identity.standing import privileges, standing_level
from civic.leadership.events import (
    MODERATION_AUTO_HIDDEN,
    MODERATION_CASE_OPENED,
    REPORT_FILED,
    CaseChanged,
    ReportFiled,
)
from civic.leadership.models import CaseOrigin, CaseState, ItemKind, ModerationCase, Report, ReportOutcome
from civic.leadership.schemas import ReportInput
from civic.participation.consultations import get_consultation
from civic.participation.models import (
    Comment,
    CommentStatus,
    Consultation,
    ConsultationStatus,
    Proposal,
    ProposalStatus,
)
from civic.participation.moderation import do_moderate_comment, do_moderate_proposal
from civic.participation.proposals import get_proposal
from civic.participation.queries import PUBLIC_STATUSES
from civic.ratelimit import take_for

AUTO_HIDE_THRESHOLD = 3.0
REPORTING_TOO_FAST = N_(
    "You have sent many reports in the last hour. Thank you; please wait a while before the next."
)
# The heaviest one report can be, as a share of the threshold: 2.5 of 3.
MAX_SHARE = 5 / 6
MIN_WEIGHT = 0.25
# Stored as the item's moderation reason (in English, like every stored text); translated where shown.
AUTO_HIDE_REASON = N_("Hidden automatically after reports; a moderator will review it.")

_LEVEL_BONUS = {
    VerificationLevel.UNVERIFIED: -0.25,
    VerificationLevel.VERIFIED: 0.0,
    VerificationLevel.ESIGNATURE: 0.25,
}
_MATURE_DAYS = 180  # the age bonus grows linearly from -0.25 (new) to +0.25 (half a year)
_RECORD_SPAN = 1.5  # how far the record can move the weight either way


# ---- items -----------------------------------------------------------------------------------


@dataclass
class Item:
    """A proposal or a comment, with what moderation needs to know about it."""

    kind: str
    id: int
    proposal: Proposal
    comment: Comment | None
    consultation: Consultation

    @property
    def author_id(self) -> int:
        return self.comment.author_id if self.comment else self.proposal.author_id

    @property
    def status(self) -> str:
        return self.comment.status if self.comment else self.proposal.status

    @property
    def title(self) -> str:
        if self.comment is None:
            return self.proposal.title
        opening = " ".join(self.comment.body.split())
        return opening if len(opening) <= 120 else opening[:119] + "…"

    @property
    def is_public(self) -> bool:
        """Anyone may see it: a published consultation, a public proposal, a live comment."""
        if self.consultation.status != ConsultationStatus.PUBLISHED:
            return False
        if self.proposal.status not in PUBLIC_STATUSES:
            return False
        return self.comment is None or self.comment.status == CommentStatus.PUBLISHED

    @property
    def is_hidden(self) -> bool:
        return self.status == ProposalStatus.HIDDEN  # "hidden" for comments too


def load_item(session: Session, kind: str, item_id: int, *, lock: bool = False) -> Item:
    """The item; with `lock`, its proposal row is locked first (the order every writer keeps)."""
    if kind == ItemKind.PROPOSAL:
        proposal = get_proposal(session, item_id, lock=lock)
        comment = None
    elif kind == ItemKind.COMMENT:
        comment = session.get(Comment, item_id)
        if comment is None:
            raise NotFound(_("There is no comment %(id)s.", id=item_id))
        proposal = get_proposal(session, comment.proposal_id, lock=lock)
        if lock:
            session.refresh(comment)
    else:
        raise InvalidInput(_("Report a proposal or a comment."), {"item_kind": _("Use proposal or comment.")})
    return Item(kind, item_id, proposal, comment, get_consultation(session, proposal.consultation_id))


def no_such_item(kind: str, item_id: int) -> str:
    """The 404 message for a kind of item (`There is no proposal 12.`), a sentence per kind."""
    if kind == ItemKind.COMMENT:
        return _("There is no comment %(id)s.", id=item_id)
    return _("There is no proposal %(id)s.", id=item_id)


def moderate(session: Session, item: Item, move: str, *, actor_id: int | None, reason: str) -> None:
    """Apply a move through participation, the only writer of items (Conflict if it does not apply)."""
    if item.kind == ItemKind.PROPOSAL:
        item.proposal = do_moderate_proposal(session, item.id, move, actor_id=actor_id, reason=reason)
    else:
        item.comment = do_moderate_comment(session, item.id, move, actor_id=actor_id, reason=reason)


def case_changed(case: ModerationCase) -> CaseChanged:
    assert case.id is not None
    return CaseChanged(
        case_id=case.id,
        item_kind=case.item_kind,
        item_id=case.item_id,
        agency_id=case.agency_id,
        consultation_id=case.consultation_id,
        author_id=case.author_id,
        origin=case.origin,
        state=case.state,
        decision=case.decision,
        reason=case.reason,
    )


def open_case_for(
    session: Session, item_kind: str, item_id: int, *, lock: bool = False
) -> ModerationCase | None:
    """The item's open case (at most one: a partial unique index), locked with `lock`."""
    query = select(ModerationCase).where(
        ModerationCase.item_kind == item_kind,
        ModerationCase.item_id == item_id,
        ModerationCase.state == CaseState.OPEN,
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.exec(query).first()


def open_case(session: Session, item: Item, origin: str, *, actor_id: int | None = None) -> ModerationCase:
    """Put the item in the queue (the caller holds its proposal lock and found no open case)."""
    case = ModerationCase(
        item_kind=item.kind,
        item_id=item.id,
        agency_id=item.consultation.agency_id,
        consultation_id=item.consultation.id or 0,
        author_id=item.author_id,
        title=item.title[:200],
        origin=origin,
        opened_at=utcnow(),
    )
    session.add(case)
    session.flush()
    emit(session, MODERATION_CASE_OPENED, case_changed(case), actor_id=actor_id)
    return case


# ---- weights ---------------------------------------------------------------------------------


def report_record(session: Session, reporter_id: int) -> tuple[int, int]:
    """(upheld, dismissed): how moderators judged this person's past reports."""
    rows = session.exec(
        select(Report.outcome, func.count())
        .where(Report.reporter_id == reporter_id, col(Report.outcome).is_not(None))
        .group_by(Report.outcome)
    ).all()
    counts = {outcome: int(n) for outcome, n in rows}
    return counts.get(ReportOutcome.UPHELD, 0), counts.get(ReportOutcome.DISMISSED, 0)


def report_weight(session: Session, reporter: Account, *, threshold: float = AUTO_HIDE_THRESHOLD) -> float:
    """What the reporter's next report weighs, from MIN_WEIGHT up to `MAX_SHARE * threshold`.

    1.0 (an established, verified citizen with no record)
    + verification: -0.25 unverified, 0 verified, +0.25 e-signature
    + age: from -0.25 for a new account to +0.25 at half a year, linearly
    + record: 1.5 x (2p - 1) where p = (upheld + 1) / (upheld + dismissed + 2), the share of
      upheld reports smoothed towards one half, so a single outcome moves it a little and a long
      record a lot (3 upheld: +0.9; 3 dismissed: -0.9).
    + level: the bonus the citizen's engagement level unlocks (identity's standing, 0 to +0.75).
    A new unverified account weighs 0.5: it cannot hide anything alone, nor with two like it.
    """
    assert reporter.id is not None
    try:
        level = VerificationLevel(reporter.verification_level)
    except ValueError:
        level = VerificationLevel.UNVERIFIED
    age_days = max((utcnow() - as_utc(reporter.created_at)).total_seconds() / 86400, 0.0)
    age = -0.25 + 0.5 * min(age_days, _MATURE_DAYS) / _MATURE_DAYS
    upheld, dismissed = report_record(session, reporter.id)
    share = (upheld + 1) / (upheld + dismissed + 2)
    record = _RECORD_SPAN * (2 * share - 1)
    bonus = privileges(standing_level(session, reporter.id)).report_weight_bonus
    weight = 1.0 + _LEVEL_BONUS[level] + age + record + bonus
    return round(min(max(weight, MIN_WEIGHT), threshold * MAX_SHARE), 3)


# ---- filing ----------------------------------------------------------------------------------


def check_file_report(
    session: Session, actor: Account | None, item_kind: str, item_id: int
) -> tuple[Account, Item]:
    if actor is None or actor.id is None:
        raise NotAuthenticated(_("Log in to report content."))
    if actor.kind == AccountKind.OFFICIAL or not actor.is_active:
        raise Forbidden(_("Only e-citizens report content; officials moderate it directly."))
    item = load_item(session, item_kind, item_id, lock=True)
    if not item.is_public:
        # Not public (a draft, a pending or hidden item): as if it did not exist.
        raise NotFound(no_such_item(item_kind, item_id))
    if item.author_id == actor.id:
        raise Conflict(_("You cannot report what you wrote yourself."), code="own_item")
    existing = session.exec(
        select(Report.id).where(
            Report.item_kind == item_kind, Report.item_id == item_id, Report.reporter_id == actor.id
        )
    ).first()
    if existing is not None:
        message = (
            _("You have already reported this comment.")
            if item_kind == ItemKind.COMMENT
            else _("You have already reported this proposal.")
        )
        raise Conflict(message, code="already_reported")
    return actor, item


def file_report(
    session: Session,
    actor: Account | None,
    item_kind: str,
    item_id: int,
    data: ReportInput,
    *,
    threshold: float = AUTO_HIDE_THRESHOLD,
) -> Report:
    reporter, item = check_file_report(session, actor, item_kind, item_id)
    take_for(session, "reporting", f"account:{reporter.id}", _(REPORTING_TOO_FAST))
    return do_file_report(session, reporter, item, data, threshold=threshold)


def do_file_report(
    session: Session,
    reporter: Account,
    item: Item,
    data: ReportInput,
    *,
    threshold: float = AUTO_HIDE_THRESHOLD,
) -> Report:
    """Record the report, open or join the item's case, emit `report.filed`; once the case's
    weight reaches the threshold, hide the item (its author is told a moderator will review it)
    and emit `moderation.auto_hidden`. The caller holds the item's proposal lock."""
    assert reporter.id is not None
    case = open_case_for(session, item.kind, item.id, lock=True) or open_case(
        session, item, CaseOrigin.REPORTS
    )
    weight = report_weight(session, reporter, threshold=threshold)
    report = Report(
        item_kind=item.kind,
        item_id=item.id,
        agency_id=item.consultation.agency_id,
        consultation_id=item.consultation.id or 0,
        reporter_id=reporter.id,
        reason=data.reason,
        note=data.note,
        weight=weight,
        case_id=case.id,
        created_at=utcnow(),
    )
    case.report_weight = round(case.report_weight + weight, 3)
    case.report_count += 1
    session.add(report)
    session.add(case)
    session.flush()
    assert report.id is not None and case.id is not None
    emit(
        session,
        REPORT_FILED,
        ReportFiled(
            report_id=report.id,
            case_id=case.id,
            item_kind=item.kind,
            item_id=item.id,
            agency_id=case.agency_id,
            consultation_id=case.consultation_id,
            reason=report.reason,
            report_weight=case.report_weight,
            report_count=case.report_count,
        ),
        actor_id=reporter.id,
    )
    # A withdrawn proposal stays readable but cannot be hidden by a move; it waits for a moderator.
    if not case.auto_hidden and case.report_weight >= threshold and item.status == ProposalStatus.PUBLISHED:
        moderate(session, item, "hide", actor_id=None, reason=AUTO_HIDE_REASON)
        case.auto_hidden = True
        session.add(case)
        session.flush()
        emit(session, MODERATION_AUTO_HIDDEN, case_changed(case), actor_id=None)
    return report
