"""Official answers: a responder gives a proposal a status and a public text signed with their name,
role and agency.

Every answer is a new `ProposalAnswer` row, so the history of what citizens were told is kept and
shown; the proposal's `answer_status` follows the latest. Participation writes both (it owns the
tables) through `do_record_answer`; leadership decides who may answer, refuses an answer that
changes nothing, and logs the act publicly, since the answer itself is public.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from civic.errors import Conflict, NotAuthenticated
from civic.i18n import N_, _
from civic.identity.authorization import Permission, authorize
from civic.identity.models import Account, Role
from civic.leadership import actionlog
from civic.leadership.schemas import AnswerInput
from civic.participation.consultations import consultation_target
from civic.participation.models import AnswerStatus, Consultation, Proposal, ProposalAnswer
from civic.participation.moderation import ANSWERABLE, do_record_answer
from civic.participation.proposals import get_proposal
from civic.participation.queries import visible_proposal

ANSWER_ROLE = Role.RESPONDER.value
# Why a proposal in each status that is not public cannot get a public answer.
NOT_ANSWERABLE = {
    "pending": N_("A pending proposal cannot be answered in public."),
    "rejected": N_("A rejected proposal cannot be answered in public."),
    "hidden": N_("A hidden proposal cannot be answered in public."),
    "retracted": N_("A retracted proposal cannot be answered in public."),
}


def latest_answer(session: Session, proposal_id: int) -> ProposalAnswer | None:
    return session.exec(
        select(ProposalAnswer)
        .where(ProposalAnswer.proposal_id == proposal_id)
        .order_by(col(ProposalAnswer.created_at).desc(), col(ProposalAnswer.id).desc())
        .limit(1)
    ).first()


def check_answer_proposal(
    session: Session, actor: Account | None, proposal_id: int, data: AnswerInput
) -> tuple[Account, Proposal, Consultation]:
    """The responder and the proposal, locked until the answer is written.

    In this order, so that nothing leaks: a proposal the actor may not see is a 404 like one that
    does not exist; then the grant (403 naming it); then the proposal's state (409: a pending,
    hidden or rejected proposal cannot get a public answer, and repeating the current answer word
    for word is not an update).
    """
    if actor is None:
        raise NotAuthenticated(_("Log in to answer proposals."))
    get_proposal(session, proposal_id, lock=True)
    proposal, consultation = visible_proposal(session, actor, proposal_id)
    official = authorize(session, actor, Permission.ANSWER_PROPOSALS, consultation_target(consultation))
    if proposal.status not in ANSWERABLE:
        message = NOT_ANSWERABLE.get(proposal.status, N_("This proposal cannot be answered in public."))
        raise Conflict(_(message), code="not_answerable")
    if proposal.answer_status == data.status:
        current = latest_answer(session, proposal_id)
        if current is not None and current.text.strip() == data.text.strip():
            raise Conflict(
                _(
                    "This proposal already has exactly this answer. Change the status or the text to update it."
                ),
                code="answer_unchanged",
            )
    return official, proposal, consultation


def do_answer_proposal(
    session: Session, official: Account, proposal: Proposal, consultation: Consultation, data: AnswerInput
) -> ProposalAnswer:
    """Record the answer (participation emits `proposal.answered`) and log it publicly."""
    assert proposal.id is not None and official.id is not None
    previous = proposal.answer_status
    answer = do_record_answer(
        session,
        proposal.id,
        status=AnswerStatus(data.status),
        text=data.text,
        official=official,
        role=ANSWER_ROLE,
    )
    actionlog.record(
        session,
        actor_id=official.id,
        action="proposal.answer",
        subject_kind="proposal",
        subject_id=proposal.id,
        agency_id=consultation.agency_id,
        reason=data.text,
        public=True,
        detail={
            "answer_id": answer.id,
            "status": data.status,
            "previous_status": previous,
            "consultation_id": consultation.id,
            "title": proposal.title,
        },
    )
    return answer


def answer_proposal(
    session: Session, actor: Account | None, proposal_id: int, data: AnswerInput
) -> ProposalAnswer:
    official, proposal, consultation = check_answer_proposal(session, actor, proposal_id, data)
    return do_answer_proposal(session, official, proposal, consultation, data)
