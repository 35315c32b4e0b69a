"""Proposal and support actions: `check_*` validates and authorizes, `do_*` writes and emits, in
the caller's transaction. Nothing else writes proposals or supports."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from civic.clock import utcnow
from civic.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from civic.events.envelope import emit
from civic.i18n import _
from civic.identity.models import Account
from civic.identity.standing import privileges, standing_level
from civic.participation.consultations import get_consultation
from civic.participation.events import (
    PROPOSAL_EDITED,
    PROPOSAL_SUBMITTED,
    PROPOSAL_SUPPORTED,
    PROPOSAL_THRESHOLD_REACHED,
    PROPOSAL_UNSUPPORTED,
    PROPOSAL_WITHDRAWN,
    ProposalChanged,
    SupportChanged,
    ThresholdReached,
)
from civic.participation.limits import check_daily_limit
from civic.participation.markdown import render_markdown
from civic.participation.models import (
    Consultation,
    ConsultationStatus,
    Moderation,
    Phase,
    Proposal,
    ProposalStatus,
    Support,
)
from civic.participation.queries import visible_proposal
from civic.participation.rules import (
    RETRACTED,
    Doing,
    eligibility_refusal,
    level_refusal,
    phase_refusal,
    status_word,
)
from civic.participation.schemas import ProposalInput

MAX_COMMENT_DEPTH = 3  # a comment, and replies three levels deep


def no_longer_editable() -> str:
    """Why a proposal with supports or comments cannot change (the edit page says it too)."""
    return _(
        "This proposal can no longer be edited: people have supported or commented on it as it stands. "
        "Add a comment to explain what changed."
    )


def _participant(actor: Account | None, consultation: Consultation) -> Account:
    if actor is None:
        raise NotAuthenticated(_("Log in to take part."))
    refusal = eligibility_refusal(consultation, actor)
    if refusal:
        raise Forbidden(refusal, code="not_eligible")
    return actor


def _in_phase(consultation: Consultation, phases: tuple[Phase, ...], doing: Doing) -> None:
    refusal = phase_refusal(consultation, phases, doing)
    if refusal:
        raise Conflict(refusal, code="wrong_phase")


def get_proposal(session: Session, proposal_id: int, *, lock: bool = False) -> Proposal:
    """The proposal; with `lock`, its row is locked (FOR UPDATE on PostgreSQL; SQLite's write
    transaction already excludes every other writer) so that a check on its state (no supports
    yet, still published) holds until the change that relies on it commits."""
    proposal = session.get(Proposal, proposal_id, with_for_update=lock, populate_existing=lock)
    if proposal is None:
        raise NotFound(_("There is no proposal %(id)s.", id=proposal_id))
    return proposal


def _visible(
    session: Session, actor: Account | None, proposal_id: int, *, lock: bool = False
) -> tuple[Account, Proposal, Consultation]:
    """The logged-in actor and a proposal they may see. One they may not see (another's pending
    proposal) is a 404, exactly like one that does not exist: a 403 or 409 would confirm it."""
    if actor is None:
        raise NotAuthenticated(_("Log in to take part."))
    if lock:
        get_proposal(session, proposal_id, lock=True)
    proposal, consultation = visible_proposal(session, actor, proposal_id)
    return actor, proposal, consultation


def proposal_changed(proposal: Proposal, consultation: Consultation) -> ProposalChanged:
    assert proposal.id is not None
    return ProposalChanged(
        proposal_id=proposal.id,
        consultation_id=consultation.id or 0,
        agency_id=consultation.agency_id,
        author_id=proposal.author_id,
        title=proposal.title,
        status=proposal.status,
    )


# ---- proposals -----------------------------------------------------------------------------


def check_submit_proposal(
    session: Session, actor: Account | None, consultation_id: int, data: ProposalInput
) -> tuple[Account, Consultation]:
    consultation = get_consultation(session, consultation_id)
    if consultation.status != ConsultationStatus.PUBLISHED:
        raise NotFound(_("There is no consultation %(id)s.", id=consultation_id))
    author = _participant(actor, consultation)
    _in_phase(consultation, (Phase.PROPOSALS,), "submit proposals")
    _check_category(consultation, data)
    _check_level(session, author, consultation)
    # Last: the limit's lock is held to the commit, so take it only for a submission that can succeed.
    check_daily_limit(session, author, "proposal")
    return author, consultation


def _check_level(session: Session, author: Account, consultation: Consultation) -> None:
    """A restricted consultation takes proposals from experienced participants only; supporting
    and commenting stay open to everyone eligible."""
    assert author.id is not None
    refusal = level_refusal(consultation, standing_level(session, author.id))
    if refusal:
        raise Forbidden(refusal, code="level_required")


def _check_category(consultation: Consultation, data: ProposalInput) -> None:
    if data.category and consultation.categories and data.category not in consultation.categories:
        raise InvalidInput(
            _("Choose one of the consultation's categories."), {"category": _("Not a category here.")}
        )


def do_submit_proposal(
    session: Session, author: Account, consultation: Consultation, data: ProposalInput
) -> Proposal:
    """Create the proposal (pending under pre-moderation) and emit `proposal.submitted`."""
    assert author.id is not None and consultation.id is not None
    # A citizen whose level earned it skips pre-moderation (engagement computes the level).
    pending = (
        consultation.moderation == Moderation.PRE
        and not privileges(
            standing_level(session, author.id)  # type: ignore[arg-type]
        ).skips_pre_moderation
    )
    proposal = Proposal(
        consultation_id=consultation.id,
        author_id=author.id,
        title=data.title,
        body=data.body,
        body_html=render_markdown(data.body),
        category=data.category or None,
        district=data.district or None,
        status=ProposalStatus.PENDING if pending else ProposalStatus.PUBLISHED,
        created_at=utcnow(),
    )
    session.add(proposal)
    session.flush()
    emit(session, PROPOSAL_SUBMITTED, proposal_changed(proposal, consultation), actor_id=author.id)
    return proposal


def submit_proposal(
    session: Session, actor: Account | None, consultation_id: int, data: ProposalInput
) -> Proposal:
    author, consultation = check_submit_proposal(session, actor, consultation_id, data)
    return do_submit_proposal(session, author, consultation, data)


def _own_proposal(
    session: Session, actor: Account | None, proposal_id: int
) -> tuple[Account, Proposal, Consultation]:
    """The author and their proposal, locked: another's proposal is a 403 if public, a 404 if not."""
    if actor is None:
        raise NotAuthenticated(_("Log in to continue."))
    author, proposal, consultation = _visible(session, actor, proposal_id, lock=True)
    if proposal.author_id != author.id:
        raise Forbidden(_("Only the author can change this proposal."))
    return author, proposal, consultation


