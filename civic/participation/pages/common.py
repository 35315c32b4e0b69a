"""Helpers shared by participation's pages: parsing query values, refusals, redirects."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from civic.clock import as_utc
from civic.errors import CivicError, NotAuthenticated, NotFound
from civic.http.api import MAX_ID
from civic.http.forms import render_form_failure
from civic.http.templates import render
from civic.i18n import _
from civic.identity.models import Account
from civic.identity.web import transact
from civic.participation import queries
from civic.participation.models import (
    PHASE_ORDER,
    Consultation,
    ProposalStatus,
)

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
        raise NotFound(_("There is nothing at this address."))
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


async def _submit_form(
    request: Request,
    work: Callable[[Session, Account | None], Any],
    *,
    template: str,
    context: dict[str, Any],
    values: dict[str, str],
    here: str,
    done: Callable[[Any], Response],
) -> Response:
    """Run a form's action in one transaction: on success `done(result)` (a 303), when logged out
    the log-in page coming back `here`, on a refusal the form again with the user's text kept."""
    try:
        result = await transact(request, work)
    except NotAuthenticated:
        return _login(here)
    except CivicError as exc:
        return _refuse(request, template, exc, values, **context)
    return done(result)


def _signed_in(account: Account | None) -> Account:
    if account is None:
        raise NotAuthenticated(_("Log in to take part."))
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
