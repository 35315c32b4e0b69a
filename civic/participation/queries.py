"""Reads of participation: what a visitor may see, filtered, sorted and paged."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import BigInteger, ColumnElement, bindparam, cast, func, literal, or_
from sqlmodel import Session, col, select

from civic.clock import as_utc
from civic.errors import NotFound
from civic.i18n import _
from civic.identity.authorization import Permission, Target, is_allowed
from civic.identity.models import Account
from civic.participation.models import (
    Comment,
    CommentStatus,
    Consultation,
    ConsultationStatus,
    Proposal,
    ProposalAnswer,
    ProposalStatus,
    Support,
)
from civic.participation.schemas import CommentOut, ProposalOut

PUBLIC_STATUSES = (ProposalStatus.PUBLISHED, ProposalStatus.WITHDRAWN)
Sort = Literal["supported", "newest", "random"]
CommentSort = Literal["oldest", "newest", "replies"]
PER_PAGE = 20


def can_see_drafts(session: Session, viewer: Account | None, consultation: Consultation) -> bool:
    target = Target(agency_id=consultation.agency_id, consultation_id=consultation.id)
    return is_allowed(session, viewer, Permission.VIEW_DRAFTS, target)


def visible_consultation(session: Session, viewer: Account | None, consultation_id: int) -> Consultation:
    """The consultation if the viewer may see it; a draft is a 404 to everyone outside its agency."""
    return _seen(session, viewer, session.get(Consultation, consultation_id), consultation_id)


def _seen(
    session: Session, viewer: Account | None, consultation: Consultation | None, consultation_id: int
) -> Consultation:
    if consultation is None or (
        consultation.status != ConsultationStatus.PUBLISHED
        and not can_see_drafts(session, viewer, consultation)
    ):
        raise NotFound(_("There is no consultation %(id)s.", id=consultation_id))
    return consultation


def list_consultations(
    session: Session,
    viewer: Account | None,
    *,
    page: int = 1,
    phase: str | None = None,
    per_page: int = PER_PAGE,
) -> tuple[list[Consultation], int]:
    query = select(Consultation)
    if phase:
        query = query.where(Consultation.phase == phase)
    # Newest first, drafts (never published) before them, on both databases: PostgreSQL puts NULLs
    # first in a descending sort, SQLite last, unless told.
    rows = session.exec(
        query.order_by(col(Consultation.published_at).desc().nulls_first(), col(Consultation.id).desc())
    ).all()
    visible = [
        c for c in rows if c.status == ConsultationStatus.PUBLISHED or can_see_drafts(session, viewer, c)
    ]
    start = (page - 1) * per_page
    return visible[start : start + per_page], len(visible)


@dataclass
class ProposalFilters:
    status: str | None = None
    category: str | None = None
    district: str | None = None
    q: str | None = None
    sort: Sort = "random"
    seed: int = 0
    page: int = 1
    per_page: int = PER_PAGE


@dataclass
class ProposalPage:
    items: list[ProposalOut]
    total: int
    page: int
    pages: int
    filters: ProposalFilters = field(default_factory=ProposalFilters)


# A fixed shuffle per seed, the same on SQLite and PostgreSQL, so a visitor paging through
# "random" order never sees a proposal twice: id -> (id * a + b) mod P with P prime and a, b drawn
# from the seed. With a in [1, P) this is a permutation of the ids below P. The multiplier must
# depend on the seed: with a fixed one, another seed only adds a constant mod P, which rotates the
# same cycle (seeds 1 and 2 gave the same order). The arithmetic is in 64 bits: id < 2**31 and
# a, b < P < 2**32 keep id * a + b below 2**63 (PostgreSQL's `integer` would overflow).
_PRIME = 4_294_967_291  # the largest prime below 2**32
_MULTIPLIER = 2_654_435_761  # Knuth's multiplicative hash constant


def _shuffle_key(seed: int) -> ColumnElement[int]:
    a = _MULTIPLIER * (seed % (_PRIME - 1) + 1) % _PRIME  # a product of two non-zeros mod a prime: non-zero
    b = (seed * 40_503 + 12_345) % _PRIME
    return (cast(col(Proposal.id), BigInteger) * literal(a, BigInteger) + literal(b, BigInteger)) % literal(
        _PRIME, BigInteger
    )


def list_proposals(
    session: Session, viewer: Account | None, consultation: Consultation, filters: ProposalFilters
) -> ProposalPage:
    query = select(Proposal, Account.display_name).join(Account, col(Account.id) == Proposal.author_id)
    query = query.where(Proposal.consultation_id == consultation.id)
    if filters.status in PUBLIC_STATUSES:
        query = query.where(Proposal.status == filters.status)
    else:
        query = query.where(col(Proposal.status).in_(PUBLIC_STATUSES))
    if filters.category:
        query = query.where(Proposal.category == filters.category)
    if filters.district:
        query = query.where(Proposal.district == filters.district)
    if filters.q:
        like = f"%{_escape_like(filters.q.lower())}%"
        query = query.where(
            or_(
                func.lower(Proposal.title).like(like, escape="\\"),
                func.lower(Proposal.body).like(like, escape="\\"),
            )
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    if filters.sort == "supported":
        query = query.order_by(col(Proposal.support_count).desc(), col(Proposal.id).desc())
    elif filters.sort == "newest":
        query = query.order_by(col(Proposal.created_at).desc(), col(Proposal.id).desc())
    else:
        query = query.order_by(_shuffle_key(filters.seed), col(Proposal.id))
    pages = max(1, math.ceil(total / filters.per_page))
    page = min(max(1, filters.page), pages)
    rows = session.exec(query.offset((page - 1) * filters.per_page).limit(filters.per_page)).all()
    mine = supported_by(session, viewer, [p.id for p, _ in rows if p.id is not None])
    items = [proposal_out(p, name, supported=p.id in mine) for p, name in rows]
    return ProposalPage(items=items, total=total, page=page, pages=pages, filters=filters)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def supported_by(session: Session, viewer: Account | None, proposal_ids: list[int]) -> set[int]:
    if viewer is None or not proposal_ids:
        return set()
    return set(
        session.exec(
            select(Support.proposal_id).where(
                Support.account_id == viewer.id, col(Support.proposal_id).in_(proposal_ids)
            )
        ).all()
    )


def proposal_out(proposal: Proposal, author_name: str, *, supported: bool = False) -> ProposalOut:
    assert proposal.id is not None
    return ProposalOut(
        id=proposal.id,
        consultation_id=proposal.consultation_id,
        author_id=proposal.author_id,
        author_name=author_name,
        title=proposal.title,
        body=proposal.body,
        body_html=proposal.body_html,
        category=proposal.category,
        district=proposal.district,
        status=proposal.status,
        support_count=proposal.support_count,
        comment_count=proposal.comment_count,
        created_at=proposal.created_at,
        edited_at=proposal.edited_at,
        threshold_reached=proposal.threshold_reached_at is not None,
        supported_by_me=supported,
    )


# Built once: constructing a statement and its cache key costs more CPU than running it.
_PROPOSAL_WITH_CONSULTATION = (
    select(Proposal, Consultation)
    .join(Consultation, col(Consultation.id) == col(Proposal.consultation_id))
    .where(col(Proposal.id) == bindparam("proposal"))
)


def visible_proposal(
    session: Session, viewer: Account | None, proposal_id: int
) -> tuple[Proposal, Consultation]:
    """A proposal the viewer may see: public ones, one's own pending one, and anything for the
    agency's officials."""
    # One query for both: this runs on every support, comment and proposal page.
    row = session.execute(_PROPOSAL_WITH_CONSULTATION, {"proposal": proposal_id}).first()
    if row is None:
        raise NotFound(_("There is no proposal %(id)s.", id=proposal_id))
    proposal, consultation = row
    consultation = _seen(session, viewer, consultation, proposal.consultation_id)
    if proposal.status in PUBLIC_STATUSES:
        return proposal, consultation
    if viewer is not None and (
        viewer.id == proposal.author_id or can_see_drafts(session, viewer, consultation)
    ):
        return proposal, consultation
    raise NotFound(_("There is no proposal %(id)s.", id=proposal_id))


