"""Comment actions from the proposal page: post or reply, edit, delete."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from civic.errors import CivicError, Conflict, Forbidden, NotAuthenticated, NotFound
from civic.http.api import MAX_ID, validate
from civic.http.forms import form_data
from civic.i18n import _
from civic.identity.models import Account
from civic.identity.web import transact
from civic.participation import actions, queries, rules
from civic.participation.models import (
    Comment,
    CommentStatus,
)
from civic.participation.pages.common import (
    _done,
    _login,
    _page,
    _path_id,
    _refuse,
    _signed_in,
    _submit_form,
)
from civic.participation.pages.proposals import (
    _comment_edit_refusal,
    _proposal_failure,
)
from civic.participation.schemas import CommentEdit, CommentInput


async def post_comment(request: Request) -> Response:
    proposal_id = _path_id(request, "proposal_id")
    values = await form_data(request)
    raw_parent = values.get("parent_id", "").strip()
    parent_id = int(raw_parent) if raw_parent.isdigit() and 0 < int(raw_parent) <= MAX_ID else None

    def work(session: Session, account: Account | None) -> int:
        author = _signed_in(account)
        if raw_parent and parent_id is None:  # not an id at all, or beyond what a row id can be
            raise NotFound(_("There is no such comment on this proposal to reply to."))
        data = validate(CommentInput, {"body": values.get("body", ""), "parent_id": parent_id})
        comment = actions.post_comment(session, author, proposal_id, data)
        assert comment.id is not None
        return comment.id

    try:
        comment_id = await transact(request, work)
    except NotAuthenticated:
        return _login(f"/proposals/{proposal_id}")
    except CivicError as exc:
        return await _proposal_failure(request, proposal_id, exc, values, parent_id=parent_id)
    return _done(
        f"/proposals/{proposal_id}", "replied" if parent_id else "commented", f"#comment-{comment_id}"
    )


def _own_comment(session: Session, account: Account, comment_id: int) -> Comment:
    """The comment its author may edit: refused like `actions.edit_comment` refuses, except the
    phase, which the page explains itself."""
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(_("There is no comment %(id)s.", id=comment_id))
    if comment.author_id != account.id:
        raise Forbidden(_("Only the author can change this comment."))
    if comment.status != CommentStatus.PUBLISHED:
        raise Conflict(_("This comment is %(status)s.", status=rules.status_word(comment.status)))
    return comment


def _comment_proposal(session: Session, comment_id: int) -> int:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(_("There is no comment %(id)s.", id=comment_id))
    return comment.proposal_id


async def edit_comment_page(request: Request) -> Response:
    comment_id = _path_id(request, "comment_id")
    here = f"/comments/{comment_id}/edit"

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        comment = _own_comment(session, account, comment_id)
        proposal, consultation = queries.visible_proposal(session, account, comment.proposal_id)
        return {"comment": comment, "proposal": proposal, "consultation": consultation}

    context = await transact(request, load)
    if context is None:
        return _login(here)
    comment: Comment = context["comment"]
    template = "participation/comment_edit.html"
    if request.method != "POST":
        values = {"body": comment.body}
        refusal = _comment_edit_refusal(context["consultation"])
        if refusal is not None:
            return _refuse(
                request, template, Conflict(refusal, code="wrong_phase"), values, **context, blocked=True
            )
        return _page(request, template, {**context, "values": values})
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> None:
        data = validate(CommentEdit, {"body": values.get("body", "")})
        actions.edit_comment(session, _signed_in(account), comment_id, data)

    return await _submit_form(
        request,
        work,
        template=template,
        context=context,
        values=values,
        here=here,
        done=lambda _: _done(f"/proposals/{comment.proposal_id}", "comment_edited", f"#comment-{comment_id}"),
    )


async def delete_comment(request: Request) -> Response:
    comment_id = _path_id(request, "comment_id")

    def work(session: Session, account: Account | None) -> int:
        return actions.delete_comment(session, _signed_in(account), comment_id).proposal_id

    try:
        proposal_id = await transact(request, work)
    except CivicError as exc:
        proposal_id = await transact(request, lambda s, a: _comment_proposal(s, comment_id))
        if isinstance(exc, NotAuthenticated):
            return _login(f"/proposals/{proposal_id}")
        return await _proposal_failure(request, proposal_id, exc)
    return _done(f"/proposals/{proposal_id}", "comment_deleted", "#comments")
