"""The notification centre's other half: per-kind preferences (toast on an open page, e-mail
digest) and the small JSON an open page reads to keep the nav's unread count and filter toasts."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from civic.http.forms import form_data
from civic.i18n import _
from civic.identity.models import Account
from civic.identity.web import transact
from civic.leadership import notifications
from civic.leadership.models import NotificationSettings
from civic.leadership.pages.common import _done, _login, _page, _signed_in, _submit_form

HERE = "/notifications/preferences"
TEMPLATE = "leadership/notifications_preferences.html"


def _form(row: NotificationSettings) -> dict[str, Any]:
    return {
        "kinds": [
            {
                "name": k.name,
                "label": k.label,
                "email_possible": k.email,
                "toast": k.name not in row.no_toast,
                "email": k.email and k.name not in row.no_email,
            }
            for k in notifications.KINDS
        ],
        "digest_sent_at": row.digest_sent_at,
    }


async def preferences_page(request: Request) -> Response:
    """GET: a checkbox per kind and channel; POST: save them (unchecked means off)."""

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None or account.id is None:
            return None
        return _form(notifications.settings_of(session, account.id))

    context = await transact(request, load)
    if context is None:
        return _login(HERE)
    if request.method != "POST":
        return _page(request, TEMPLATE, {**context, "done": request.query_params.get("done", "")})
    values = await form_data(request)
    toast = {k.name for k in notifications.KINDS if values.get(f"toast:{k.name}")}
    email = {k.name for k in notifications.KINDS if values.get(f"email:{k.name}")}

    def work(session: Session, account: Account | None) -> NotificationSettings:
        return notifications.save_preferences(session, _signed_in(account), toast=toast, email=email)

    return await _submit_form(
        request,
        work,
        template=TEMPLATE,
        context={**context, "done": ""},
        values=values,
        here=HERE,
        done=lambda _: _done(HERE, "saved"),
    )


async def live_state(request: Request) -> Response:
    """`{"unread": n, "no_toast": [kinds]}` for the logged-in account; 401 otherwise."""

    def load(session: Session, account: Account | None) -> dict[str, object] | None:
        return notifications.live_state(session, account) if account is not None else None

    state = await transact(request, load)
    if state is None:
        return JSONResponse(
            {"error": {"code": "not_authenticated", "message": _("Log in to see your notifications.")}},
            status_code=401,
            headers={"Cache-Control": "no-store"},
        )
    return JSONResponse(state, headers={"Cache-Control": "no-store"})
