"""Blocking an account: from a case (the author of what was reported), and the list of active
blocks in the moderator's agencies, each with the form that lifts it."""

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
from civic.identity.authorization import Permission, authorize
from civic.identity.models import Account, Agency
from civic.identity.web import transact
from civic.leadership import blocks, moderation
from civic.leadership.models import AccountBlock
from civic.leadership.pages.common import _done, _login, _page, _path_id, _submit_form, optional_id
from civic.leadership.schemas import BlockInput, ReasonInput
from civic.leadership.views import block_out


def _blocks_context(session: Session, account: Account | None) -> dict[str, Any]:
    moderator = authorize(session, account, Permission.MODERATE)
    agencies, _consultations = moderation.moderated_scope(session, moderator)
    rows = session.exec(
        select(AccountBlock, Account.display_name)
        .join(Account, col(Account.id) == AccountBlock.account_id)
        .where(col(AccountBlock.lifted_at).is_(None), col(AccountBlock.agency_id).in_(agencies))
        .order_by(col(AccountBlock.created_at).desc())
    ).all()
    return {"blocks": [(block_out(b), name) for b, name in rows]}


async def blocks_page(request: Request) -> Response:
    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        return None if account is None else _blocks_context(session, account)

    context = await transact(request, load)
    if context is None:
        return _login("/moderation/blocks")
    return _page(
        request,
        "leadership/blocks.html",
        {**context, "done": request.query_params.get("done", ""), "values": {}, "form_id": None},
    )


async def unblock(request: Request) -> Response:
    """From the list: lift one block, with a reason (the form's errors go next to that block)."""
    account_id = _path_id(request, "account_id")
    values = await form_data(request)

    def act(session: Session, account: Account | None) -> AccountBlock:
        data = validate(ReasonInput, {"reason": values.get("reason", "")})
        return blocks.unblock_account(session, account, account_id, data)

    try:
        await transact(request, act)
    except NotAuthenticated:
        return _login("/moderation/blocks")
    except CivicError as exc:
        failure = form_failure(exc, values)
        failure["errors"] = {f"{k}-{account_id}": v for k, v in failure["errors"].items()}
        context = await transact(request, _blocks_context)
        return _page(
            request,
            "leadership/blocks.html",
            {**context, **failure, "done": "", "form_id": account_id},
            status=failure["status"],
            headers=error_headers(exc),
        )
    return _done("/moderation/blocks", "unblocked")


async def block_page(request: Request) -> Response:
    """GET: the form to block an account (from a case: its agency preselected); POST: block it."""
    account_id = _path_id(request, "account_id")
    here = f"/moderation/accounts/{account_id}/block"
    template = "leadership/block.html"
    preset = optional_id(request.query_params.get("agency"))

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        moderator = authorize(session, account, Permission.MODERATE)
        agencies, _consultations = moderation.moderated_scope(session, moderator)
        target = session.get(Account, account_id)
        if target is None:
            raise NotFound(_("There is no account %(id)s.", id=account_id))
        rows = session.exec(
            select(Agency).where(col(Agency.id).in_(agencies)).order_by(col(Agency.name))
        ).all()
        return {
            "target": target.display_name,
            "agencies": [(str(a.id), a.name) for a in rows],
            "active": blocks.active_block(session, account_id) is not None,
            "action": here,
        }

    context = await transact(request, load)
    if context is None:
        return _login(here)
    if request.method != "POST":
        return _page(request, template, {**context, "values": {"agency_id": str(preset or "")}})
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> AccountBlock:
        data = validate(
            BlockInput,
            {"agency_id": optional_id(values.get("agency_id")) or 0, "reason": values.get("reason", "")},
        )
        return blocks.block_account(session, account, account_id, data)

    return await _submit_form(
        request,
        work,
        template=template,
        context=context,
        values=values,
        here=here,
        done=lambda _: _done("/moderation/blocks", "blocked"),
    )
