"""Participation's JSON API: thin glue from validated input to actions and queries."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from civic.http.api import Api, Call
from civic.participation import actions, consultations, queries
from civic.participation.models import Comment, Consultation, Proposal
from civic.participation.schemas import (
    CommentEdit,
    CommentInput,
    CommentOut,
    CommentThread,
    ConsultationEdit,
    ConsultationInput,
    ConsultationList,
    ConsultationOut,
    PhaseChange,
    ProposalInput,
    ProposalList,
    ProposalOut,
    SupportOut,
)

api = Api(tag="participation")


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1, le=100_000)
    phase: Literal["information", "proposals", "support", "deliberation", "answered", "closed"] | None = None


class ProposalQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    page: int = Field(default=1, ge=1, le=100_000)
    status: Literal["published", "withdrawn"] | None = None
    category: str | None = Field(default=None, max_length=80)
    district: str | None = Field(default=None, max_length=80)
    q: str | None = Field(default=None, max_length=200)
    sort: Literal["supported", "newest", "random"] = "random"
    # Up to 2**32 - 1: the per-visitor default (`visitor_seed`) is that wide, and a visitor's own
    # seed must be one they can send back (a shared link to "this order").
    seed: int | None = Field(
        default=None, ge=0, le=2**32 - 1, description="Random order seed; default per visitor."
    )


class CommentQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sort: Literal["oldest", "newest", "replies"] = "oldest"


def visitor_seed(csrf_token: str) -> int:
    """A stable random-order seed per browser, from its CSRF cookie's token: the same visitor sees
    the same shuffle across pages, different visitors see different ones."""
    return int(csrf_token[:8] or "0", 16) if all(c in "0123456789abcdef" for c in csrf_token[:8]) else 0


def consultation_out(c: Consultation) -> ConsultationOut:
    assert c.id is not None
    return ConsultationOut(
        id=c.id,
        agency_id=c.agency_id,
        title=c.title,
        summary=c.summary,
        body=c.body,
        district=c.district,
        status=c.status,
        phase=c.phase,
        schedule=c.schedule,
        categories=c.categories,
        min_verification=c.min_verification,
        allow_organisations=c.allow_organisations,
        allow_foreign_residents=c.allow_foreign_residents,
        moderation=c.moderation,
        support_threshold=c.support_threshold,
        min_level=c.min_level,
        published_at=c.published_at,
    )


def _proposal(call: Call, proposal: Proposal) -> ProposalOut:
    assert proposal.id is not None
    return queries.proposal_detail(call.session, call.account, proposal.id)[0]


def _support(proposal: Proposal, supported: bool) -> SupportOut:
    assert proposal.id is not None
    return SupportOut(
        proposal_id=proposal.id,
        supported=supported,
        support_count=proposal.support_count,
        threshold_reached=proposal.threshold_reached_at is not None,
    )


def _comment(call: Call, comment: Comment) -> CommentOut:
    thread = queries.comment_thread(call.session, comment.proposal_id)
    stack = list(thread)
    while stack:
        node = stack.pop()
        if node.id == comment.id:
            return node
        stack.extend(node.replies)
    raise AssertionError("a comment just written is in its thread")


# ---- consultations -------------------------------------------------------------------------


@api.endpoint(
    "GET",
    "/api/consultations",
    summary="Consultations you can see",
    query=PageQuery,
    response=ConsultationList,
)
def list_consultations(call: Call) -> ConsultationList:
    q: PageQuery = call.query
    items, total = queries.list_consultations(call.session, call.account, page=q.page, phase=q.phase)
    return ConsultationList(
        items=[consultation_out(c) for c in items],
        total=total,
        page=q.page,
        pages=max(1, math.ceil(total / queries.PER_PAGE)),
    )


@api.endpoint(
    "POST",
    "/api/consultations",
    summary="Create a draft consultation (convener)",
    body=ConsultationInput,
    response=ConsultationOut,
    status=201,
    errors=(404,),
    login=True,
)
def create_consultation(call: Call, data: ConsultationInput) -> ConsultationOut:
    return consultation_out(consultations.create_consultation(call.session, call.account, data))


@api.endpoint(
    "GET",
    "/api/consultations/{consultation_id:int}",
    summary="One consultation",
    response=ConsultationOut,
    errors=(404,),
)
def get_consultation(call: Call) -> ConsultationOut:
    return consultation_out(
        queries.visible_consultation(call.session, call.account, call.path["consultation_id"])
    )


@api.endpoint(
    "POST",
    "/api/consultations/{consultation_id:int}/publication",
    summary="Publish a draft (convener)",
    response=ConsultationOut,
    errors=(404, 409),
    login=True,
)
def publish_consultation(call: Call) -> ConsultationOut:
    c = consultations.publish_consultation(call.session, call.account, call.path["consultation_id"])
    return consultation_out(c)


@api.endpoint(
    "PUT",
    "/api/consultations/{consultation_id:int}/phase",
    summary="Move to another phase (convener)",
    body=PhaseChange,
    response=ConsultationOut,
    errors=(404, 409),
    login=True,
)
def change_phase(call: Call, data: PhaseChange) -> ConsultationOut:
    return consultation_out(
        consultations.change_phase(call.session, call.account, call.path["consultation_id"], data)
    )


@api.endpoint(
    "PATCH",
    "/api/consultations/{consultation_id:int}",
    summary="Edit a consultation: only the fields sent change (convener)",
    body=ConsultationEdit,
    response=ConsultationOut,
    errors=(404, 409),
    login=True,
)
def edit_consultation(call: Call, data: ConsultationEdit) -> ConsultationOut:
    return consultation_out(
        consultations.edit_consultation(call.session, call.account, call.path["consultation_id"], data)
    )


@api.endpoint(
    "POST",
    "/api/consultations/{consultation_id:int}/close",
    summary="Close a consultation: move it to its closed phase (convener)",
    response=ConsultationOut,
    errors=(404, 409),
    login=True,
)
def close_consultation(call: Call) -> ConsultationOut:
    return consultation_out(
        consultations.close_consultation(call.session, call.account, call.path["consultation_id"])
    )


# ---- proposals -----------------------------------------------------------------------------


@api.endpoint(
    "GET",
    "/api/consultations/{consultation_id:int}/proposals",
    summary="Proposals, filtered and sorted",
    query=ProposalQuery,
    response=ProposalList,
    errors=(404,),
)
def list_proposals(call: Call) -> ProposalList:
    q: ProposalQuery = call.query
    consultation = queries.visible_consultation(call.session, call.account, call.path["consultation_id"])
    filters = queries.ProposalFilters(
        status=q.status,
        category=q.category,
        district=q.district,
        q=q.q,
        sort=q.sort,
        seed=q.seed if q.seed is not None else visitor_seed(call.csrf_token),
        page=q.page,
    )
    page = queries.list_proposals(call.session, call.account, consultation, filters)
    return ProposalList(items=page.items, total=page.total, page=page.page, pages=page.pages)


@api.endpoint(
    "POST",
    "/api/consultations/{consultation_id:int}/proposals",
    summary="Submit a proposal",
    body=ProposalInput,
    response=ProposalOut,
    status=201,
    errors=(403, 404, 409, 429),
    login=True,
)
def submit_proposal(call: Call, data: ProposalInput) -> ProposalOut:
    proposal = actions.submit_proposal(call.session, call.account, call.path["consultation_id"], data)
    return _proposal(call, proposal)


@api.endpoint(
    "GET", "/api/proposals/{proposal_id:int}", summary="One proposal", response=ProposalOut, errors=(404,)
)
def get_proposal(call: Call) -> ProposalOut:
    return queries.proposal_detail(call.session, call.account, call.path["proposal_id"])[0]


@api.endpoint(
    "PUT",
    "/api/proposals/{proposal_id:int}",
    summary="Edit your proposal (before any support or comment)",
    body=ProposalInput,
    response=ProposalOut,
    errors=(403, 404, 409),
    login=True,
)
def edit_proposal(call: Call, data: ProposalInput) -> ProposalOut:
    return _proposal(call, actions.edit_proposal(call.session, call.account, call.path["proposal_id"], data))


@api.endpoint(
    "POST",
    "/api/proposals/{proposal_id:int}/withdrawal",
    summary="Withdraw your proposal",
    response=ProposalOut,
    errors=(403, 404, 409),
    login=True,
)
def withdraw_proposal(call: Call) -> ProposalOut:
    return _proposal(call, actions.withdraw_proposal(call.session, call.account, call.path["proposal_id"]))


@api.endpoint(
    "PUT",
    "/api/proposals/{proposal_id:int}/support",
    summary="Support a proposal (idempotent)",
    response=SupportOut,
    errors=(403, 404, 409),
    login=True,
)
def support(call: Call) -> SupportOut:
    return _support(actions.support_proposal(call.session, call.account, call.path["proposal_id"]), True)


@api.endpoint(
    "DELETE",
    "/api/proposals/{proposal_id:int}/support",
    summary="Withdraw your support (idempotent)",
    response=SupportOut,
    errors=(403, 404, 409),
    login=True,
)
def unsupport(call: Call) -> SupportOut:
    return _support(actions.unsupport_proposal(call.session, call.account, call.path["proposal_id"]), False)


# ---- comments ------------------------------------------------------------------------------


@api.endpoint(
    "GET",
    "/api/proposals/{proposal_id:int}/comments",
    summary="The comment thread",
    query=CommentQuery,
    response=CommentThread,
    errors=(404,),
)
def list_comments(call: Call) -> CommentThread:
    proposal, _ = queries.visible_proposal(call.session, call.account, call.path["proposal_id"])
    assert proposal.id is not None
    items = queries.comment_thread(call.session, proposal.id, call.query.sort)
    return CommentThread(items=items, total=proposal.comment_count)


@api.endpoint(
    "POST",
    "/api/proposals/{proposal_id:int}/comments",
    summary="Comment or reply",
    body=CommentInput,
    response=CommentOut,
    status=201,
    errors=(403, 404, 409, 429),
    login=True,
)
def post_comment(call: Call, data: CommentInput) -> CommentOut:
    return _comment(call, actions.post_comment(call.session, call.account, call.path["proposal_id"], data))


@api.endpoint(
    "PUT",
    "/api/comments/{comment_id:int}",
    summary="Edit your comment",
    body=CommentEdit,
    response=CommentOut,
    errors=(403, 404, 409),
    login=True,
)
def edit_comment(call: Call, data: CommentEdit) -> CommentOut:
    return _comment(call, actions.edit_comment(call.session, call.account, call.path["comment_id"], data))


@api.endpoint(
    "DELETE",
    "/api/comments/{comment_id:int}",
    summary="Delete your comment (leaves a tombstone)",
    status=204,
    errors=(403, 404, 409),
    login=True,
)
def delete_comment(call: Call) -> None:
    actions.delete_comment(call.session, call.account, call.path["comment_id"])
