"""The official's console home: their active grants and what each lets them do."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from civic.identity.authorization import Permission, is_allowed
from civic.identity.models import Account
from civic.leadership.console.common import load, login_redirect, official, page
from civic.leadership.console.queries import held_grants, reachable_agencies, reachable_consultations


def home_context(session: Session, account: Account | None) -> dict[str, Any]:
    me = official(account)
    return {
        "held": held_grants(session, me),
        "can_moderate": is_allowed(session, me, Permission.MODERATE),
        "can_verify": is_allowed(session, me, Permission.VERIFY_IDENTITY),
        "administered": reachable_agencies(session, me, Permission.MANAGE_GRANTS),
        "convened": reachable_consultations(session, me, Permission.MANAGE_CONSULTATIONS),
        "answerable": reachable_consultations(session, me, Permission.ANSWER_PROPOSALS),
        # Scorecard hook: the scorecard work puts the official's own figures here (and fills the
        # template's `scorecard` block); None hides the section.
        "scorecard": None,
    }


async def console_home(request: Request) -> Response:
    context = await load(request, home_context, "/console")
    if context is None:
        return login_redirect("/console")
    return page(request, "console/home.html", context)
