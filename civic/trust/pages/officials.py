"""Officials' pages under /data/: disclosure requests (list and form), a read through the gate,
and a consultation's consented profile. Same domain functions, so the same grant checks, as the API.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from civic.errors import CivicError, NotAuthenticated
from civic.http.api import validate
from civic.identity.models import Account
from civic.identity.web import transact
from civic.participation.consultations import get_consultation
from civic.participation.pages.common import _done, _login, _page, _path_id, _refuse, _submit_form
from civic.trust import aggregates, gate, requests
from civic.trust.keys import trust_keys
from civic.trust.purposes import ATTRIBUTES, PURPOSES
from civic.trust.schemas import ReadInput, RequestInput
from civic.trust.views import profile_out, request_outs

REQUESTS = "/data/requests"


def _vocabulary() -> dict[str, Any]:
    return {"purposes": PURPOSES, "attributes": ATTRIBUTES}


def _optional(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


async def requests_page(request: Request) -> Response:
    template = "trust/requests.html"

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        rows = requests.agency_requests(session, account)
        return {"requests": request_outs(session, rows, with_answers=True), **_vocabulary()}

    context = await transact(request, load)
    if context is None:
        return _login(REQUESTS)
    if request.method != "POST":
        return _page(
            request, template, {**context, "values": {}, "done": request.query_params.get("done", "")}
        )
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "attributes")}
    chosen = [str(v) for v in form.getlist("attributes")]

    def work(session: Session, account: Account | None) -> object:
        data = validate(
            RequestInput,
            {
                "citizen_id": _optional(values.get("citizen_id")),
                "consultation_id": _optional(values.get("consultation_id")),
                "purpose": values.get("purpose", ""),
                "attributes": chosen,
                "retention_days": _optional(values.get("retention_days")),
                "message": values.get("message", ""),
            },
        )
        return requests.request_data(session, account, data)

    return await _submit_form(
        request, work, template=template, context={**context, "done": ""},
        values={**values, "attributes": ",".join(chosen)}, here=REQUESTS, done=lambda _: _done(REQUESTS, "requested"),
    )  # fmt: skip


async def read_page(request: Request) -> Response:
    """GET: the form; POST: one read through the gate. A refusal is shown with its reason (403) and
    stays on record: the transaction commits either way."""
    here, template = "/data/read", "trust/read.html"
    context: dict[str, Any] = {**_vocabulary(), "result": None}
    if request.method != "POST":
        account = await transact(request, lambda _s, a: a)
        if account is None:
            return _login(here)
        return _page(request, template, {**context, "values": dict(request.query_params)})
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    fernet = trust_keys(request.app.state.runtime.settings).vault

    def work(session: Session, account: Account | None) -> object:
        data = validate(
            ReadInput,
            {
                "citizen_id": _optional(values.get("citizen_id")),
                "attribute": values.get("attribute", ""),
                "purpose": values.get("purpose", ""),
                "served": values.get("served", ""),
            },
        )
        return gate.attempt(
            session, account, data.citizen_id, data.attribute, data.purpose, data.served, fernet=fernet
        )

    try:
        result = await transact(request, work)
    except NotAuthenticated:
        return _login(here)
    except CivicError as exc:
        return _refuse(request, template, exc, values, **context)
    if isinstance(result, gate.AccessRefused):
        return _refuse(request, template, result, values, **{**context, "refused": result})
    return _page(request, template, {**context, "values": values, "result": result})


async def profile_page(request: Request) -> Response:
    """GET: what computing the profile does; POST: compute it (each citizen's read is recorded)."""
    consultation_id = _path_id(request, "consultation_id")
    here, template = f"/data/consultations/{consultation_id}/profile", "trust/profile.html"
    settings = request.app.state.runtime.settings
    min_cell = getattr(settings, "aggregate_min_cell", aggregates.DEFAULT_MIN_CELL)

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        consultation = get_consultation(session, consultation_id)
        return {
            "consultation": consultation.model_dump(),
            "min_cell": min_cell,
            "profile": None,
            "action": here,
        }

    context = await transact(request, load)
    if context is None:
        return _login(here)
    if request.method != "POST":
        return _page(request, template, context)
    await request.form()
    fernet = trust_keys(settings).vault

    def work(session: Session, account: Account | None) -> object:
        result = aggregates.consultation_profile(session, fernet, account, consultation_id, min_cell=min_cell)
        return profile_out(result)

    try:
        result = await transact(request, work)
    except NotAuthenticated:
        return _login(here)
    except CivicError as exc:
        return _refuse(request, template, exc, {}, **context)
    return _page(request, template, {**context, "profile": result})