def edit_proposal(session: Session, actor: Account | None, proposal_id: int, data: ProposalInput) -> Proposal:
    author, proposal, consultation = _own_proposal(session, actor, proposal_id)
    if proposal.status not in (ProposalStatus.PUBLISHED, ProposalStatus.PENDING):
        raise Conflict(_("A %(status)s proposal cannot be edited.", status=status_word(proposal.status)))
    # The row is locked, so no support or comment can slip in between this check and the edit.
    if proposal.support_count or proposal.comment_count:
        raise Conflict(no_longer_editable())
    _check_category(consultation, data)
    return do_edit_proposal(session, author, proposal, consultation, data)


def do_edit_proposal(
    session: Session, actor: Account, proposal: Proposal, consultation: Consultation, data: ProposalInput
) -> Proposal:
    """Rewrite the proposal, mark it edited and emit `proposal.edited`."""
    proposal.title = data.title
    proposal.body = data.body
    proposal.body_html = render_markdown(data.body)
    proposal.category = data.category or None
    proposal.district = data.district or None
    proposal.edited_at = utcnow()
    session.add(proposal)
    session.flush()
    emit(session, PROPOSAL_EDITED, proposal_changed(proposal, consultation), actor_id=actor.id)
    return proposal


def withdraw_proposal(session: Session, actor: Account | None, proposal_id: int) -> Proposal:
    """Withdraw one's proposal and emit `proposal.withdrawn`. A published one stays readable,
    marked withdrawn; one still waiting for pre-moderation is retracted: it was never public and
    must not become so by being withdrawn (its event goes only to its author and the moderators)."""
    _author, proposal, consultation = _own_proposal(session, actor, proposal_id)
    if proposal.status in (ProposalStatus.WITHDRAWN, RETRACTED):
        return proposal  # withdrawing twice is the same as once
    if proposal.status not in (ProposalStatus.PUBLISHED, ProposalStatus.PENDING):
        raise Conflict(_("A %(status)s proposal cannot be withdrawn.", status=status_word(proposal.status)))
    proposal.status = RETRACTED if proposal.status == ProposalStatus.PENDING else ProposalStatus.WITHDRAWN
    proposal.withdrawn_at = utcnow()
    session.add(proposal)
    session.flush()
    emit(session, PROPOSAL_WITHDRAWN, proposal_changed(proposal, consultation), actor_id=proposal.author_id)
    return proposal


# ---- supports ------------------------------------------------------------------------------


def check_support(
    session: Session, actor: Account | None, proposal_id: int
) -> tuple[Account, Proposal, Consultation]:
    """Not locked: supports are the busiest write, and a lock taken here would queue every other
    supporter of the proposal behind this whole transaction. `do_support_proposal` re-checks the
    status in the UPDATE that counts, which takes the row lock only for the transaction's last steps."""
    _actor, proposal, consultation = _visible(session, actor, proposal_id)
    supporter = _participant(actor, consultation)
    if proposal.status != ProposalStatus.PUBLISHED:
        raise _not_supportable(proposal)
    if proposal.author_id == supporter.id:
        raise Conflict(_("You cannot support your own proposal."), code="own_proposal")
    return supporter, proposal, consultation


def support_proposal(session: Session, actor: Account | None, proposal_id: int) -> Proposal:
    supporter, proposal, consultation = check_support(session, actor, proposal_id)
    _in_phase(consultation, (Phase.SUPPORT,), "support proposals")
    return do_support_proposal(session, supporter, proposal, consultation)


