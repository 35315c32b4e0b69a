"""The citizen's pages: the data vault (/me/data), the consent centre (/me/consents) with its
answers, withdrawals, unprompted consents and receipts, and "who used my data" (/me/data-access).

Withdrawing is one button next to each consent on the same page where it was given (GDPR Art.
7(3)); answering a request is one form with a box per attribute asked for.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response

from civic.http.api import validate
from civic.http.forms import form_data
from civic.i18n import _
from civic.identity import labels
from civic.identity.models import Account, Agency
from civic.identity.web import transact
from civic.participation.pages.common import _done, _login, _page, _path_id, _submit_form
from civic.trust import consents, receipts, requests, tracker, vault
from civic.trust.aggregates import served_text
from civic.trust.keys import trust_keys
from civic.trust.purposes import ATTRIBUTES, PURPOSES
from civic.trust.schemas import AnswerInput, ProactiveInput, VaultInput
from civic.trust.views import access_outs, consent_outs, request_outs


def _keys(request: Request):  # type: ignore[no-untyped-def]
    return trust_keys(request.app.state.runtime.settings)


def _vocabulary() -> dict[str, Any]:
    return {"purposes": PURPOSES, "attributes": ATTRIBUTES}


# ---- the vault -------------------------------------------------------------------------------


async def vault_page(request: Request) -> Response:
    here, template = "/me/data", "trust/vault.html"
    fernet = _keys(request).vault

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        return {"values": vault.own_vault(session, fernet, account), **_vocabulary()}

    context = await transact(request, load)
    if context is None:
        return _login(here)
    if request.method != "POST":
        return _page(request, template, {**context, "done": request.query_params.get("done", "")})
    values = {k: v for k, v in (await form_data(request)).items() if k in ATTRIBUTES}

    def work(session: Session, account: Account | None) -> object:
        data = validate(VaultInput, values)
        return vault.update_vault(session, fernet, account, data.changes())

    return await _submit_form(
        request, work, template=template, context={**_vocabulary(), "done": ""}, values=values, here=here,
        done=lambda _: _done(here, "saved"),
    )  # fmt: skip


# ---- the consent centre ----------------------------------------------------------------------

CENTRE = "/me/consents"
CENTRE_TEMPLATE = "trust/consents.html"


def _centre(session: Session, account: Account | None) -> dict[str, Any] | None:
    if account is None:
        return None
    agencies = sorted(session.exec(select(Agency).order_by(col(Agency.name))).all(), key=labels.agency_name)
    return {
        "requests": request_outs(session, requests.open_requests(session, account)),
        "consents": consent_outs(session, consents.my_consents(session, account)),
        "agencies": [(str(a.id), labels.agency_name(a)) for a in agencies],
        **_vocabulary(),
    }


async def consent_centre(request: Request) -> Response:
    context = await transact(request, _centre)
    if context is None:
        return _login(CENTRE)
    return _page(
        request, CENTRE_TEMPLATE, {**context, "done": request.query_params.get("done", ""), "values": {}}
    )


async def _act(request: Request, work: Any, flag: str, values: dict[str, str], form_id: str) -> Response:
    """Run a consent-centre action; a refusal shows the centre again with the error at that form."""
    context = await transact(request, _centre)
    if context is None:
        return _login(CENTRE)
    return await _submit_form(
        request, work, template=CENTRE_TEMPLATE, context={**context, "done": "", "form_id": form_id},
        values=values, here=CENTRE, done=lambda _: _done(CENTRE, flag),
    )  # fmt: skip


async def answer_request(request: Request) -> Response:
    """One form per request: tick the attributes to grant and press "Give consent", or "Refuse"."""
    request_id = _path_id(request, "request_id")
    form = await request.form()
    chosen = [str(v) for v in form.getlist("attributes")]
    decision = str(form.get("decision", ""))

    def work(session: Session, account: Account | None) -> object:
        if decision == "refuse":
            return consents.refuse(session, account, request_id)
        data = validate(AnswerInput, {"attributes": chosen})
        return consents.grant(session, account, request_id, data)

    flag = "refused" if decision == "refuse" else "granted"
    return await _act(request, work, flag, {"attributes": ",".join(chosen)}, f"request-{request_id}")


async def withdraw(request: Request) -> Response:
    consent_id = _path_id(request, "consent_id")
    await request.form()

    def work(session: Session, account: Account | None) -> object:
        return consents.revoke(session, account, consent_id)

    return await _act(request, work, "withdrawn", {}, f"consent-{consent_id}")


async def give_consent(request: Request) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "attributes")}
    chosen = [str(v) for v in form.getlist("attributes")]

    def work(session: Session, account: Account | None) -> object:
        data = validate(
            ProactiveInput,
            {
                "agency_id": values.get("agency_id") or None,
                "purpose": values.get("purpose", ""),
                "attributes": chosen,
                "retention_days": values.get("retention_days") or None,
                "consultation_id": values.get("consultation_id") or None,
            },
        )
        return consents.grant_proactively(session, account, data)

    return await _act(request, work, "given", {**values, "attributes": ",".join(chosen)}, "new")


async def receipt_download(request: Request) -> Response:
    consent_id = _path_id(request, "consent_id")
    runtime = request.app.state.runtime
    signer = _keys(request).signer

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        return receipts.my_receipt(session, signer, account, consent_id, base_url=runtime.settings.base_url)

    body = await transact(request, load)
    if body is None:
        return _login(CENTRE)
    return Response(
        json.dumps(body, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="consent-{consent_id}-receipt.json"'},
    )


# ---- who used my data ------------------------------------------------------------------------


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def data_access_page(request: Request) -> Response:
    since, until = _day(request.query_params.get("since")), _day(request.query_params.get("until"))

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        if since and until and since > until:
            return {"items": [], "error": _("The period ends before it starts.")}
        items = access_outs(session, tracker.my_accesses(session, account, since, until))
        return {"items": [a.model_copy(update={"served": served_text(a.served)}) for a in items]}

    context = await transact(request, load)
    if context is None:
        return _login("/me/data-access")
    values = {"since": since.isoformat() if since else "", "until": until.isoformat() if until else ""}
    return _page(
        request,
        "trust/data_access.html",
        {**context, "values": values, "role_name": labels.role, **_vocabulary()},
    )
