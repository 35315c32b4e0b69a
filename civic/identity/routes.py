"""Identity's pages and API: register, log in and out, my account, the registrar's desk."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from civic.errors import CivicError, Conflict, InvalidInput, NotFound
from civic.http.api import Api, Call, validate
from civic.http.forms import form_data, render_form_failure, safe_next
from civic.http.templates import render
from civic.i18n import _
from civic.identity import actions, labels, queries
from civic.identity.authorization import Permission, authorize, is_allowed
from civic.identity.models import Account, AccountKind
from civic.identity.passwords import Passwords
from civic.identity.schemas import (
    AccountOut,
    Credentials,
    CsrfOut,
    Registration,
    SessionOut,
    VerificationOut,
    VerificationRequest,
)
from civic.identity.sessions import end_all_sessions, end_session, start_session
from civic.identity.web import (
    clear_session_cookie,
    session_cookie_name,
    session_token,
    set_session_cookie,
    transact,
)

api = Api(tag="identity")


def _passwords(runtime: Any) -> Passwords:
    return runtime.passwords


def account_out(account: Account) -> AccountOut:
    assert account.id is not None
    return AccountOut(
        id=account.id,
        email=account.email,
        display_name=account.display_name,
        kind=account.kind,
        verification_level=account.verification_level,
        agency_id=account.agency_id,
        created_at=account.created_at,
    )


# ---- pages ---------------------------------------------------------------------------------


async def register_page(request: Request) -> Response:
    await transact(request, lambda s, a: a)
    # Only POST acts: HEAD (which Starlette adds to GET) passes the CSRF guard as a safe method,
    # so treating "not GET" as a submission would let a HEAD with a body register without a token.
    if request.method != "POST":
        return render(request, "identity/register.html", {"values": {"kind": "citizen"}})
    values = await form_data(request)
    runtime = request.app.state.runtime
    client = request.client.host if request.client else "unknown"
    old_token = session_token(request)

    def work(session: Session, _account: Account | None) -> str:
        data = validate(Registration, values)
        account = actions.register(session, _passwords(runtime), runtime.limits, data, client)
        return start_session(
            session,
            runtime.settings,
            account,
            user_agent=request.headers.get("user-agent", ""),
            replacing=old_token,
        )

    try:
        token = await transact(request, work)
    except CivicError as exc:
        return render_form_failure(request, "identity/register.html", exc, values)
    response = RedirectResponse("/account?welcome=1", status_code=303)
    set_session_cookie(response, runtime.settings, token)
    return response


async def login_page(request: Request) -> Response:
    await transact(request, lambda s, a: a)
    next_url = safe_next(request.query_params.get("next"), "/account")
    if request.method != "POST":  # HEAD included, which the CSRF guard lets through
        return render(request, "identity/login.html", {"values": {}, "next": next_url})
    values = await form_data(request)
    next_url = safe_next(values.get("next"), "/account")
    runtime = request.app.state.runtime
    client = request.client.host if request.client else "unknown"
    old_token = session_token(request)

    def work(session: Session, _account: Account | None) -> str:
        data = validate(
            Credentials, {"email": values.get("email", ""), "password": values.get("password", "")}
        )
        account = actions.authenticate(
            session, _passwords(runtime), runtime.limits, data.email, data.password, client
        )
        return start_session(
            session,
            runtime.settings,
            account,
            user_agent=request.headers.get("user-agent", ""),
            replacing=old_token,
        )

    try:
        token = await transact(request, work)
    except CivicError as exc:
        return render_form_failure(request, "identity/login.html", exc, values, next=next_url)
    response = RedirectResponse(next_url, status_code=303)
    set_session_cookie(response, runtime.settings, token)
    return response


async def logout(request: Request) -> Response:
    runtime = request.app.state.runtime
    token = session_token(request)
    everywhere = (await form_data(request)).get("everywhere") == "1"

    def work(session: Session, account: Account | None) -> None:
        if account is not None and everywhere:
            assert account.id is not None
            end_all_sessions(session, account.id)
        elif token:
            end_session(session, token)

    await transact(request, work)
    response = RedirectResponse("/?logged_out=1", status_code=303)
    clear_session_cookie(response, runtime.settings)
    return response


async def account_page(request: Request) -> Response:
    def work(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        assert account.id is not None
        return {
            "history": queries.verification_history(session, account.id),
            "sessions": queries.session_count(session, account.id),
            "grants": queries.grants_with_agencies(session, account.id),
            "is_registrar": is_allowed(session, account, Permission.VERIFY_IDENTITY),
        }

    context = await transact(request, work)
    if context is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    context["welcome"] = request.query_params.get("welcome") == "1"
    return render(request, "identity/account.html", {**context, "labels": labels})


def _find_e_citizen(session: Session, actor: Account | None, email: str) -> Account | None:
    """The e-citizen with this address, for a registrar; officials are not verified here."""
    authorize(session, actor, Permission.VERIFY_IDENTITY)
    found = queries.account_by_email(session, email) if email.strip() else None
    return found if found is not None and found.kind != AccountKind.OFFICIAL else None


def _verification_form(values: dict[str, str]) -> dict[str, str]:
    level = values.get("level", "")
    method = values.get("method") or ("esignature" if level == "esignature" else "in_person")
    return {
        "level": level,
        "method": method,
        "note": values.get("note", ""),
        "district": values.get("district", "").strip() or None,
    }


async def registrar_page(request: Request) -> Response:
    """The registrar's desk: find an e-citizen by e-mail and record that their identity was checked.

    A refusal the registrar can act on (no such e-citizen, already at that level) re-shows the
    desk with the message and the e-citizen's current state; one they cannot (not logged in, no
    registrar grant) is the ordinary 401/403 page.
    """
    values = await form_data(request) if request.method == "POST" else dict(request.query_params)
    email = values.get("email", "")

    def work(session: Session, account: Account | None) -> dict[str, Any]:
        found = _find_e_citizen(session, account, email)
        if email.strip() and found is None:
            raise InvalidInput(_("No e-citizen has this e-mail address."), {"email": _("No account found.")})
        done = None
        if request.method == "POST" and found is not None:
            data = validate(VerificationRequest, _verification_form(values))
            assert found.id is not None
            done = actions.verify(session, account, found.id, data)
        return {"values": values, "found": found, "done": done}

    try:
        context = await transact(request, work)
    except (InvalidInput, Conflict, NotFound) as exc:
        found = await transact(request, lambda session, account: _find_e_citizen(session, account, email))
        return render_form_failure(
            request, "identity/registrar.html", exc, values, found=found, done=None, labels=labels
        )
    return render(request, "identity/registrar.html", {**context, "labels": labels})


# ---- API -----------------------------------------------------------------------------------


@api.endpoint("GET", "/api/csrf", summary="Get the CSRF token to send as X-CSRF-Token", response=CsrfOut)
def get_csrf(call: Call) -> CsrfOut:
    return CsrfOut(csrf_token=call.csrf_token)


@api.endpoint(
    "POST",
    "/api/accounts",
    summary="Register an e-citizen account",
    body=Registration,
    response=AccountOut,
    status=201,
    errors=(409, 429),
)
def create_account(call: Call, data: Registration) -> AccountOut:
    account = actions.register(call.session, _passwords(call.runtime), call.runtime.limits, data, call.client)
    return account_out(account)


@api.endpoint(
    "POST",
    "/api/session",
    summary="Log in; sets the session cookie",
    body=Credentials,
    response=SessionOut,
    errors=(401, 429),
)
def create_session(call: Call, data: Credentials) -> SessionOut:
    runtime = call.runtime
    account = actions.authenticate(
        call.session, _passwords(runtime), runtime.limits, data.email, data.password, call.client
    )
    old = call.cookies.get(session_cookie_name(runtime.settings))
    token = start_session(call.session, runtime.settings, account, user_agent=call.user_agent, replacing=old)
    call.on_response.append(lambda response: set_session_cookie(response, runtime.settings, token))
    return SessionOut(account=account_out(account), csrf_token=call.csrf_token)


@api.endpoint("DELETE", "/api/session", summary="Log out this session", status=204)
def delete_session(call: Call) -> None:
    token = call.cookies.get(session_cookie_name(call.runtime.settings))
    if token:
        end_session(call.session, token)
    call.on_response.append(lambda response: clear_session_cookie(response, call.runtime.settings))


@api.endpoint("GET", "/api/me", summary="The logged-in account", response=AccountOut, login=True)
def get_me(call: Call) -> AccountOut:
    return account_out(call.account)


@api.endpoint(
    "POST",
    "/api/accounts/{account_id:int}/verification",
    summary="Record a verified identity (registrar)",
    body=VerificationRequest,
    response=VerificationOut,
    status=201,
    errors=(404, 409),
    login=True,
)
def verify_account(call: Call, data: VerificationRequest) -> VerificationOut:
    record = actions.verify(call.session, call.account, call.path["account_id"], data)
    assert record.created_at is not None
    return VerificationOut(
        account_id=record.account_id,
        level=record.level,
        method=record.method,
        verified_by_id=record.verified_by_id,
        created_at=record.created_at,
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/register", register_page, methods=["GET", "POST"]),
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/account", account_page),
        Route("/registrar", registrar_page, methods=["GET", "POST"]),
        *api.routes(transact),
    ]
