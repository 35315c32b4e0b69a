"""Status changes that officials decide: moderation of proposals and comments, official answers.

Leadership decides (checks the grant, records the decision, the reason and the action log) and
calls these to write, because nothing but participation writes participation's tables. Each locks
the proposal row first, like every other writer of a proposal or its thread, and emits the event
other modules react to (engagement reverses points on `*.hidden`, gives them on answers).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from civic.clock import utcnow
from civic.errors import Conflict, NotFound
from civic.events.envelope import EventType, emit
from civic.i18n import N_, _
from civic.identity.models import Account, Agency
from civic.participation.comments import comment_changed
from civic.participation.consultations import get_consultation
from civic.participation.events import (
    COMMENT_HIDDEN,
    COMMENT_RESTORED,
    PROPOSAL_ANSWERED,
    PROPOSAL_APPROVED,
    PROPOSAL_HIDDEN,
    PROPOSAL_REJECTED,
    PROPOSAL_RESTORED,
    ProposalAnswered,
)
from civic.participation.markdown import render_markdown
from civic.participation.models import (
    AnswerStatus,
    Comment,
    CommentStatus,
    Proposal,
    ProposalAnswer,
    ProposalStatus,
)
from civic.participation.proposals import get_proposal, proposal_changed
from civic.participation.rules import status_word

# What a moderator may do to a proposal in each status, and what it becomes.
_PROPOSAL_MOVES: dict[str, dict[str, tuple[ProposalStatus, EventType]]] = {
    "approve": {ProposalStatus.PENDING: (ProposalStatus.PUBLISHED, PROPOSAL_APPROVED)},
    "reject": {ProposalStatus.PENDING: (ProposalStatus.REJECTED, PROPOSAL_REJECTED)},
    "hide": {ProposalStatus.PUBLISHED: (ProposalStatus.HIDDEN, PROPOSAL_HIDDEN)},
    "restore": {
        ProposalStatus.HIDDEN: (ProposalStatus.PUBLISHED, PROPOSAL_RESTORED),
        ProposalStatus.REJECTED: (ProposalStatus.PUBLISHED, PROPOSAL_RESTORED),
    },
}

MODERATION_MOVES = tuple(_PROPOSAL_MOVES)


def proposal_move_refusal(proposal: Proposal, move: str) -> str | None:
    """Why `move` cannot apply to the proposal as it is now, or None."""
    allowed = _PROPOSAL_MOVES.get(move)
    if allowed is None:
        return _(
            "Unknown moderation action %(move)s; use one of %(moves)s.",
            move=repr(move),
            moves=", ".join(MODERATION_MOVES),
        )
    if proposal.status not in allowed:
        return _(_CANNOT[move], status=status_word(proposal.status))
    return None


# One whole sentence per move, so each language can build it its own way.
_CANNOT = {
    "approve": N_("A %(status)s proposal cannot be approved."),
    "reject": N_("A %(status)s proposal cannot be rejected."),
    "hide": N_("A %(status)s proposal cannot be hidden."),
    "restore": N_("A %(status)s proposal cannot be restored."),
}


def do_moderate_proposal(
    session: Session, proposal_id: int, move: str, *, actor_id: int | None, reason: str
) -> Proposal:
    """Apply `move` (approve, reject, hide, restore) with the reason its author will see."""
    proposal = get_proposal(session, proposal_id, lock=True)
    refusal = proposal_move_refusal(proposal, move)
    if refusal:
        raise Conflict(refusal, code="already_decided")
    status, kind = _PROPOSAL_MOVES[move][ProposalStatus(proposal.status)]
    proposal.status = status
    proposal.moderation_reason = reason if move in ("reject", "hide") else None
    session.add(proposal)
    session.flush()
    consultation = get_consultation(session, proposal.consultation_id)
    emit(session, kind, proposal_changed(proposal, consultation), actor_id=actor_id)
    return proposal


def comment_move_refusal(comment: Comment, move: str) -> str | None:
    if move == "hide" and comment.status != CommentStatus.PUBLISHED:
        return _("A %(status)s comment cannot be hidden.", status=status_word(comment.status))
    if move == "restore" and comment.status != CommentStatus.HIDDEN:
        return _("A %(status)s comment cannot be restored.", status=status_word(comment.status))
    if move not in ("hide", "restore"):
        return _("Unknown moderation action %(move)s for a comment; use hide or restore.", move=repr(move))
    return None


def get_comment(session: Session, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(_("There is no comment %(id)s.", id=comment_id))
    return comment


def do_moderate_comment(
    session: Session, comment_id: int, move: str, *, actor_id: int | None, reason: str
) -> Comment:
    """Hide a published comment (a tombstone keeps the thread's shape) or restore a hidden one;
    the proposal's and the parent's counts follow, as for a deletion."""
    comment = get_comment(session, comment_id)
    proposal = get_proposal(session, comment.proposal_id, lock=True)
    session.refresh(comment)
    refusal = comment_move_refusal(comment, move)
    if refusal:
        raise Conflict(refusal, code="already_decided")
    hide = move == "hide"
    comment.status = CommentStatus.HIDDEN if hide else CommentStatus.PUBLISHED
    comment.moderation_reason = reason if hide else None
    session.add(comment)
    step = -1 if hide else 1
    session.execute(
        update(Proposal)
        .where(col(Proposal.id) == proposal.id)
        .values(comment_count=Proposal.comment_count + step)
    )
    if comment.parent_id is not None:
        session.execute(
            update(Comment)
            .where(col(Comment.id) == comment.parent_id)
            .values(reply_count=Comment.reply_count + step)
        )
    session.flush()
    session.refresh(proposal)
    consultation = get_consultation(session, proposal.consultation_id)
    emit(
        session,
        COMMENT_HIDDEN if hide else COMMENT_RESTORED,
        comment_changed(comment, proposal, consultation),
        actor_id=actor_id,
    )
    return comment


def do_replace_moderation_reason(session: Session, item_kind: str, item_id: int, reason: str) -> None:
    """A moderator confirmed a hide the reports made: the author now sees the moderator's reason
    instead of the automatic one. No status changes, so no event."""
    item: Proposal | Comment
    if item_kind == "proposal":
        item = get_proposal(session, item_id, lock=True)
    else:
        item = get_comment(session, item_id)
        get_proposal(session, item.proposal_id, lock=True)
        session.refresh(item)
    item.moderation_reason = reason
    session.add(item)
    session.flush()


ANSWERABLE = (ProposalStatus.PUBLISHED, ProposalStatus.WITHDRAWN)


def do_record_answer(
    session: Session,
    proposal_id: int,
    *,
    status: AnswerStatus,
    text: str,
    official: Account,
    role: str,
) -> ProposalAnswer:
    """Add an answer to the proposal's history, make it the current one, emit `proposal.answered`.

    Only public proposals are answered: an answer is public, and must not reveal one that is not.
    """
    assert official.id is not None
    proposal = get_proposal(session, proposal_id, lock=True)
    if proposal.status not in ANSWERABLE:
        raise Conflict(
            _("A %(status)s proposal cannot be answered in public.", status=status_word(proposal.status)),
            code="not_answerable",
        )
    consultation = get_consultation(session, proposal.consultation_id)
    agency = session.get(Agency, consultation.agency_id)
    now = utcnow()
    answer = ProposalAnswer(
        proposal_id=proposal_id,
        status=status,
        text=text,
        text_html=render_markdown(text),
        official_id=official.id,
        official_name=official.display_name,
        official_role=role,
        agency_id=consultation.agency_id,
        agency_name=agency.name if agency else "",
        created_at=now,
    )
    previous = proposal.answer_status
    first = proposal.first_answered_at is None
    proposal.answer_status = status
    if first:
        proposal.first_answered_at = now
    session.add(answer)
    session.add(proposal)
    session.flush()
    assert answer.id is not None and proposal.id is not None
    emit(
        session,
        PROPOSAL_ANSWERED,
        ProposalAnswered(
            answer_id=answer.id,
            proposal_id=proposal.id,
            consultation_id=consultation.id or 0,
            agency_id=consultation.agency_id,
            author_id=proposal.author_id,
            title=proposal.title,
            answer=status,
            previous_answer=previous,
            official_id=official.id,
            first=first,
        ),
        actor_id=official.id,
    )
    return answer
