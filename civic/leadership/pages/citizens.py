"""What every e-citizen uses of leadership: the report form and the notifications inbox."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from civic.errors import NotFound
from civic.http.api import validate
from civic.http.forms import form_data
from civic.identity.models import Account
from civic.identity.web import transact
from civic.leadership import notifications, reports
from civic.leadership.models import Report
from civic.leadership.pages.common import (
    _done,
    _login,
    _number,
    _page,
    _path_id,
    _signed_in,
    _submit_form,
    item_view,
)
from civic.leadership.reports import no_such_item
from civic.leadership.schemas import ReportInput
from civic.leadership.views import notification_out

REASONS = ("spam", "offensive", "off_topic", "personal_data")


async def report_page(request: Request) -> Response:
    """GET: what is being reported and the reasons to choose from; POST: file the report."""
    kind = request.path_params["kind"]
    item_id = _path_id(request, "item_id")
    here = f"/report/{kind}/{item_id}"
    template = "leadership/report.html"

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        item, view = item_view(session, kind, item_id)
        if not item.is_public:
            raise NotFound(no_such_item(kind, item_id))  # only public content is reported
        return {"item": view, "reasons": REASONS, "action": here}

    context = await transact(request, load)
    if context is None:
        return _login(here)
    if request.method != "POST":
        return _page(request, template, {**context, "values": {}})
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> Report:
        data = validate(ReportInput, {"reason": values.get("reason", ""), "note": values.get("note", "")})
        return reports.file_report(session, _signed_in(account), kind, item_id, data)

    link: str = context["item"]["link"]
    path, _, anchor = link.partition("#")
    return await _submit_form(
        request,
        work,
        template=template,
        context=context,
        values=values,
        here=here,
        done=lambda _: _done(path, "reported", f"#{anchor}" if anchor else ""),
    )


# ---- the inbox -------------------------------------------------------------------------------


async def notifications_page(request: Request) -> Response:
    page = _number(request.query_params.get("page"))
    unread_only = request.query_params.get("unread") == "1"

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        inbox = notifications.inbox(session, account, page=page, unread_only=unread_only)
        return {
            "items": [notification_out(n) for n in inbox.items],
            "total": inbox.total,
            "unread": inbox.unread,
            "page": inbox.page,
            "pages": inbox.pages,
            "unread_only": unread_only,
            "page_url": lambda n: f"/notifications?page={n}" + ("&unread=1" if unread_only else ""),
        }

    context = await transact(request, load)
    if context is None:
        return _login("/notifications")
    return _page(
        request, "leadership/notifications.html", {**context, "done": request.query_params.get("done", "")}
    )


async def mark_read(request: Request) -> Response:
    """One notification (`id`) or, without one, all of them."""
    values = await form_data(request)
    raw = values.get("id", "").strip()
    ids = [int(raw)] if raw.isdigit() and int(raw) < 2**31 else None

    def work(session: Session, account: Account | None) -> int:
        return notifications.mark_read(session, _signed_in(account), ids)

    return await _submit_form(
        request,
        work,
        template="leadership/notifications.html",
        context={"items": [], "total": 0, "unread": 0, "page": 1, "pages": 1, "page_url": lambda n: ""},
        values=values,
        here="/notifications",
        done=lambda _: _done("/notifications", "read"),
    )
