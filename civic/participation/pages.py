"""Participation's HTML pages: consultations, proposals, supports and comments.

Every page works without JavaScript: links and GET forms to read, filter, sort and page; POST
forms (with the CSRF token) to act, answered with a 303 back to the page and a `?done=` flag the
page turns into a status message. A refusal re-renders the page with the error summary, the
user's text kept and the status an API client would get.

Thin like identity's routes: parse, then one `transact` that calls participation's actions (every
write) or queries (every read), then render or redirect. Domain code never sees the Request.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from civic.clock import as_utc
from civic.errors import CivicError, Conflict, Forbidden, NotAuthenticated, NotFound
from civic.http.api import MAX_ID, validate
from civic.http.errors import error_headers
from civic.http.forms import form_data, form_failure, render_form_failure
from civic.http.templates import render
from civic.identity.models import Account
from civic.identity.web import transact
from civic.participation import actions, queries, rules
from civic.participation.api import visitor_seed
from civic.participation.markdown import render_markdown
from civic.participation.models import (
    PHASE_ORDER,
    Comment,
    CommentStatus,
    Consultation,
    ConsultationStatus,
    Phase,
    ProposalStatus,
)
from civic.participation.schemas import CommentEdit, CommentInput, CommentOut, ProposalInput, ProposalOut

PHASES = tuple(p.value for p in PHASE_ORDER)
PROPOSAL_SORTS = ("random", "supported", "newest")
COMMENT_SORTS = ("oldest", "newest", "replies")
LISTED_STATUSES = ("published", "withdrawn")
EDITABLE = (ProposalStatus.PUBLISHED, ProposalStatus.PENDING)


# ---- small parsing helpers -----------------------------------------------------------------


def _path_id(request: Request, name: str) -> int:
    """A row id from the path; one PostgreSQL's `integer` cannot hold names nothing (a 404, not a 500)."""
    value = int(request.path_params[name])
    if not 0 < value <= MAX_ID:
        raise NotFound("There is nothing at this address.")
    return value