def proposal_detail(
    session: Session, viewer: Account | None, proposal_id: int
) -> tuple[ProposalOut, Consultation]:
    proposal, consultation = visible_proposal(session, viewer, proposal_id)
    author = session.get(Account, proposal.author_id)
    assert proposal.id is not None
    mine = supported_by(session, viewer, [proposal.id])
    return proposal_out(
        proposal, author.display_name if author else "", supported=proposal.id in mine
    ), consultation


def comment_thread(session: Session, proposal_id: int, sort: CommentSort = "oldest") -> list[CommentOut]:
    """The proposal's comments as a tree. Top-level comments in the chosen order, replies oldest
    first (a conversation reads forwards). Deleted and hidden comments stay as tombstones while
    they have replies, so the thread keeps its shape; without replies they are left out."""
    rows = session.exec(
        select(Comment, Account.display_name)
        .join(Account, col(Account.id) == Comment.author_id)
        .where(Comment.proposal_id == proposal_id)
        .order_by(col(Comment.created_at), col(Comment.id))
    ).all()
    nodes: dict[int, CommentOut] = {}
    roots: list[CommentOut] = []
    for comment, name in rows:
        assert comment.id is not None
        public = comment.status == CommentStatus.PUBLISHED
        node = CommentOut(
            id=comment.id,
            proposal_id=comment.proposal_id,
            parent_id=comment.parent_id,
            author_id=comment.author_id if public else None,
            author_name=name if public else None,
            depth=comment.depth,
            body_html=comment.body_html if public else None,
            status=comment.status,
            reply_count=comment.reply_count,
            created_at=comment.created_at,
            edited_at=comment.edited_at if public else None,
        )
        nodes[comment.id] = node
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        (parent.replies if parent else roots).append(node)
    _prune_tombstones(roots)
    if sort == "newest":
        roots.reverse()
    elif sort == "replies":
        roots.sort(key=lambda n: (-_count(n), n.id))
    return roots


