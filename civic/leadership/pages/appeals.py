"""Appeals: the author's one appeal against a decision on what they wrote, and the moderators' list
of open appeals, each decided by a moderator other than the one who made the decision."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response

from civic.errors import CivicError, NotAuthenticated, NotFound
from civic.http.api import validate
from civic.http.errors import error_headers
from civic.http.forms import form_data, form_failure
from civic.i18n import _
from civic.identity.models import Account
from civic.identity.web import transact
from civic.leadership import appeals
from civic.leadership.models import Appeal, CaseState, ModerationCase
from civic.leadership.moderation import UPHOLDING
from civic.leadership.pages.common import _done, _login, _page, _path_id, _submit_form, item_view
from civic.leadership.schemas import AppealDecisionInput, AppealInput
from civic.leadership.views import appeal_out, case_outs

# ---- the author's appeal ---------------------------------------------------------------------


def _appealable_case(session: Session, account: Account, kind: str, item_id: int) -> ModerationCase:
    """The latest decision that hid or rejected the account's own item; a 404 for anyone else."""
    case = session.exec(
        select(ModerationCase)
        .where(
            ModerationCase.item_kind == kind,
            ModerationCase.item_id == item_id,
            ModerationCase.author_id == account.id,
            ModerationCase.state == CaseState.DECIDED,
            col(ModerationCase.decision).in_([d.value for d in UPHOLDING]),
        )
        .order_by(col(ModerationCase.decided_at).desc(), col(ModerationCase.id).desc())
    ).first()
    if case is None:
        if kind == "comment":
            raise NotFound(_("There is no moderation decision on your comment to appeal."))
        raise NotFound(_("There is no moderation decision on your proposal to appeal."))
    return case


async def appeal_form(request: Request) -> Response:
    kind = request.path_params["kind"]
    item_id = _path_id(request, "item_id")
    here = f"/appeal/{kind}/{item_id}"
    template = "leadership/appeal.html"

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        case = _appealable_case(session, account, kind, item_id)
        _, view = item_view(session, kind, item_id)
        existing = session.exec(select(Appeal).where(Appeal.case_id == case.id)).first()
        return {
            "case": case_outs(session, [case])[0],
            "item": view,
            "appeal": appeal_out(existing) if existing else None,
            "action": here,
        }

    context = await transact(request, load)
    if context is None:
        return _login(here)
    if request.method != "POST":
        return _page(request, template, {**context, "values": {}})
    values = await form_data(request)
    case_id = context["case"].id

    def work(session: Session, account: Account | None) -> Appeal:
        data = validate(AppealInput, {"text": values.get("text", "")})
        return appeals.file_appeal(session, account, case_id, data)

    link: str = context["item"]["link"]
    path, _, anchor = link.partition("#")
    return await _submit_form(
        request,
        work,
        template=template,
        context=context,
        values=values,
        here=here,
        done=lambda _: _done(path, "appealed", f"#{anchor}" if anchor else ""),
    )


# ---- the moderators' list --------------------------------------------------------------------


def _appeals_context(session: Session, account: Account | None) -> dict[str, Any]:
    rows = appeals.open_appeals(session, account)
    cases = {
        c.id: c
        for c in session.exec(
            select(ModerationCase).where(col(ModerationCase.id).in_([a.case_id for a in rows]))
        ).all()
    }
    outs = {c.id: c for c in case_outs(session, list(cases.values()))}
    return {"appeals": [(appeal_out(a), outs[a.case_id]) for a in rows if a.case_id in outs]}


async def appeals_page(request: Request) -> Response:
    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        return None if account is None else _appeals_context(session, account)

    context = await transact(request, load)
    if context is None:
        return _login("/moderation/appeals")
    return _page(
        request,
        "leadership/appeals.html",
        {**context, "done": request.query_params.get("done", ""), "values": {}, "form_id": None},
    )


async def decide_appeal(request: Request) -> Response:
    appeal_id = _path_id(request, "appeal_id")
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> Appeal:
        data = validate(
            AppealDecisionInput, {"outcome": values.get("outcome", ""), "reason": values.get("reason", "")}
        )
        return appeals.decide_appeal(session, account, appeal_id, data)

    try:
        await transact(request, work)
    except NotAuthenticated:
        return _login("/moderation/appeals")
    except CivicError as exc:
        failure = form_failure(exc, values)
        # One page holds a form per appeal: the errors belong to this appeal's fields.
        failure["errors"] = {f"{k}-{appeal_id}": v for k, v in failure["errors"].items()}
        context = await transact(request, _appeals_context)
        return _page(
            request,
            "leadership/appeals.html",
            {**context, **failure, "done": "", "form_id": appeal_id},
            status=failure["status"],
            headers=error_headers(exc),
        )
    return _done("/moderation/appeals", "appeal_decided")