def _choice(value: str | None, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    return value if value in allowed else default


def _number(value: str | None, *, default: int = 1, low: int = 1, high: int = 100_000) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return default
    return min(max(number, low), high)


def _text(value: str | None, limit: int) -> str | None:
    """A free-text filter, without control characters (PostgreSQL refuses NUL in text: a 500)."""
    value = "".join(ch for ch in (value or "") if ch.isprintable()).strip()[:limit]
    return value or None


def _utc(value: datetime) -> datetime:
    """For `<time datetime>`: every stored time is UTC, but PostgreSQL hands it back in the
    connection's time zone and SQLite without one."""
    return as_utc(value).astimezone(UTC)


def _page_count(total: int) -> int:
    return max(1, math.ceil(total / queries.PER_PAGE))


def _page(request: Request, name: str, context: dict[str, Any], **kwargs: Any) -> HTMLResponse:
    return render(request, name, {"utc": _utc, **context}, **kwargs)


def _refuse(
    request: Request, template: str, exc: CivicError, values: dict[str, str], **context: Any
) -> HTMLResponse:
    """The form again after `exc`, as identity's pages do it (message, field errors, kept text)."""
    return render_form_failure(request, template, exc, values, utc=_utc, **context)


def _login(target: str) -> RedirectResponse:
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


def _done(path: str, flag: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"{path}?done={flag}{anchor}", status_code=303)


def _signed_in(account: Account | None) -> Account:
    if account is None:
        raise NotAuthenticated("Log in to take part.")
    return account


def _schedule(consultation: Consultation) -> list[dict[str, Any]]:
    """The schedule in phase order, dates parsed (a date that does not parse is shown as written)."""

    def day(value: str | None) -> date | str | None:
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return value

    return [
        {"phase": phase, "starts": day(dates.get("starts")), "ends": day(dates.get("ends"))}
        for phase in PHASES
        if (dates := consultation.schedule.get(phase))
    ]


# ---- consultations -------------------------------------------------------------------------


async def consultations_page(request: Request) -> Response:
    params = request.query_params
    phase = _choice(params.get("phase"), PHASES)
    page = _number(params.get("page"))

    def work(session: Session, account: Account | None) -> tuple[list[Consultation], int]:
        return queries.list_consultations(session, account, page=page, phase=phase)

    items, total = await transact(request, work)

    def page_url(number: int) -> str:
        return "?" + urlencode({**({"phase": phase} if phase else {}), "page": number})

    return _page(
        request,
        "participation/consultations.html",
        {
            "consultations": [(c, _schedule(c)) for c in items],
            "total": total,
            "page": page,
            "pages": _page_count(total),
            "phase": phase or "",
            "phases": PHASES,
            "page_url": page_url,
        },
    )


async def consultation_page(request: Request) -> Response:
    consultation_id = _path_id(request, "consultation_id")
    params = request.query_params
    explicit_seed = params.get("seed", "")
    seed = (
        _number(explicit_seed, default=0, low=0, high=2**31)
        if explicit_seed.isdigit()
        else visitor_seed(getattr(request.state, "csrf_token", ""))
    )
    filters = queries.ProposalFilters(
        status=_choice(params.get("status"), LISTED_STATUSES),
        category=_text(params.get("category"), 80),
        district=_text(params.get("district"), 80),
        q=_text(params.get("q"), 200),
        sort=_choice(params.get("sort"), PROPOSAL_SORTS, "random"),  # type: ignore[arg-type]
        seed=seed,
        page=_number(params.get("page")),
    )

    def work(session: Session, account: Account | None) -> dict[str, Any]:
        consultation = queries.visible_consultation(session, account, consultation_id)
        return {
            "consultation": consultation,
            "proposals": queries.list_proposals(session, account, consultation, filters),
            "refusal": rules.eligibility_refusal(consultation, account) if account else None,
        }

    context = await transact(request, work)
    consultation: Consultation = context["consultation"]
    shown = {
        "status": filters.status or "",
        "category": filters.category or "",
        "district": filters.district or "",
        "q": filters.q or "",
        "sort": filters.sort,
    }
    kept = {k: v for k, v in shown.items() if v and not (k == "sort" and v == "random")}
    if explicit_seed.isdigit():
        kept["seed"] = str(seed)

    def page_url(number: int) -> str:
        return "?" + urlencode({**kept, "page": number}) + "#proposals"

    return _page(
        request,
        "participation/consultation.html",
        {
            **context,
            "body_html": render_markdown(consultation.body),
            "schedule": _schedule(consultation),
            "published": consultation.status == ConsultationStatus.PUBLISHED,
            "filters": shown,
            "filtered": bool(kept.keys() - {"seed", "sort"}),
            "page_url": page_url,
        },
    )


# ---- submitting and editing a proposal -----------------------------------------------------


def _proposal_input(values: dict[str, str]) -> dict[str, Any]:
    return {
        "title": values.get("title", ""),
        "body": values.get("body", ""),
        "category": values.get("category") or None,
        "district": values.get("district") or None,
    }


def _submit_refusal(consultation: Consultation, account: Account) -> CivicError | None:
    """What `actions.check_submit_proposal` would refuse before any text is written, so the form
    says so at once instead of after the citizen has written their proposal."""
    if consultation.status != ConsultationStatus.PUBLISHED:
        raise NotFound(f"There is no consultation {consultation.id}.")
    refusal = rules.eligibility_refusal(consultation, account)
    if refusal:
        return Forbidden(refusal, code="not_eligible")
    refusal = rules.phase_refusal(consultation, (Phase.PROPOSALS,), "submit proposals")
    if refusal:
        return Conflict(refusal, code="wrong_phase")
    return None


async def new_proposal_page(request: Request) -> Response:
    consultation_id = _path_id(request, "consultation_id")
    here = f"/consultations/{consultation_id}/proposals/new"

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        consultation = queries.visible_consultation(session, account, consultation_id)
        return {"consultation": consultation, "refusal": _submit_refusal(consultation, account)}

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

    try:
        proposal_id = await transact(request, work)
    except NotAuthenticated:
        return _login(here)
    except CivicError as exc:
        return _refuse(request, template, exc, values, **context)
    return _done(f"/proposals/{proposal_id}", "submitted")


def _edit_refusal(proposal: ProposalOut) -> CivicError | None:
    # Mirrors actions.edit_proposal, so the edit link and form appear only when an edit can succeed.
    if proposal.status not in EDITABLE:
        return Conflict(f"A {proposal.status} proposal cannot be edited.")
    if proposal.support_count or proposal.comment_count:
        return Conflict(
            "This proposal can no longer be edited: people have supported or commented on it as it "
            "stands. Add a comment to explain what changed."
        )
    return None


def _own_proposal(session: Session, account: Account | None, proposal_id: int) -> dict[str, Any] | None:
    if account is None:
        return None
    proposal, consultation = queries.proposal_detail(session, account, proposal_id)
    if proposal.author_id != account.id:
        raise Forbidden("Only the author can change this proposal.")
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

    try:
        await transact(request, work)
    except NotAuthenticated:
        return _login(here)
    except CivicError as exc:
        return _refuse(request, template, exc, values, **context)
    return _done(f"/proposals/{proposal_id}", "edited")


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
        return "This is your proposal: other people can support it."
    return rules.eligibility_refusal(consultation, account)


def _comment_refusal(
    proposal: ProposalOut, consultation: Consultation, account: Account | None
) -> str | None:
    if proposal.status != ProposalStatus.PUBLISHED:
        return f"This proposal is {proposal.status}; it is closed for comments."
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
    return {
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


async def post_comment(request: Request) -> Response:
    proposal_id = _path_id(request, "proposal_id")
    values = await form_data(request)
    raw_parent = values.get("parent_id", "").strip()
    parent_id = int(raw_parent) if raw_parent.isdigit() and 0 < int(raw_parent) <= MAX_ID else None

    def work(session: Session, account: Account | None) -> int:
        author = _signed_in(account)
        if raw_parent and parent_id is None:  # not an id at all, or beyond what a row id can be
            raise NotFound("There is no such comment on this proposal to reply to.")
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
        raise NotFound(f"There is no comment {comment_id}.")
    if comment.author_id != account.id:
        raise Forbidden("Only the author can change this comment.")
    if comment.status != CommentStatus.PUBLISHED:
        raise Conflict(f"This comment is {comment.status}.")
    return comment


def _comment_proposal(session: Session, comment_id: int) -> int:
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(f"There is no comment {comment_id}.")
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

    try:
        await transact(request, work)
    except NotAuthenticated:
        return _login(here)
    except CivicError as exc:
        return _refuse(request, template, exc, values, **context)
    return _done(f"/proposals/{comment.proposal_id}", "comment_edited", f"#comment-{comment_id}")


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


def routes() -> list[BaseRoute]:
    return [
        Route("/consultations", consultations_page),
        Route("/consultations/{consultation_id:int}", consultation_page),
        Route(
            "/consultations/{consultation_id:int}/proposals/new", new_proposal_page, methods=["GET", "POST"]
        ),
        Route("/proposals/{proposal_id:int}", proposal_page),
        Route("/proposals/{proposal_id:int}/edit", edit_proposal_page, methods=["GET", "POST"]),
        Route("/proposals/{proposal_id:int}/withdraw", withdraw_page, methods=["GET", "POST"]),
        Route("/proposals/{proposal_id:int}/support", support, methods=["POST"]),
        Route("/proposals/{proposal_id:int}/unsupport", unsupport, methods=["POST"]),
        Route("/proposals/{proposal_id:int}/comments", post_comment, methods=["POST"]),
        Route("/comments/{comment_id:int}/edit", edit_comment_page, methods=["GET", "POST"]),
        Route("/comments/{comment_id:int}/delete", delete_comment, methods=["POST"]),
    ]
