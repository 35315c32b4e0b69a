"""Engagement's pages: my profile, a citizen's public profile, the leaderboards.

/me/profile       points history with reasons, badges with progress, level, what it unlocks and what
                  the next needs, and the form choosing what others see (POST, CSRF-checked)
/people/{id}      what the citizen chose to show: display name, level, points, and badges only if
                  they opted in (404 for officials and unknown ids)
/leaderboards     scope global / consultation / district, window all / month / week
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from civic.clock import utcnow
from civic.engagement import leaderboards, levels, queries
from civic.engagement.badges import Badges, load_badges
from civic.engagement.boards import attach
from civic.engagement.measures import measure
from civic.engagement.preferences import PreferencesInput, preferences_of, set_preferences
from civic.engagement.progress import badge_views
from civic.errors import CivicError, NotAuthenticated, NotFound
from civic.http.api import MAX_ID
from civic.http.forms import form_data, render_form_failure
from civic.http.templates import render
from civic.i18n import _
from civic.identity.models import Account, AccountKind
from civic.identity.standing import privileges, standing_level
from civic.identity.web import transact
from civic.participation.models import Consultation, ConsultationStatus

PER_PAGE = 50
_BADGES: list[Badges] = []


def _badges() -> Badges:
    """The badges file, read once per process (the handler set has already checked it at start)."""
    if not _BADGES:
        _BADGES.append(load_badges())
    return _BADGES[0]


def _attach(request: Request) -> None:
    runtime = request.app.state.runtime
    attach(runtime.db.engine, runtime.settings)


def _login(target: str) -> RedirectResponse:
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


# ---- my profile -------------------------------------------------------------------------------


def _profile_context(session: Session, account: Account) -> dict[str, Any]:
    assert account.id is not None
    activity = measure(session, account, utcnow())
    level = standing_level(session, account.id)
    return {
        "points": queries.balance(session, account.id),
        "history": queries.history(session, account.id, limit=50),
        "badges": badge_views(session, _badges(), account.id),
        "level": levels.describe(activity, level),
        "activity": activity,
        "preferences": preferences_of(session, account.id),
    }


async def my_profile(request: Request) -> Response:
    _attach(request)

    def work(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        if account.kind == AccountKind.OFFICIAL:
            return {"official": True}
        return _profile_context(session, account)

    context = await transact(request, work)
    if context is None:
        return _login("/me/profile")
    return render(
        request, "engagement/profile.html", {"saved": request.query_params.get("done") == "saved", **context}
    )


async def save_preferences(request: Request) -> Response:
    _attach(request)
    values = await form_data(request)
    data = PreferencesInput(
        show_badges=values.get("show_badges") == "1", on_leaderboards=values.get("on_leaderboards") == "1"
    )

    def work(session: Session, account: Account | None) -> None:
        set_preferences(session, account, data)

    try:
        await transact(request, work)
    except NotAuthenticated:
        return _login("/me/profile")
    except CivicError as exc:

        def again(session: Session, account: Account | None) -> dict[str, Any]:
            return _profile_context(session, account) if account is not None else {}

        context = await transact(request, again)
        return render_form_failure(request, "engagement/profile.html", exc, values, **context)
    return RedirectResponse("/me/profile?done=saved#preferences", status_code=303)


# ---- public profile ---------------------------------------------------------------------------


async def public_profile(request: Request) -> Response:
    _attach(request)
    person_id = int(request.path_params["account_id"])
    if not 0 < person_id <= MAX_ID:
        raise NotFound(_("There is nobody at this address."))

    def work(session: Session, _viewer: Account | None) -> dict[str, Any]:
        person = session.get(Account, person_id)
        if person is None or person.kind == AccountKind.OFFICIAL or not person.is_active:
            raise NotFound(_("There is nobody at this address."))
        choices = preferences_of(session, person_id)
        level = standing_level(session, person_id)
        board = leaderboards.board_key("global", "all")
        return {
            "person": person,
            "level": level,
            "level_name": privileges(level).local_name,
            "points": queries.balance(session, person_id),
            "place": leaderboards.place_of(session, board, person_id) if choices.on_leaderboards else None,
            "badges": badge_views(session, _badges(), person_id, earned_only=True)
            if choices.show_badges
            else None,
        }

    context = await transact(request, work)
    return render(request, "engagement/person.html", context)


# ---- leaderboards -----------------------------------------------------------------------------


def _choice(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else allowed[0]


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number <= MAX_ID else None


async def leaderboard(request: Request) -> Response:
    _attach(request)
    params = request.query_params
    scope = _choice(params.get("scope"), leaderboards.SCOPES)
    window = _choice(params.get("window"), leaderboards.WINDOWS)
    consultation_id = _int(params.get("consultation"))
    district = "".join(ch for ch in params.get("district", "") if ch.isprintable()).strip()[:80] or None
    page = min(max(_int(params.get("page")) or 1, 1), 10_000)

    def work(session: Session, viewer: Account | None) -> dict[str, Any]:
        published = col(Consultation.status) == ConsultationStatus.PUBLISHED
        consultations = list(
            session.exec(select(Consultation).where(published).order_by(col(Consultation.id).desc()))
        )
        districts = sorted({c.district for c in consultations if c.district})
        chosen = scope
        if scope == "consultation" and consultation_id not in {c.id for c in consultations}:
            chosen = "global" if consultation_id is None else "missing"
        if scope == "district" and district not in districts:
            chosen = "global" if district is None else "missing"
        if chosen == "missing":
            raise NotFound(_("There is no such leaderboard: pick a published consultation or a district."))
        board = leaderboards.board_key(chosen, window, consultation_id=consultation_id, district=district)
        mine = None
        if viewer is not None and viewer.id is not None:
            mine = leaderboards.place_of(session, board, viewer.id)
        total = leaderboards.size(session, board)
        return {
            "scope": chosen,
            "window": window,
            "consultation_id": consultation_id,
            "district": district,
            "consultations": consultations,
            "districts": districts,
            "places": leaderboards.top(session, board, PER_PAGE, (page - 1) * PER_PAGE),
            "mine": mine,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
        }

    context = await transact(request, work)
    query = {k: v for k, v in params.items() if k != "page"}
    return render(request, "engagement/leaderboards.html", {**context, "query": urlencode(query)})


def routes() -> list[BaseRoute]:
    return [
        Route("/me/profile", my_profile, methods=["GET"]),
        Route("/me/profile/preferences", save_preferences, methods=["POST"]),
        Route("/people/{account_id:int}", public_profile, methods=["GET"]),
        Route("/leaderboards", leaderboard, methods=["GET"]),
    ]
