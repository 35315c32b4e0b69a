"""The convener's consultations: the list (drafts included), the create and edit forms, and the
lifecycle buttons (publish, move phase, close). Every write is participation's action; these
pages only turn forms into its inputs."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from civic.http.api import validate
from civic.http.forms import form_data
from civic.i18n import _
from civic.identity.authorization import Permission, authorize
from civic.identity.models import Account
from civic.identity.standing import privileges
from civic.leadership.console import labels
from civic.leadership.console.common import done, load, login_redirect, official, page, path_id, submit
from civic.leadership.console.queries import reachable_agencies, reachable_consultations
from civic.participation import consultations
from civic.participation.models import PHASE_ORDER, Consultation
from civic.participation.schemas import MIN_LEVELS, ConsultationEdit, ConsultationInput, PhaseChange

FORM = "console/consultation_form.html"
PHASES = tuple(p.value for p in PHASE_ORDER)
SCHEDULED = tuple(p for p in PHASES if p != "closed")


def level_choices() -> list[tuple[str, str]]:
    """The proposer levels a convener may ask for, as the form's options."""
    named = [
        (str(n), _("Level %(num)s (%(name)s) and above", num=n, name=privileges(n).local_name))
        for n in MIN_LEVELS[1:]
    ]
    return [("0", _("Anyone who may take part")), *named]


def phase_choices() -> list[tuple[str, str]]:
    return [(p, labels.phase(p)) for p in PHASES]


def consultation_fields(values: dict[str, str]) -> dict[str, Any]:
    """The form's fields as ConsultationInput/ConsultationEdit takes them (without the agency)."""
    schedule: dict[str, dict[str, str]] = {}
    for phase in SCHEDULED:
        dates = {
            end: values[f"{phase}_{end}"].strip()
            for end in ("starts", "ends")
            if values.get(f"{phase}_{end}", "").strip()
        }
        if dates:
            schedule[phase] = dates
    return {
        "title": values.get("title", ""),
        "summary": values.get("summary", ""),
        "body": values.get("body", ""),
        "district": values.get("district", "").strip() or None,
        "cover_url": values.get("cover_url", "").strip() or None,
        "cover_alt": values.get("cover_alt", ""),
        "language": values.get("language") or "en",
        "categories": [c.strip() for c in values.get("categories", "").split(",") if c.strip()],
        "schedule": schedule,
        "min_verification": values.get("min_verification") or "unverified",
        "allow_organisations": values.get("allow_organisations") == "1",
        "allow_foreign_residents": values.get("allow_foreign_residents") == "1",
        "min_level": values.get("min_level", "").strip() or "0",
        "moderation": values.get("moderation") or "post",
        "support_threshold": values.get("support_threshold", "").strip(),
    }


def form_values(c: Consultation) -> dict[str, str]:
    """A consultation as its edit form shows it."""
    values = {
        "title": c.title,
        "summary": c.summary,
        "body": c.body,
        "district": c.district or "",
        "cover_url": c.cover_url or "",
        "cover_alt": c.cover_alt,
        "language": c.language,
        "categories": ", ".join(c.categories),
        "min_verification": c.min_verification,
        "allow_organisations": "1" if c.allow_organisations else "",
        "allow_foreign_residents": "1" if c.allow_foreign_residents else "",
        "min_level": str(c.min_level),
        "moderation": c.moderation,
        "support_threshold": str(c.support_threshold),
        "agency_id": str(c.agency_id),
    }
    for phase, dates in c.schedule.items():
        for end, day in dates.items():
            values[f"{phase}_{end}"] = day
    return values


def _list_context(session: Session, account: Account | None) -> dict[str, Any]:
    me = official(account)
    authorize(session, me, Permission.MANAGE_CONSULTATIONS)  # some convener grant, anywhere
    return {
        "consultations": reachable_consultations(session, me, Permission.MANAGE_CONSULTATIONS),
        "agencies": reachable_agencies(session, me, Permission.MANAGE_CONSULTATIONS),
        "crumbs": [("/console/consultations", _("Consultations"))],
    }


