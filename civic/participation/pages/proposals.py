"""Proposal pages: submit, edit, withdraw, the proposal with its thread, support."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from civic.errors import CivicError, Conflict, Forbidden, NotAuthenticated, NotFound
from civic.http.api import validate
from civic.http.errors import error_headers
from civic.http.forms import form_data, form_failure
from civic.i18n import _
from civic.identity.authorization import Permission, is_allowed
from civic.identity.models import E_CITIZEN_KINDS, Account
from civic.identity.standing import standing_level
from civic.identity.web import transact
from civic.participation import actions, queries, rules
from civic.participation.consultations import consultation_target
from civic.participation.models import (
    CommentStatus,
    Consultation,
    ConsultationStatus,
    Phase,
    Proposal,
    ProposalStatus,
)
from civic.participation.pages.common import (
    COMMENT_SORTS,
    EDITABLE,
    _choice,
    _done,
    _login,
    _page,
    _path_id,
    _refuse,
    _signed_in,
    _submit_form,
)
from civic.participation.proposals import no_longer_editable
from civic.participation.schemas import CommentOut, ProposalInput, ProposalOut
from civic.participation.support_curve import support_curve


def _proposal_input(values: dict[str, str]) -> dict[str, Any]:
    return {
        "title": values.get("title", ""),
        "body": values.get("body", ""),
        "category": values.get("category") or None,
        "district": values.get("district") or None,
    }


def _submit_refusal(session: Session, consultation: Consultation, account: Account) -> CivicError | None:
    """What `actions.check_submit_proposal` would refuse before any text is written, so the form
    says so at once instead of after the citizen has written their proposal."""
    if consultation.status != ConsultationStatus.PUBLISHED:
        raise NotFound(_("There is no consultation %(id)s.", id=consultation.id))
    refusal = rules.eligibility_refusal(consultation, account)
    if refusal:
        return Forbidden(refusal, code="not_eligible")
    refusal = rules.phase_refusal(consultation, (Phase.PROPOSALS,), "submit proposals")
    if refusal:
        return Conflict(refusal, code="wrong_phase")
    assert account.id is not None
    refusal = rules.level_refusal(consultation, standing_level(session, account.id))
    if refusal:
        return Forbidden(refusal, code="level_required")
    return None


async def new_proposal_page(request: Request) -> Response:
    consultation_id = _path_id(request, "consultation_id")
    here = f"/consultations/{consultation_id}/proposals/new"

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        consultation = queries.visible_consultation(session, account, consultation_id)
        return {"consultation": consultation, "refusal": _submit_refusal(session, consultation, account)}

    context = await transact(request, load)
    if context is None:
        return _login(here)
    refusal = context.pop("refusal")
    context.update(mode="new", action=here)
    template = "participation/proposal_form.html"
    if request.method != "POST":  # HEAD included: the CSRF guard lets it through, so it must not act
        if refusal is not None:
            return _refuse(request, template, refusal, {}, **context, blocked=True)
        return _page(request, template, {**context, "values": {}})
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> int:
        data = validate(ProposalInput, _proposal_input(values))
        proposal = actions.submit_proposal(session, _signed_in(account), consultation_id, data)
        assert proposal.id is not None
        return proposal.id

    return await _submit_form(
        request,
        work,
        template=template,
        context=context,
        values=values,
        here=here,
        done=lambda proposal_id: _done(f"/proposals/{proposal_id}", "submitted"),
    )


def _edit_refusal(proposal: ProposalOut) -> CivicError | None:
    # Mirrors actions.edit_proposal, so the edit link and form appear only when an edit can succeed.
    if proposal.status not in EDITABLE:
        return Conflict(
            _("A %(status)s proposal cannot be edited.", status=rules.status_word(proposal.status))
        )
    if proposal.support_count or proposal.comment_count:
        return Conflict(no_longer_editable())
    return None


def _own_proposal(session: Session, account: Account | None, proposal_id: int) -> dict[str, Any] | None:
    if account is None:
        return None
    proposal, consultation = queries.proposal_detail(session, account, proposal_id)
    if proposal.author_id != account.id:
        raise Forbidden(_("Only the author can change this proposal."))
    return {"proposal": proposal, "consultation": consultation}


async def edit_proposal_page(request: Request) -> Response:
    proposal_id = _path_id(request, "proposal_id")
    here = f"/proposals/{proposal_id}/edit"
    context = await transact(request, lambda s, a: _own_proposal(s, a, proposal_id))
    if context is None:
        return _login(here)
    proposal: ProposalOut = context["proposal"]
    context.update(mode="edit", action=here)
    template = "participation/proposal_form.html"
    if request.method != "POST":
        values = {
            "title": proposal.title,
            "body": proposal.body,
            "category": proposal.category or "",
            "district": proposal.district or "",
        }
        refusal = _edit_refusal(proposal)
        if refusal is not None:
            return _refuse(request, template, refusal, values, **context, blocked=True)
        return _page(request, template, {**context, "values": values})
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> None:
        data = validate(ProposalInput, _proposal_input(values))
        actions.edit_proposal(session, _signed_in(account), proposal_id, data)

    return await _submit_form(
        request,
        work,
        template=template,
        context=context,
        values=values,
        here=here,
        done=lambda _: _done(f"/proposals/{proposal_id}", "edited"),
    )


async def withdraw_page(request: Request) -> Response:
    """GET: the confirmation step (withdrawing cannot be undone); POST: withdraw."""
    proposal_id = _path_id(request, "proposal_id")
    here = f"/proposals/{proposal_id}/withdraw"
    if request.method == "POST":
        return await _act_on_proposal(
            request,
            proposal_id,
            lambda s, a: actions.withdraw_proposal(s, _signed_in(a), proposal_id),
            "withdrawn",
        )
    context = await transact(request, lambda s, a: _own_proposal(s, a, proposal_id))
    if context is None:
        return _login(here)
    return _page(request, "participation/withdraw.html", context)


# ---- the proposal page, supports and comments ----------------------------------------------


def _support_refusal(
    proposal: ProposalOut, consultation: Consultation, account: Account | None
) -> str | None:
    """Why the Support button is not offered (None: offer it, or a log-in link to a visitor)."""
    if proposal.status != ProposalStatus.PUBLISHED:
        return None  # the page already says the proposal is withdrawn or not public
    refusal = rules.phase_refusal(consultation, (Phase.SUPPORT,), "support proposals")
    if refusal or account is None:
        return refusal
    if proposal.author_id == account.id:
        return _("This is your proposal: other people can support it.")
    return rules.eligibility_refusal(consultation, account)


def _comment_refusal(
    proposal: ProposalOut, consultation: Consultation, account: Account | None
) -> str | None:
    if proposal.status != ProposalStatus.PUBLISHED:
        return _(
            "This proposal is %(status)s; it is closed for comments.",
            status=rules.status_word(proposal.status),
        )
    refusal = rules.phase_refusal(consultation, rules.COMMENT_PHASES, "comment")
    if refusal or account is None:
        return refusal
    return rules.eligibility_refusal(consultation, account)


def _comment_edit_refusal(consultation: Consultation) -> str | None:
    return rules.phase_refusal(consultation, rules.COMMENT_PHASES, "edit comments")


def _comment_sort(request: Request) -> str:
    return _choice(request.query_params.get("sort"), COMMENT_SORTS, "oldest") or "oldest"


def _replyable(thread: list[CommentOut]) -> set[int]:
    found: set[int] = set()
    for node in thread:
        if node.status == CommentStatus.PUBLISHED and node.depth < actions.MAX_COMMENT_DEPTH:
            found.add(node.id)
        found |= _replyable(node.replies)
    return found


def _proposal_context(
    session: Session, account: Account | None, proposal_id: int, sort: str
) -> dict[str, Any]:
    proposal, consultation = queries.proposal_detail(session, account, proposal_id)
    thread = queries.comment_thread(session, proposal_id, sort)  # type: ignore[arg-type]
    is_author = account is not None and account.id == proposal.author_id
    row = session.get(Proposal, proposal_id)  # already loaded: the officials' answer and moderation fields
    assert row is not None
    return {
        **_official_context(session, account, consultation, row, is_author),
        "proposal": proposal,
        "consultation": consultation,
        "comments": thread,
        "replyable": _replyable(thread),
        "comment_sort": sort,
        "comment_sorts": COMMENT_SORTS,
        "is_author": is_author,
        "can_edit": is_author and _edit_refusal(proposal) is None,
        "can_withdraw": is_author and proposal.status in EDITABLE,
        "support_refusal": _support_refusal(proposal, consultation, account),
        "comment_refusal": _comment_refusal(proposal, consultation, account),
        # Deleting one's comment is always allowed; editing it only while comments are taken.
        "comments_editable": _comment_edit_refusal(consultation) is None,
        "threshold": consultation.support_threshold,
        "support_curve": support_curve(session, proposal_id) if row.status in queries.PUBLIC_STATUSES else [],
    }


def _official_context(
    session: Session, account: Account | None, consultation: Consultation, row: Proposal, is_author: bool
) -> dict[str, Any]:
    """What officials said about the proposal, and what the viewer may do about it beyond taking
    part: report it (e-citizens), moderate it (the agency's moderators), answer it (responders).
    The links lead to leadership's pages, which check the same grants again when acting."""
    assert row.id is not None
    target = consultation_target(consultation)
    public = row.status in queries.PUBLIC_STATUSES
    return {
        "answers": queries.answer_history(session, row.id) if public else [],
        "answer_status": row.answer_status,
        # Only the author (and the moderators, who decided it) is told why it is not public.
        "moderation_reason": row.moderation_reason
        if row.status in (ProposalStatus.HIDDEN, ProposalStatus.REJECTED)
        else None,
        "own_hidden_comments": {c.id: c for c in queries.own_hidden_comments(session, account, row.id)},
        "can_report": account is not None and account.kind in E_CITIZEN_KINDS,
        "can_moderate": is_allowed(session, account, Permission.MODERATE, target),
        "can_answer": public and is_allowed(session, account, Permission.ANSWER_PROPOSALS, target),
    }


async def proposal_page(request: Request) -> Response:
    proposal_id = _path_id(request, "proposal_id")
    sort = _comment_sort(request)
    context = await transact(request, lambda s, a: _proposal_context(s, a, proposal_id, sort))
    done = request.query_params.get("done", "")
    return _page(
        request,
        "participation/proposal.html",
        {**context, "done": done, "comment_form": None, "comment_text": ""},
    )


async def _proposal_failure(
    request: Request,
    proposal_id: int,
    exc: CivicError,
    values: dict[str, str] | None = None,
    *,
    parent_id: int | None = None,
) -> Response:
    """The proposal page again, with the refusal on top and the comment being written kept in
    the form it was written in (a reply's own form, opened)."""
    failure = form_failure(exc, values or {})
    context = await transact(request, lambda s, a: _proposal_context(s, a, proposal_id, "oldest"))
    form: int | str = "new"
    if parent_id is not None and parent_id in context["replyable"]:
        form = parent_id
        failure["errors"] = {
            f"reply-{parent_id}" if k == "body" else k: v for k, v in failure["errors"].items()
        }
    return _page(
        request,
        "participation/proposal.html",
        {
            **context,
            **failure,
            "done": "",
            "comment_form": form if values is not None else None,
            "comment_text": (values or {}).get("body", ""),
        },
        status=failure["status"],
        headers=error_headers(exc),
    )


async def _act_on_proposal(
    request: Request,
    proposal_id: int,
    act: Callable[[Session, Account | None], object],
    done: str,
    anchor: str = "",
) -> Response:
    try:
        await transact(request, act)
    except NotAuthenticated:
        return _login(f"/proposals/{proposal_id}")
    except CivicError as exc:
        return await _proposal_failure(request, proposal_id, exc)
    return _done(f"/proposals/{proposal_id}", done, anchor)


async def support(request: Request) -> Response:
    proposal_id = _path_id(request, "proposal_id")
    return await _act_on_proposal(
        request,
        proposal_id,
        lambda s, a: actions.support_proposal(s, _signed_in(a), proposal_id),
        "supported",
        "#support",
    )


async def unsupport(request: Request) -> Response:
    proposal_id = _path_id(request, "proposal_id")
    return await _act_on_proposal(
        request,
        proposal_id,
        lambda s, a: actions.unsupport_proposal(s, _signed_in(a), proposal_id),
        "unsupported",
        "#support",
    )
