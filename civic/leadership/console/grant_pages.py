"""The administrator's grants page: an agency's grants (history included), the grant form, and
a revoke button with its reason on each active grant."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response

from civic.errors import InvalidInput, NotFound
from civic.http.api import validate
from civic.http.forms import form_data
from civic.i18n import _
from civic.identity.authorization import Permission, Target, authorize
from civic.identity.models import Account, AccountKind, Agency, Role
from civic.leadership import grants
from civic.leadership.console import labels
from civic.leadership.console.api import grant_out
from civic.leadership.console.common import (
    done,
    load,
    login_redirect,
    official,
    page,
    path_id,
    query_id,
    submit,
)
from civic.leadership.console.queries import reachable_agencies
from civic.leadership.schemas import GrantInput, ReasonInput
from civic.participation.models import Consultation

TEMPLATE = "console/grants.html"
ROLES = tuple(r.value for r in Role)


def _agency_context(session: Session, account: Account | None, agency_id: int) -> dict[str, Any]:
    me = official(account)
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(_("There is no agency %(id)s.", id=agency_id))
    rows = grants.list_grants(session, me, agency_id)  # authorizes
    subtree = grants.agency_subtree(session, agency_id)
    agencies = session.exec(
        select(Agency).where(col(Agency.id).in_(subtree)).order_by(col(Agency.name))
    ).all()
    consultations = session.exec(
        select(Consultation)
        .where(col(Consultation.agency_id).in_(subtree))
        .order_by(col(Consultation.id).desc())
    ).all()
    officials = session.exec(
        select(Account)
        .where(Account.kind == AccountKind.OFFICIAL, col(Account.is_active).is_(True))
        .where(col(Account.agency_id).in_(subtree))
        .order_by(col(Account.display_name))
    ).all()
    return {
        "agency": agency,
        "grants": [grant_out(session, g) for g in rows],
        "officials": [(str(o.id), o.display_name) for o in officials],
        "roles": [(r, labels.role(r)) for r in ROLES],
        "scopes": [(f"agency:{a.id}", labels.agency_name(a)) for a in agencies]
        + [
            (f"consultation:{c.id}", _("%(title)s (consultation %(id)s)", title=c.title, id=c.id))
            for c in consultations
        ],
        "agency_names": {a.id: labels.agency_name(a) for a in agencies},
        "crumbs": [(f"/console/grants?agency={agency_id}", labels.agency_name(agency))],
    }


def _chooser_context(session: Session, account: Account | None) -> dict[str, Any]:
    me = official(account)
    authorize(session, me, Permission.MANAGE_GRANTS)  # some administrator grant, anywhere
    return {"agency": None, "choices": reachable_agencies(session, me, Permission.MANAGE_GRANTS)}


def grant_input(values: dict[str, str]) -> dict[str, Any]:
    """The form's fields as GrantInput: one "scope" select names an agency or a consultation, and
    the end is a date, counted to the end of that day (UTC)."""
    kind, _colon, scope_id = values.get("scope", "").partition(":")
    ends_on = values.get("ends_on", "").strip()
    data: dict[str, Any] = {
        "account_id": values.get("account_id", ""),
        "role": values.get("role", ""),
        "agency_id": scope_id if kind == "agency" else None,
        "consultation_id": scope_id if kind == "consultation" else None,
        "reason": values.get("reason", ""),
    }
    if ends_on:
        try:
            data["ends_at"] = f"{date.fromisoformat(ends_on).isoformat()}T23:59:59+00:00"
        except ValueError:
            raise InvalidInput(
                _("Some fields need attention."), {"ends_on": _("Enter a date like 2027-06-30.")}
            ) from None
    return data


async def grants_page(request: Request) -> Response:
    if request.method != "POST":  # HEAD included: the CSRF guard lets it through, so it must not act
        agency_id = query_id(request.query_params.get("agency"))
        here = f"/console/grants?agency={agency_id}" if agency_id else "/console/grants"
        if agency_id is None:
            context = await load(request, _chooser_context, here)
        else:
            context = await load(request, lambda s, a: _agency_context(s, a, agency_id), here)
        if context is None:
            return login_redirect(here)
        return page(request, TEMPLATE, {"values": {}, "done": request.query_params.get("done"), **context})
    values = await form_data(request)
    agency_id = query_id(values.get("agency"))
    if agency_id is None:
        raise NotFound(_("Choose the agency whose grants you manage."))
    here = f"/console/grants?agency={agency_id}"

    def work(session: Session, account: Account | None) -> None:
        grants.grant_role(session, account, validate(GrantInput, grant_input(values)))

    return await submit(
        request,
        work,
        here=here,
        template=TEMPLATE,
        context=lambda: load(request, lambda s, a: _agency_context(s, a, agency_id), here),
        values=values,
        on_done=lambda _r: done(here, "granted"),
    )


async def revoke_page(request: Request) -> Response:
    grant_id = path_id(request, "grant_id")
    values = await form_data(request)
    agency_id = query_id(values.get("agency"))
    here = f"/console/grants?agency={agency_id}" if agency_id else "/console"

    field = f"revoke_reason_{grant_id}"  # one revoke form per grant: its errors are named apart

    def work(session: Session, account: Account | None) -> Target:
        try:
            data = validate(ReasonInput, {"reason": values.get("reason", "")})
        except InvalidInput as exc:
            raise InvalidInput(exc.message, {field: next(iter(exc.fields.values()), exc.message)}) from exc
        grant = grants.revoke_role(session, account, grant_id, data)
        return grants.grant_scope(session, grant)

    async def context() -> dict[str, Any] | None:
        if agency_id is None:
            return await load(request, _chooser_context, here)
        found = await load(request, lambda s, a: _agency_context(s, a, agency_id), here)
        return None if found is None else {**found, "revoking": grant_id}

    return await submit(
        request,
        work,
        here=here,
        template=TEMPLATE,
        context=context,
        values={field: values.get("reason", "")},
        on_done=lambda _target: done(here, "revoked"),
    )