def _prune_tombstones(nodes: list[CommentOut]) -> None:
    for node in nodes:
        _prune_tombstones(node.replies)
    nodes[:] = [n for n in nodes if n.status == CommentStatus.PUBLISHED or n.replies]


def _count(node: CommentOut) -> int:
    return sum(1 + _count(child) for child in node.replies)


def open_data_rows(session: Session, consultation: Consultation) -> list[dict[str, object]]:
    """A consultation's public proposals with their counts: public display names, nothing else personal."""
    rows = session.exec(
        select(Proposal, Account.display_name)
        .join(Account, col(Account.id) == Proposal.author_id)
        .where(Proposal.consultation_id == consultation.id, col(Proposal.status).in_(PUBLIC_STATUSES))
        .order_by(col(Proposal.id))
    ).all()
    return [
        {
            "id": p.id,
            "title": p.title,
            "author": name,
            "category": p.category or "",
            "district": p.district or "",
            "status": p.status,
            "support_count": p.support_count,
            "comment_count": p.comment_count,
            "threshold_reached": p.threshold_reached_at is not None,
            "submitted_at": as_utc(p.created_at).isoformat(),
        }
        for p, name in rows
    ]


def answer_history(session: Session, proposal_id: int) -> list[ProposalAnswer]:
    """Every official answer and status change of a proposal, oldest first: the public record of
    what officials said and when, each signed as it was when given."""
    return list(
        session.exec(
            select(ProposalAnswer)
            .where(ProposalAnswer.proposal_id == proposal_id)
            .order_by(col(ProposalAnswer.created_at), col(ProposalAnswer.id))
        ).all()
    )


@dataclass
class HiddenComment:
    id: int
    body_html: str
    reason: str | None
    created_at: datetime


def own_hidden_comments(session: Session, viewer: Account | None, proposal_id: int) -> list[HiddenComment]:
    """The viewer's own comments on the proposal that moderators hid, with the reason they gave:
    the thread shows everyone else a tombstone (or nothing), but the author is told why."""
    if viewer is None or viewer.id is None:
        return []
    rows = session.exec(
        select(Comment)
        .where(
            Comment.proposal_id == proposal_id,
            Comment.author_id == viewer.id,
            Comment.status == CommentStatus.HIDDEN,
        )
        .order_by(col(Comment.created_at), col(Comment.id))
    ).all()
    return [
        HiddenComment(id=c.id, body_html=c.body_html, reason=c.moderation_reason, created_at=c.created_at)
        for c in rows
        if c.id is not None
    ]
