"""The moderators' pages: the queue with its filters and bulk form, one case, and acting on an item
straight from its page.

Two moderators may open the same case; the one who submits second is shown, with a 409, that
another moderator decided it first and what they decided, and their own reason is kept in the form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from civic.errors import CivicError, Conflict, InvalidInput, NotAuthenticated
from civic.http.api import MAX_ID, validate
from civic.http.forms import form_data
from civic.i18n import _
from civic.identity.authorization import Permission, authorize
from civic.identity.models import Account, Agency
from civic.identity.web import transact
from civic.leadership import moderation
from civic.leadership.models import ModerationCase
from civic.leadership.pages.common import (
    _choice,
    _done,
    _login,
    _number,
    _page,
    _path_id,
    _refuse,
    _submit_form,
    item_link,
    item_view,
    optional_id,
)
from civic.leadership.reports import open_case_for
from civic.leadership.schemas import BulkDecisionInput, DecisionInput, ItemDecisionInput
from civic.leadership.views import case_detail, case_outs
from civic.participation.consultations import consultation_target
from civic.participation.models import Consultation, ProposalStatus

STATES = ("open", "decided", "all")
ORIGINS = ("pre_moderation", "reports", "direct", "block")
KINDS = ("proposal", "comment")
DECISIONS = ("approve", "reject", "hide", "restore", "keep")


def decisions_for(status: str, kind: str, auto_hidden: bool) -> list[str]:
    """The decisions that apply to an item in this status (offered first in the form)."""
    if kind == "proposal" and status == ProposalStatus.PENDING:
        return ["approve", "reject"]
    if status == "published":
        return ["hide", "keep"]
    if status == "hidden":
        return ["hide", "restore"] + (["keep"] if auto_hidden else [])
    if kind == "proposal" and status == ProposalStatus.REJECTED:
        return ["restore"]
    return ["keep"]


# ---- the queue -------------------------------------------------------------------------------


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        "agency_id": optional_id(q.get("agency")),
        "consultation_id": optional_id(q.get("consultation")),
        "state": _choice(q.get("state"), STATES, "open") or "open",
        "origin": _choice(q.get("origin"), ORIGINS),
        "item_kind": _choice(q.get("kind"), KINDS),
        "page": _number(q.get("page")),
    }


def _queue_context(session: Session, account: Account | None, filters: dict[str, Any]) -> dict[str, Any]:
    page = moderation.queue(session, account, **filters)
    assert account is not None
    agencies, consultations = moderation.moderated_scope(session, account)
    agency_rows = session.exec(
        select(Agency).where(col(Agency.id).in_(agencies)).order_by(col(Agency.name))
    ).all()
    consultation_rows = session.exec(
        select(Consultation)
        .where(col(Consultation.agency_id).in_(agencies) | col(Consultation.id).in_(consultations))
        .order_by(col(Consultation.title))
    ).all()
    args = {
        "agency": filters["agency_id"],
        "consultation": filters["consultation_id"],
        "state": filters["state"],
        "origin": filters["origin"],
        "kind": filters["item_kind"],
    }
    base = {k: v for k, v in args.items() if v}
    return {
        "cases": case_outs(session, page.items),
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "filters": filters,
        "agencies": agency_rows,
        "consultations": consultation_rows,
        "page_url": lambda n: "/moderation?" + urlencode({**base, "page": n}),
        "here": "/moderation" + ("?" + urlencode(base) if base else ""),
    }


async def queue_page(request: Request) -> Response:
    filters = _filters(request)

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        return None if account is None else _queue_context(session, account, filters)

    context = await transact(request, load)
    if context is None:
        return _login(str(request.url.path) + ("?" + request.url.query if request.url.query else ""))
    done = request.query_params.get("done", "")
    count = _number(request.query_params.get("count"), default=0, low=0, high=1000)
    return _page(request, "leadership/queue.html", {**context, "done": done, "count": count, "values": {}})


async def bulk_decide(request: Request) -> Response:
    """The queue's bulk form: one decision and reason for the ticked cases."""
    form = await request.form()
    ids = [
        int(v)
        for v in form.getlist("case_ids")
        if isinstance(v, str) and v.isdigit() and 0 < int(v) <= MAX_ID
    ]
    values = await form_data(request)
    back = values.get("back", "/moderation")
    back = back if back.startswith("/moderation") and "//" not in back else "/moderation"
    filters = _filters(request)

    def work(session: Session, account: Account | None) -> list[moderation.BulkOutcome]:
        if account is None:
            raise NotAuthenticated(_("Log in to moderate."))
        if not ids:
            raise InvalidInput(_("Tick at least one case."), {"case_ids": _("Tick the cases to decide.")})
        data = validate(
            BulkDecisionInput,
            {"case_ids": ids, "decision": values.get("decision", ""), "reason": values.get("reason", "")},
        )
        return moderation.decide_bulk(session, account, data)

    def context(session: Session, account: Account | None) -> dict[str, Any]:
        return _queue_context(session, account, filters)

    try:
        outcomes = await transact(request, work)
    except NotAuthenticated:
        return _login("/moderation")
    except CivicError as exc:
        ctx = await transact(request, context)
        return _refuse(
            request, "leadership/queue.html", exc, values, **ctx, done="", count=0, ticked=set(ids)
        )
    failed = [o for o in outcomes if not o.ok]
    if not failed:
        sep = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{sep}done=bulk&count={len(outcomes)}", status_code=303)
    ctx = await transact(request, context)
    return _page(
        request,
        "leadership/queue.html",
        {
            **ctx,
            "done": "",
            "count": 0,
            "values": {},
            "failed": failed,
            "decided": len(outcomes) - len(failed),
        },
    )


