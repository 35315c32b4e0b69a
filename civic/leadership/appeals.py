"""Appeals: the author's one appeal against a decision that hid or rejected their content, decided
by a different moderator than the one who made the decision. Overturning it puts the item back.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, or_, select

from civic.clock import utcnow
from civic.errors import Conflict, Forbidden, NotAuthenticated, NotFound
from civic.events.envelope import emit
from civic.i18n import _
from civic.identity.authorization import Permission, Target, authorize
from civic.identity.models import Account
from civic.leadership import actionlog
from civic.leadership.events import MODERATION_APPEAL_DECIDED, MODERATION_APPEALED, AppealChanged
from civic.leadership.labels import APPEAL_STATE_WORDS, word
from civic.leadership.models import (
    Appeal,
    AppealState,
    CaseState,
    ModerationCase,
    Report,
    ReportOutcome,
)
from civic.leadership.moderation import (
    UPHOLDING,
    acts_on_public_content,
    agency_subtree,
    authorize_case,
    moderated_scope,
)
from civic.leadership.reports import load_item, moderate
from civic.leadership.schemas import AppealDecisionInput, AppealInput
from civic.participation.models import ProposalStatus

RESTORABLE = (ProposalStatus.HIDDEN, ProposalStatus.REJECTED)  # comments: "hidden" too


def _changed(appeal: Appeal) -> AppealChanged:
    assert appeal.id is not None
    return AppealChanged(
        appeal_id=appeal.id,
        case_id=appeal.case_id,
        agency_id=appeal.agency_id,
        appellant_id=appeal.appellant_id,
        state=appeal.state,
        reason=appeal.reason,
    )


def _existing(session: Session, case_id: int) -> Appeal | None:
    return session.exec(select(Appeal).where(Appeal.case_id == case_id)).first()


def file_appeal(session: Session, actor: Account | None, case_id: int, data: AppealInput) -> Appeal:
    if actor is None or actor.id is None:
        raise NotAuthenticated(_("Log in to appeal."))
    case = session.get(ModerationCase, case_id)
    if case is None or case.author_id != actor.id:
        # Someone else's case: as if it did not exist (its existence is the author's business).
        raise NotFound(_("There is no moderation decision %(id)s on your content.", id=case_id))
    load_item(session, case.item_kind, case.item_id, lock=True)  # the order every writer keeps
    case = session.get(ModerationCase, case_id, with_for_update=True, populate_existing=True)
    assert case is not None
    if case.state != CaseState.DECIDED or case.decision not in UPHOLDING:
        raise Conflict(
            _("Only a decision that hid or rejected your content can be appealed."), code="not_appealable"
        )
    if _existing(session, case_id) is not None:
        raise Conflict(
            _("You have already appealed this decision; each decision takes one appeal."),
            code="already_appealed",
        )
    appeal = Appeal(
        case_id=case_id,
        agency_id=case.agency_id,
        appellant_id=actor.id,
        text=data.text,
        created_at=utcnow(),
    )
    session.add(appeal)
    session.flush()
    emit(session, MODERATION_APPEALED, _changed(appeal), actor_id=actor.id)
    return appeal


def decide_appeal(
    session: Session, actor: Account | None, appeal_id: int, data: AppealDecisionInput
) -> Appeal:
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(_("There is no appeal %(id)s.", id=appeal_id))
    case = session.get(ModerationCase, appeal.case_id)
    assert case is not None
    moderator = authorize_case(session, actor, case)
    if moderator.id == case.decided_by_id:
        raise Forbidden(
            _(
                "An appeal goes to a different moderator: you made the decision it appeals. "
                "Leave it to another moderator of the agency."
            )
        )
    item = load_item(session, case.item_kind, case.item_id, lock=True)
    appeal = session.get(Appeal, appeal_id, with_for_update=True, populate_existing=True)
    assert appeal is not None
    if appeal.state != AppealState.OPEN:
        raise Conflict(
            _(
                "This appeal has already been decided: %(state)s.",
                state=word(APPEAL_STATE_WORDS, appeal.state),
            ),
            code="already_decided",
        )
    overturned = data.outcome == AppealState.OVERTURNED
    was_public = item.is_public
    if overturned and item.status in RESTORABLE:
        moderate(session, item, "restore", actor_id=moderator.id, reason=data.reason)
    if overturned:
        # The reports were not right after all: they count as dismissed in the reporters' record.
        session.execute(
            update(Report).where(col(Report.case_id) == case.id).values(outcome=ReportOutcome.DISMISSED)
        )
    appeal.state = data.outcome
    appeal.decided_at = utcnow()
    appeal.decided_by_id = moderator.id
    appeal.reason = data.reason
    session.add(appeal)
    session.flush()
    assert appeal.id is not None
    actionlog.record(
        session,
        actor_id=moderator.id,
        action=f"moderation.appeal_{data.outcome}",
        subject_kind="appeal",
        subject_id=appeal.id,
        agency_id=appeal.agency_id,
        reason=data.reason,
        public=acts_on_public_content(case, was_public or item.is_public),
        detail={"case_id": case.id, "item_kind": case.item_kind, "item_id": case.item_id},
    )
    emit(session, MODERATION_APPEAL_DECIDED, _changed(appeal), actor_id=moderator.id)
    return appeal


def open_appeals(session: Session, actor: Account | None, agency_id: int | None = None) -> list[Appeal]:
    """Open appeals the actor may decide, oldest first: in the agencies (or consultations) they
    moderate, and not against their own decisions."""
    moderator = authorize(session, actor, Permission.MODERATE)
    query = select(Appeal).join(ModerationCase, col(ModerationCase.id) == col(Appeal.case_id))
    if agency_id is not None:
        authorize(session, moderator, Permission.MODERATE, Target(agency_id=agency_id))
        query = query.where(col(Appeal.agency_id).in_(agency_subtree(session, agency_id)))
    else:
        agencies, consultations = moderated_scope(session, moderator)
        query = query.where(
            or_(col(Appeal.agency_id).in_(agencies), col(ModerationCase.consultation_id).in_(consultations))
        )
    query = query.where(
        Appeal.state == AppealState.OPEN,
        or_(col(ModerationCase.decided_by_id).is_(None), ModerationCase.decided_by_id != moderator.id),
    )
    return list(session.exec(query.order_by(col(Appeal.created_at), col(Appeal.id))).all())