def _new_context(session: Session, account: Account | None) -> dict[str, Any]:
    context = _list_context(session, account)
    return {
        "mode": "new",
        "action": "/console/consultations/new",
        "agencies": [(str(a.id), labels.agency_name(a)) for a in context["agencies"]],
        "scheduled": SCHEDULED,
        "levels": level_choices(),
        "crumbs": context["crumbs"],
    }


def _edit_context(session: Session, account: Account | None, consultation_id: int) -> dict[str, Any]:
    consultation = consultations.check_manage(session, official(account), consultation_id)
    return {
        "mode": "edit",
        "action": f"/console/consultations/{consultation_id}/edit",
        "consultation": consultation,
        "phases": phase_choices(),
        "scheduled": SCHEDULED,
        "levels": level_choices(),
        "crumbs": [("/console/consultations", _("Consultations"))],
    }


async def consultations_list(request: Request) -> Response:
    here = "/console/consultations"
    context = await load(request, _list_context, here)
    if context is None:
        return login_redirect(here)
    return page(request, "console/consultations.html", {**context, "done": request.query_params.get("done")})


async def new_consultation(request: Request) -> Response:
    here = "/console/consultations/new"
    if request.method != "POST":  # HEAD included: the CSRF guard lets it through, so it must not act
        context = await load(request, _new_context, here)
        if context is None:
            return login_redirect(here)
        defaults = {"allow_organisations": "1", "allow_foreign_residents": "1", "support_threshold": "100"}
        return page(request, FORM, {**context, "values": defaults})
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> int:
        data = validate(
            ConsultationInput, {**consultation_fields(values), "agency_id": values.get("agency_id", "")}
        )
        consultation = consultations.create_consultation(session, account, data)
        assert consultation.id is not None
        return consultation.id

    return await submit(
        request,
        work,
        here=here,
        template=FORM,
        context=lambda: load(request, _new_context, here),
        values=values,
        on_done=lambda cid: done(f"/console/consultations/{cid}/edit", "created"),
    )


async def edit_consultation(request: Request) -> Response:
    consultation_id = path_id(request, "consultation_id")
    here = f"/console/consultations/{consultation_id}/edit"

    def edit_context(session: Session, account: Account | None) -> dict[str, Any]:
        return _edit_context(session, account, consultation_id)

    if request.method != "POST":
        context = await load(request, edit_context, here)
        if context is None:
            return login_redirect(here)
        values = form_values(context["consultation"])
        return page(request, FORM, {**context, "values": values, "done": request.query_params.get("done")})
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> None:
        data = validate(ConsultationEdit, consultation_fields(values))
        consultations.edit_consultation(session, account, consultation_id, data)

    return await submit(
        request,
        work,
        here=here,
        template=FORM,
        context=lambda: load(request, edit_context, here),
        values=values,
        on_done=lambda _r: done(here, "saved"),
    )


async def _lifecycle(request: Request, act: str) -> Response:
    """Publish, change phase or close, from the buttons on the edit page; a refusal shows the edit
    page again with the message (and the consultation's current state)."""
    consultation_id = path_id(request, "consultation_id")
    here = f"/console/consultations/{consultation_id}/edit"
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> None:
        if act == "publish":
            consultations.publish_consultation(session, account, consultation_id)
        elif act == "close":
            consultations.close_consultation(session, account, consultation_id)
        else:
            data = validate(PhaseChange, {"phase": values.get("phase", "")})
            consultations.change_phase(session, account, consultation_id, data)

    async def context() -> dict[str, Any] | None:
        found = await load(request, lambda s, a: _edit_context(s, a, consultation_id), here)
        if found is None:
            return None
        return {**found, "values": form_values(found["consultation"])}

    return await submit(
        request,
        work,
        here=here,
        template=FORM,
        context=context,
        values=values,
        on_done=lambda _r: done(here, {"publish": "published", "close": "closed"}.get(act, "phase")),
    )


async def publish(request: Request) -> Response:
    return await _lifecycle(request, "publish")


async def change_phase(request: Request) -> Response:
    return await _lifecycle(request, "phase")


async def close(request: Request) -> Response:
    return await _lifecycle(request, "close")