def _support_insert(insert):  # type: ignore[no-untyped-def]
    return (
        insert(Support)
        .values(
            proposal_id=bindparam("proposal"), account_id=bindparam("account"), created_at=bindparam("at")
        )
        .on_conflict_do_nothing(index_elements=["proposal_id", "account_id"])
        .returning(Support.id)
    )


# Built once: constructing a statement and its cache key costs more CPU than running it.
_SUPPORT_INSERT = {"postgresql": _support_insert(pg_insert), "sqlite": _support_insert(sqlite_insert)}
_COUNT_SUPPORT = (
    update(Proposal)
    .where(col(Proposal.id) == bindparam("proposal"), col(Proposal.status) == ProposalStatus.PUBLISHED)
    .values(support_count=Proposal.support_count + 1)
    .returning(Proposal.support_count)
)


def do_support_proposal(
    session: Session, supporter: Account, proposal: Proposal, consultation: Consultation
) -> Proposal:
    """Record the support once (a repeat is a no-op, even when racing), count it, emit
    `proposal.supported`, and `proposal.threshold_reached` the first time the count reaches it."""
    assert supporter.id is not None and proposal.id is not None
    # Statements built once (see _SUPPORT_INSERT) and run on the session's connection, not
    # through the ORM's bulk-DML layer: this is the busiest write, and the proposal's count is
    # set below from RETURNING.
    db = session.connection()
    # RETURNING says whether the row went in. Not `rowcount`: psycopg reports -1 for this INSERT,
    # which counted every repeated support (and emitted its event) on PostgreSQL.
    inserted = db.execute(
        _SUPPORT_INSERT[db.dialect.name],
        {"proposal": proposal.id, "account": supporter.id, "at": utcnow()},
    ).first()
    if inserted is None:
        session.refresh(proposal)
        return proposal
    # Counted only while still published: a moderator hiding it meanwhile waits on this row (or
    # this on theirs), and READ COMMITTED re-evaluates the condition on the row as committed.
    count = db.execute(_COUNT_SUPPORT, {"proposal": proposal.id}).scalar_one_or_none()
    if count is None:
        session.refresh(proposal)
        raise _not_supportable(proposal)  # the caller's transaction rolls the support back
    set_committed_value(proposal, "support_count", count)
    emit(session, PROPOSAL_SUPPORTED, _support_changed(proposal, consultation, count), actor_id=supporter.id)
    if count >= consultation.support_threshold and proposal.threshold_reached_at is None:
        _mark_threshold(session, proposal, consultation, count)
    return proposal


def _not_supportable(proposal: Proposal) -> Conflict:
    return Conflict(
        _("This proposal is %(status)s; it cannot be supported.", status=status_word(proposal.status))
    )


def _mark_threshold(session: Session, proposal: Proposal, consultation: Consultation, count: int) -> None:
    reached = session.execute(
        update(Proposal)
        .where(col(Proposal.id) == proposal.id, col(Proposal.threshold_reached_at).is_(None))
        .values(threshold_reached_at=utcnow())
        .returning(Proposal.threshold_reached_at)
    ).scalar_one_or_none()
    if reached is not None:
        set_committed_value(proposal, "threshold_reached_at", reached)
        assert proposal.id is not None and consultation.id is not None
        emit(
            session,
            PROPOSAL_THRESHOLD_REACHED,
            ThresholdReached(
                proposal_id=proposal.id,
                consultation_id=consultation.id,
                agency_id=consultation.agency_id,
                author_id=proposal.author_id,
                support_count=count,
                threshold=consultation.support_threshold,
            ),
            actor_id=None,
        )


def _support_changed(proposal: Proposal, consultation: Consultation, count: int) -> SupportChanged:
    assert proposal.id is not None and consultation.id is not None
    return SupportChanged(
        proposal_id=proposal.id,
        consultation_id=consultation.id,
        agency_id=consultation.agency_id,
        author_id=proposal.author_id,
        support_count=count,
    )


def unsupport_proposal(session: Session, actor: Account | None, proposal_id: int) -> Proposal:
    supporter, proposal, consultation = _visible(session, actor, proposal_id, lock=True)
    _in_phase(consultation, (Phase.SUPPORT,), "withdraw a support")
    return do_unsupport_proposal(session, supporter, proposal, consultation)


def do_unsupport_proposal(
    session: Session, actor: Account, proposal: Proposal, consultation: Consultation
) -> Proposal:
    """Remove the support if there is one (idempotent) and emit `proposal.unsupported`.
    A threshold once reached stays reached: officials may already be acting on it."""
    removed = session.execute(
        delete(Support)
        .where(col(Support.proposal_id) == proposal.id, col(Support.account_id) == actor.id)
        .returning(Support.id)
    ).first()
    if removed is not None:
        count = session.execute(
            update(Proposal)
            .where(col(Proposal.id) == proposal.id)
            .values(support_count=Proposal.support_count - 1)
            .returning(Proposal.support_count)
        ).scalar_one()
        emit(
            session, PROPOSAL_UNSUPPORTED, _support_changed(proposal, consultation, count), actor_id=actor.id
        )
    session.refresh(proposal)
    return proposal
