"""The moderation queue and moderators' decisions.

A case is one item waiting for a moderator: a proposal under pre-moderation, or an item citizens
reported. Deciding it always carries a reason (the author is shown it), changes the item only
through participation, records who decided in the action log and emits `moderation.decided`.

Two moderators deciding the same case at once: each locks the item's proposal row and then the
case row, so the second waits for the first to commit, then finds the case decided and gets
`CaseAlreadyDecided` (409) carrying the case as it now is, so the page can show what happened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from civic.clock import utcnow
from civic.errors import CivicError, Conflict, InvalidInput, NotFound
from civic.events.envelope import emit
from civic.i18n import _
from civic.identity.authorization import RULES, Permission, Target, active_grants, agency_subtree, authorize
from civic.identity.models import Account, Agency
from civic.leadership import actionlog
from civic.leadership.events import MODERATION_DECIDED
from civic.leadership.labels import DECISION_WORDS, word
from civic.leadership.models import (
    CaseOrigin,
    CaseState,
    Decision,
    ItemKind,
    ModerationCase,
    Report,
    ReportOutcome,
)
from civic.leadership.reports import Item, case_changed, load_item, moderate, open_case, open_case_for
from civic.leadership.schemas import BulkDecisionInput, DecisionInput, ItemDecisionInput
from civic.participation.consultations import consultation_target, get_consultation
from civic.participation.models import ProposalStatus
from civic.participation.moderation import (
    comment_move_refusal,
    do_replace_moderation_reason,
    proposal_move_refusal,
)

PER_PAGE = 20
# A moderator acting on an item from its page, not from the queue.
DIRECT = CaseOrigin.DIRECT.value
ORIGINS = (*(o.value for o in CaseOrigin), DIRECT)
STATES = ("open", "decided", "all")
UPHOLDING = (Decision.HIDE, Decision.REJECT)


class CaseAlreadyDecided(Conflict):
    """Someone decided the case first; `.case` is how it stands now (a detached copy, readable
    after the transaction that raised this has rolled back)."""

    code = "already_decided"

    def __init__(self, case: ModerationCase, actor_id: int | None = None) -> None:
        decision, reason = word(DECISION_WORDS, case.decision), case.reason
        if actor_id is not None and case.decided_by_id == actor_id:
            message = _(
                "You have already decided this case: %(decision)s — “%(reason)s”.",
                decision=decision,
                reason=reason,
            )
        else:
            message = _(
                "Another moderator has already decided this case: %(decision)s — “%(reason)s”.",
                decision=decision,
                reason=reason,
            )
        super().__init__(message, code="already_decided")
        self.case = ModerationCase(**case.model_dump())


# ---- scope -----------------------------------------------------------------------------------


def moderated_scope(session: Session, moderator: Account) -> tuple[set[int], set[int]]:
    """(agency ids, consultation ids) the moderator's active MODERATE grants cover."""
    assert moderator.id is not None
    agencies: set[int] = set()
    consultations: set[int] = set()
    for grant in active_grants(session, moderator.id):
        if grant.role not in RULES[Permission.MODERATE]:
            continue
        if grant.consultation_id is not None:
            consultations.add(grant.consultation_id)
        elif grant.agency_id is not None:
            agencies.update(agency_subtree(session, grant.agency_id))
    return agencies, consultations


def acts_on_public_content(case: ModerationCase, public_now: bool) -> bool:
    """Whether the action log shows a decision to everyone: reported or directly moderated items
    were public content; a submission under pre-moderation only once approved."""
    return case.origin != CaseOrigin.PRE_MODERATION or public_now


def authorize_case(session: Session, actor: Account | None, case: ModerationCase) -> Account:
    consultation = get_consultation(session, case.consultation_id)
    return authorize(session, actor, Permission.MODERATE, consultation_target(consultation))


# ---- reading the queue -----------------------------------------------------------------------


@dataclass
class QueuePage:
    items: list[ModerationCase]
    total: int
    page: int
    pages: int
    per_page: int = PER_PAGE


