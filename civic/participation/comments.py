"""Comment actions: post or reply, edit, delete (a tombstone). Every writer locks the proposal
row first, so a reply racing a deletion cannot deadlock or resurrect erased text."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col

from civic.clock import utcnow
from civic.errors import Conflict, Forbidden, NotAuthenticated, NotFound
from civic.events.envelope import emit
from civic.i18n import _
from civic.identity.models import Account
from civic.participation.consultations import get_consultation
from civic.participation.events import (
    COMMENT_DELETED,
    COMMENT_EDITED,
    COMMENT_POSTED,
    CommentChanged,
)
from civic.participation.limits import check_daily_limit
from civic.participation.markdown import render_markdown
from civic.participation.models import (
    Comment,
    CommentStatus,
    Consultation,
    Proposal,
    ProposalStatus,
)
from civic.participation.proposals import (
    MAX_COMMENT_DEPTH,
    _in_phase,
    _participant,
    _visible,
    get_proposal,
)
from civic.participation.rules import COMMENT_PHASES, status_word
from civic.participation.schemas import CommentEdit, CommentInput

# ---- comments ------------------------------------------------------------------------------


def comment_changed(comment: Comment, proposal: Proposal, consultation: Consultation) -> CommentChanged:
    assert comment.id is not None and consultation.id is not None
    return CommentChanged(
        comment_id=comment.id,
        proposal_id=proposal.id or 0,
        consultation_id=consultation.id,
        agency_id=consultation.agency_id,
        parent_id=comment.parent_id,
        author_id=comment.author_id,
        proposal_author_id=proposal.author_id,
        depth=comment.depth,
    )


def post_comment(session: Session, actor: Account | None, proposal_id: int, data: CommentInput) -> Comment:
    # Locked, so an edit of the proposal cannot slip in between this comment and its counting.
    _actor, proposal, consultation = _visible(session, actor, proposal_id, lock=True)
    author = _participant(actor, consultation)
    if proposal.status != ProposalStatus.PUBLISHED:
        raise Conflict(
            _("This proposal is %(status)s; it is closed for comments.", status=status_word(proposal.status))
        )
    _in_phase(consultation, COMMENT_PHASES, "comment")
    parent = None
    if data.parent_id is not None:
        parent = session.get(Comment, data.parent_id)
        if parent is None or parent.proposal_id != proposal.id:
            raise NotFound(_("There is no comment %(id)s on this proposal.", id=data.parent_id))
        if parent.status != CommentStatus.PUBLISHED:
            raise Conflict(_("You cannot reply to a deleted or hidden comment."))
        if parent.depth >= MAX_COMMENT_DEPTH:
            raise Conflict(_("This thread is as deep as it can go; reply to an earlier comment instead."))
    check_daily_limit(session, author, "comment")  # last: nothing else would refuse it now
    return do_post_comment(session, author, proposal, consultation, data, parent)


def do_post_comment(
    session: Session,
    author: Account,
    proposal: Proposal,
    consultation: Consultation,
    data: CommentInput,
    parent: Comment | None,
) -> Comment:
    """Add the comment, keep the proposal's and the parent's counts in step, emit `comment.posted`."""
    assert author.id is not None and proposal.id is not None
    comment = Comment(
        proposal_id=proposal.id,
        parent_id=parent.id if parent else None,
        author_id=author.id,
        depth=parent.depth + 1 if parent else 0,
        body=data.body,
        body_html=render_markdown(data.body),
        created_at=utcnow(),
    )
    session.add(comment)
    session.execute(
        update(Proposal)
        .where(col(Proposal.id) == proposal.id)
        .values(comment_count=Proposal.comment_count + 1)
    )
    if parent is not None:
        session.execute(
            update(Comment).where(col(Comment.id) == parent.id).values(reply_count=Comment.reply_count + 1)
        )
    session.flush()
    emit(session, COMMENT_POSTED, comment_changed(comment, proposal, consultation), actor_id=author.id)
    return comment


def _own_comment(
    session: Session, actor: Account | None, comment_id: int, *, lock: bool = False
) -> tuple[Comment, Proposal, Consultation]:
    """One's own comment, its proposal and consultation. With `lock`, the proposal's row is locked
    before any comment row is written: every writer of a thread (posting, replying, deleting)
    takes the proposal first, so two of them never wait on each other's rows in opposite order
    (a reply racing its parent's deletion deadlocked on PostgreSQL)."""
    if actor is None:
        raise NotAuthenticated(_("Log in to continue."))
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(_("There is no comment %(id)s.", id=comment_id))
    if comment.author_id != actor.id:
        raise Forbidden(_("Only the author can change this comment."))
    proposal = get_proposal(session, comment.proposal_id, lock=lock)
    if lock:
        session.refresh(comment)  # as it is now that no other writer of the thread is running
    return comment, proposal, get_consultation(session, proposal.consultation_id)


def edit_comment(session: Session, actor: Account | None, comment_id: int, data: CommentEdit) -> Comment:
    """Rewrite one's own comment while the consultation takes comments; it shows an edited mark.
    Emits `comment.edited`."""
    # Locked like a deletion, so an edit racing one cannot write text back into a tombstone.
    comment, proposal, consultation = _own_comment(session, actor, comment_id, lock=True)
    if comment.status != CommentStatus.PUBLISHED:
        raise Conflict(
            _("This comment is %(status)s; it cannot be edited.", status=status_word(comment.status))
        )
    _in_phase(consultation, COMMENT_PHASES, "edit comments")
    comment.body = data.body
    comment.body_html = render_markdown(data.body)
    comment.edited_at = utcnow()
    session.add(comment)
    session.flush()
    emit(
        session, COMMENT_EDITED, comment_changed(comment, proposal, consultation), actor_id=comment.author_id
    )
    return comment


def delete_comment(session: Session, actor: Account | None, comment_id: int) -> Comment:
    """Delete one's own comment (in any phase: taking one's words back is always allowed),
    leaving a tombstone so replies keep their place. Its text is erased, not kept. Deleting twice
    is the same as once; a comment hidden by moderation stays as the moderators left it.
    Emits `comment.deleted`; the proposal's and the parent's counts drop by one."""
    comment, proposal, consultation = _own_comment(session, actor, comment_id, lock=True)
    if comment.status == CommentStatus.DELETED:
        return comment
    if comment.status != CommentStatus.PUBLISHED:
        raise Conflict(
            _("This comment is %(status)s; it cannot be deleted.", status=status_word(comment.status))
        )
    comment.status = CommentStatus.DELETED
    comment.deleted_at = utcnow()
    comment.body = ""
    comment.body_html = ""
    session.add(comment)
    session.execute(
        update(Proposal)
        .where(col(Proposal.id) == proposal.id)
        .values(comment_count=Proposal.comment_count - 1)
    )
    if comment.parent_id is not None:
        session.execute(
            update(Comment)
            .where(col(Comment.id) == comment.parent_id)
            .values(reply_count=Comment.reply_count - 1)
        )
    session.flush()
    emit(
        session,
        COMMENT_DELETED,
        comment_changed(comment, proposal, consultation),
        actor_id=comment.author_id,
    )
    return comment
