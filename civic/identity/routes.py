"""Identity's pages and API: register, log in and out, my account, the registrar's desk."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from civic.errors import CivicError, InvalidInput
from civic.http.api import Api, Call, validate
from civic.http.forms import form_data, form_failure, safe_next
from civic.http.templates import render
from civic.identity import actions, queries
from civic.identity.authorization import Permission, authorize, is_allowed
from civic.identity.models import Account
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
    if request.method == "GET":
        return render(request, "identity/register.html", {"values": {"kind": "citizen"}})
    values = await form_data(request)
    runtime = request.app.state.runtime
    client = request.client.host if request.client else "unknown"

    def work(session: Session, _account: Account | None) -> str:
        data = validate(Registration, values)
        account = actions.register(session, _passwords(runtime), runtime.limits, data, client)
        return start_session(
            session, runtime.settings, account, user_agent=request.headers.get("user-agent", "")
        )

    try:
        token = await transact(request, work)
    except CivicError as exc:
        failure = form_failure(exc, values)
        return render(request, "identity/register.html", failure, status=failure["status"])
    response = RedirectResponse("/account?welcome=1", status_code=303)
    set_session_cookie(response, runtime.settings, token)
    return response


async def login_page(request: Request) -> Response:
    await transact(request, lambda s, a: a)
    next_url = safe_next(request.query_params.get("next"), "/account")
    if request.method == "GET":
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
        failure = form_failure(exc, values)
        failure["next"] = next_url
        return render(request, "identity/login.html", failure, status=failure["status"])
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
    return render(request, "identity/account.html", context)


async def registrar_page(request: Request) -> Response:
    """The registrar's desk: find an e-citizen by e-mail and record that their identity was checked."""
    values = await form_data(request) if request.method == "POST" else dict(request.query_params)

    def work(session: Session, account: Account | None) -> dict[str, Any]:
        authorize(session, account, Permission.VERIFY_IDENTITY)
        context: dict[str, Any] = {"values": values, "found": None, "done": None}
        email = values.get("email", "").strip()
        if email:
            context["found"] = queries.account_by_email(session, email)
            if context["found"] is None:
                raise InvalidInput("No e-citizen has this e-mail address.", {"email": "No account found."})
        if request.method == "POST" and context["found"] is not None:
            data = validate(
                VerificationRequest,
                {
                    "level": values.get("level", ""),
                    "method": values.get("method", "in_person"),
                    "note": values.get("note", ""),
                },
            )
            context["done"] = actions.verify(session, account, context["found"].id, data)
        return context

    try:
        context = await transact(request, work)
    except InvalidInput as exc:
        failure = form_failure(exc, values)
        return render(request, "identity/registrar.html", {**failure, "found": None}, status=422)
    return render(request, "identity/registrar.html", context)


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