# ---- one case --------------------------------------------------------------------------------


def _case_context(session: Session, account: Account | None, case_id: int) -> dict[str, Any]:
    case = moderation.get_case(session, account, case_id)
    detail = case_detail(session, case)
    return {
        "case": detail,
        "decisions": decisions_for(detail.item_status, detail.item_kind, detail.auto_hidden),
        "item_link": item_link(detail.item_kind, detail.item_id, detail.proposal_id),
        "here": f"/moderation/cases/{case_id}",
    }


async def case_page(request: Request) -> Response:
    case_id = _path_id(request, "case_id")
    here = f"/moderation/cases/{case_id}"
    template = "leadership/case.html"

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        return None if account is None else _case_context(session, account, case_id)

    context = await transact(request, load)
    if context is None:
        return _login(here)
    if request.method != "POST":
        return _page(
            request, template, {**context, "done": request.query_params.get("done", ""), "values": {}}
        )
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> ModerationCase:
        data = validate(
            DecisionInput, {"decision": values.get("decision", ""), "reason": values.get("reason", "")}
        )
        return moderation.decide(session, account, case_id, data)

    try:
        await transact(request, work)
    except NotAuthenticated:
        return _login(here)
    except moderation.CaseAlreadyDecided as exc:
        # Someone else was first: the case as they left it, and this moderator's text kept.
        fresh = await transact(request, lambda s, a: _case_context(s, a, case_id))
        return _refuse(
            request,
            template,
            Conflict(
                _("Another moderator decided this case first. Their decision is shown below."), code=exc.code
            ),
            values,
            **fresh,
            done="",
            raced=True,
        )
    except CivicError as exc:
        return _refuse(request, template, exc, values, **context, done="")
    return _done(here, "decided")


# ---- acting on an item from its page ----------------------------------------------------------


async def item_page(request: Request) -> Response:
    """GET: the item and a form preset to the decision its page linked (hide, restore, approve,
    reject); POST: decide it, and go back to the item."""
    kind = request.path_params["kind"]
    item_id = _path_id(request, "item_id")
    here = f"/moderation/items/{kind}/{item_id}"
    template = "leadership/item.html"

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        item, view = item_view(session, kind, item_id)
        authorize(session, account, Permission.MODERATE, consultation_target(item.consultation))
        open_case = open_case_for(session, kind, item_id)
        return {
            "item": view,
            "decisions": [d for d in decisions_for(item.status, kind, False) if d != "keep"],
            "open_case": open_case,
            "action": here,
        }

    context = await transact(request, load)
    if context is None:
        return _login(here)
    if request.method != "POST":
        preset = _choice(request.query_params.get("decision"), DECISIONS, "") or ""
        return _page(request, template, {**context, "values": {"decision": preset}})
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> ModerationCase:
        data = validate(
            ItemDecisionInput,
            {
                "item_kind": kind,
                "item_id": item_id,
                "decision": values.get("decision", ""),
                "reason": values.get("reason", ""),
            },
        )
        return moderation.moderate_item(session, account, data)

    link = context["item"]["link"]
    path, _, anchor = link.partition("#")
    return await _submit_form(
        request,
        work,
        template=template,
        context=context,
        values=values,
        here=here,
        done=lambda _: _done(path, "moderated", f"#{anchor}" if anchor else ""),
    )
