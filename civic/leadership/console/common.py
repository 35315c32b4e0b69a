"""What the console's pages share: path ids, the log-in redirect, and one form-submission flow.

As on participation's pages: a POST runs its action in one transaction and answers with a 303 and
a `?done=` flag; a refusal the official can act on (bad input, a conflict, something gone) shows
the form again with the message, their text kept and the status an API client would get. Not
being logged in sends them to log in; a missing grant is the ordinary 403 page, which names it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from civic.clock import as_utc
from civic.errors import CivicError, Forbidden, NotAuthenticated, NotFound
from civic.http.api import MAX_ID
from civic.http.forms import render_form_failure
from civic.http.templates import render
from civic.i18n import _
from civic.identity.models import Account, AccountKind
from civic.identity.web import transact
from civic.leadership.console import labels

Work = Callable[[Session, Account | None], Any]


def path_id(request: Request, name: str) -> int:
    value = int(request.path_params[name])
    if not 0 < value <= MAX_ID:
        raise NotFound(_("There is nothing at this address."))
    return value


def query_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 0 < int(value) <= MAX_ID else None


def utc(value: datetime) -> datetime:
    return as_utc(value).astimezone(UTC)


def login_redirect(here: str) -> RedirectResponse:
    return RedirectResponse(f"/login?{urlencode({'next': here})}", status_code=303)


def done(path: str, flag: str) -> RedirectResponse:
    joiner = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{joiner}done={flag}", status_code=303)


def official(account: Account | None) -> Account:
    """The console is for officials: anyone else is told so (401 logged out, 403 otherwise)."""
    if account is None:
        raise NotAuthenticated(_("Log in to open the officials' console."))
    if account.kind != AccountKind.OFFICIAL:
        raise Forbidden(_("The console is for officials holding a role; your account is not an official's."))
    return account


def page(request: Request, name: str, context: dict[str, Any], **kwargs: Any) -> Response:
    return render(request, name, {"utc": utc, "labels": labels, **context}, **kwargs)


async def load(request: Request, work: Work, here: str) -> Any:
    """Run a read; None means "log in first" (the caller redirects)."""
    try:
        return await transact(request, work)
    except NotAuthenticated:
        return None


async def submit(
    request: Request,
    work: Work,
    *,
    here: str,
    template: str,
    context: Callable[[], Any],
    values: dict[str, str],
    on_done: Callable[[Any], Response],
) -> Response:
    """Run a form's action: 303 on success, the log-in page when logged out, a 403 page for a
    missing grant, else the form again (its context re-read by `context`, None when logged out)
    with the refusal."""
    try:
        result = await transact(request, work)
    except NotAuthenticated:
        return login_redirect(here)
    except Forbidden:
        raise
    except CivicError as exc:
        found = await context()
        if found is None:  # the form cannot be shown to someone logged out: log in first
            return login_redirect(here)
        extra = dict(found)
        shown = extra.pop("values", values)  # a lifecycle button's page shows the record, not its form
        return render_form_failure(request, template, exc, shown, utc=utc, labels=labels, **extra)
    return on_done(result)