def queue(
    session: Session,
    actor: Account | None,
    *,
    agency_id: int | None = None,
    state: str = "open",
    origin: str | None = None,
    item_kind: str | None = None,
    consultation_id: int | None = None,
    page: int = 1,
) -> QueuePage:
    """Cases in the agencies (and consultations) the actor moderates, filtered and paged: open
    ones oldest first (a queue), decided ones most recent first."""
    moderator = authorize(session, actor, Permission.MODERATE)
    if state not in STATES:
        raise InvalidInput(
            _("Unknown state."), {"state": _("Use one of %(values)s.", values=", ".join(STATES))}
        )
    if origin is not None and origin not in ORIGINS:
        raise InvalidInput(
            _("Unknown origin."), {"origin": _("Use one of %(values)s.", values=", ".join(ORIGINS))}
        )
    if item_kind is not None and item_kind not in tuple(ItemKind):
        raise InvalidInput(_("Unknown item kind."), {"item_kind": _("Use proposal or comment.")})
    query = select(ModerationCase)
    if agency_id is not None:
        if session.get(Agency, agency_id) is None:
            raise NotFound(_("There is no agency %(id)s.", id=agency_id))
        authorize(session, moderator, Permission.MODERATE, Target(agency_id=agency_id))
        query = query.where(col(ModerationCase.agency_id).in_(agency_subtree(session, agency_id)))
    else:
        agencies, consultations = moderated_scope(session, moderator)
        query = query.where(
            or_(
                col(ModerationCase.agency_id).in_(agencies),
                col(ModerationCase.consultation_id).in_(consultations),
            )
        )
    if consultation_id is not None:
        consultation = get_consultation(session, consultation_id)
        authorize(session, moderator, Permission.MODERATE, consultation_target(consultation))
        query = query.where(ModerationCase.consultation_id == consultation_id)
    if state != "all":
        query = query.where(ModerationCase.state == state)
    if origin is not None:
        query = query.where(ModerationCase.origin == origin)
    if item_kind is not None:
        query = query.where(ModerationCase.item_kind == item_kind)
    total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
    if state == "open":
        query = query.order_by(col(ModerationCase.opened_at), col(ModerationCase.id))
    elif state == "decided":
        query = query.order_by(col(ModerationCase.decided_at).desc(), col(ModerationCase.id).desc())
    else:
        query = query.order_by(col(ModerationCase.opened_at).desc(), col(ModerationCase.id).desc())
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(page, 1), pages)
    items = list(session.exec(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all())
    return QueuePage(items=items, total=total, page=page, pages=pages)


def get_case(session: Session, actor: Account | None, case_id: int) -> ModerationCase:
    case = session.get(ModerationCase, case_id)
    if case is None:
        raise NotFound(_("There is no moderation case %(id)s.", id=case_id))
    authorize_case(session, actor, case)
    return case


# ---- opening cases ---------------------------------------------------------------------------


def open_pre_moderation_case(session: Session, proposal_id: int) -> ModerationCase | None:
    """Queue a proposal waiting for pre-moderation (from `proposal.submitted`). Idempotent: the
    open case if there is one; None if the proposal no longer waits (approved, retracted)."""
    item = load_item(session, ItemKind.PROPOSAL, proposal_id, lock=True)
    existing = open_case_for(session, ItemKind.PROPOSAL, proposal_id)
    if existing is not None:
        return existing
    if item.status != ProposalStatus.PENDING:
        return None
    return open_case(session, item, CaseOrigin.PRE_MODERATION)


# ---- deciding --------------------------------------------------------------------------------


def _move_for(case: ModerationCase, item: Item, decision: str) -> str | None:
    """The participation move a decision makes on the item as it now is (None: no change)."""
    if decision == Decision.KEEP:
        if item.status == ProposalStatus.PENDING:
            raise Conflict(_("A proposal waiting for moderation is approved or rejected, not kept."))
        # Keeping an item that reports hid automatically means putting it back.
        return "restore" if case.auto_hidden and item.is_hidden else None
    if decision == Decision.HIDE and item.is_hidden:
        return None  # hidden already (by reports or a block): the moderator confirms it
    return str(decision)


def decide(session: Session, actor: Account | None, case_id: int, data: DecisionInput) -> ModerationCase:
    case = session.get(ModerationCase, case_id)
    if case is None:
        raise NotFound(_("There is no moderation case %(id)s.", id=case_id))
    moderator = authorize_case(session, actor, case)
    # The item's proposal first, then the case: the order every writer keeps.
    item = load_item(session, case.item_kind, case.item_id, lock=True)
    locked = session.get(ModerationCase, case_id, with_for_update=True, populate_existing=True)
    assert locked is not None
    if locked.state != CaseState.OPEN:
        raise CaseAlreadyDecided(locked, moderator.id)
    return do_decide(session, moderator, locked, item, data.decision, data.reason)


def do_decide(
    session: Session, moderator: Account, case: ModerationCase, item: Item, decision: str, reason: str
) -> ModerationCase:
    """Apply the decision to the item, close the case, judge its reports (upheld when the item is
    hidden or rejected, dismissed otherwise: the reporters' weights follow), log and emit."""
    assert moderator.id is not None and case.id is not None
    was_public = item.is_public
    before = item.status
    move = _move_for(case, item, decision)
    if move is not None:
        moderate(session, item, move, actor_id=moderator.id, reason=reason)
    elif decision == Decision.HIDE and item.is_hidden:
        do_replace_moderation_reason(session, case.item_kind, case.item_id, reason)
    case.state = CaseState.DECIDED
    case.decided_at = utcnow()
    case.decided_by_id = moderator.id
    case.decision = decision
    case.reason = reason
    session.add(case)
    outcome = ReportOutcome.UPHELD if decision in UPHOLDING else ReportOutcome.DISMISSED
    session.execute(update(Report).where(col(Report.case_id) == case.id).values(outcome=outcome))
    session.flush()
    actionlog.record(
        session,
        actor_id=moderator.id,
        action=f"moderation.{decision}",
        subject_kind=case.item_kind,
        subject_id=case.item_id,
        agency_id=case.agency_id,
        reason=reason,
        public=acts_on_public_content(case, was_public or item.is_public),
        detail={
            "case_id": case.id,
            "origin": case.origin,
            "consultation_id": case.consultation_id,
            "status_before": before,
            "status_after": item.status,
        },
    )
    emit(session, MODERATION_DECIDED, case_changed(case), actor_id=moderator.id)
    return case


@dataclass
class BulkOutcome:
    case_id: int
    ok: bool
    case: ModerationCase | None = None
    error: str | None = None
    code: str | None = None


def decide_bulk(session: Session, actor: Account | None, data: BulkDecisionInput) -> list[BulkOutcome]:
    """The same decision and reason for many cases; each in its own savepoint, so one that cannot
    be decided (taken by someone else, another agency's, not applicable) is reported and the
    others still go through."""
    authorize(session, actor, Permission.MODERATE)
    one = DecisionInput(decision=data.decision, reason=data.reason)
    outcomes: list[BulkOutcome] = []
    for case_id in dict.fromkeys(data.case_ids):
        try:
            with session.begin_nested():
                case = decide(session, actor, case_id, one)
            outcomes.append(BulkOutcome(case_id, True, case))
        except CivicError as exc:
            current = exc.case if isinstance(exc, CaseAlreadyDecided) else None
            outcomes.append(BulkOutcome(case_id, False, current, exc.message, exc.code))
    return outcomes


def moderate_item(session: Session, actor: Account | None, data: ItemDecisionInput) -> ModerationCase:
    """Act on an item directly: decide its open case if it has one, else open a case and decide
    it at once, so every decision has the same record (reason, log, event, appeal)."""
    unlocked = load_item(session, data.item_kind, data.item_id)
    moderator = authorize(session, actor, Permission.MODERATE, consultation_target(unlocked.consultation))
    item = load_item(session, data.item_kind, data.item_id, lock=True)
    case = open_case_for(session, item.kind, item.id, lock=True)
    if case is None:
        refusal = (
            proposal_move_refusal(item.proposal, data.decision)
            if item.comment is None
            else comment_move_refusal(item.comment, data.decision)
        )
        if refusal:
            raise Conflict(refusal, code="not_applicable")
        origin = CaseOrigin.PRE_MODERATION if item.status == ProposalStatus.PENDING else DIRECT
        case = open_case(session, item, origin, actor_id=moderator.id)
    return do_decide(session, moderator, case, item, data.decision, data.reason)
