"""Identity at the HTTP edge: the session cookie, and running a request's unit of work with the
logged-in account resolved inside it (one database round trip to a worker thread per request)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from civic.db import Database
from civic.errors import ServiceUnavailable
from civic.identity.models import Account
from civic.identity.sessions import end_session, resolve_session
from civic.settings import Settings

T = TypeVar("T")


def session_cookie_name(settings: Settings) -> str:
    # __Host- makes the browser refuse the cookie unless Secure, Path=/ and no Domain: it cannot be
    # planted by a sibling subdomain.
    return "__Host-civic_session" if settings.cookies_secure else "civic_session"


def session_token(request: Request) -> str | None:
    return request.cookies.get(session_cookie_name(request.app.state.runtime.settings)) or None


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        session_cookie_name(settings),
        token,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookies_secure,
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        session_cookie_name(settings), path="/", httponly=True, samesite="lax", secure=settings.cookies_secure
    )


async def transact(request: Request, work: Callable[[Session, Account | None], T]) -> T:
    """Run `work(session, account)` in one transaction on a worker thread; commit if it returns.

    An idle or expired session is deleted in that transaction; when `work` then fails (often
    with a 401 because nobody is logged in any more), the deletion is redone on its own so the
    rolled-back transaction does not leave the dead session in the table.
    """
    runtime = request.app.state.runtime
    token = session_token(request)

    def run() -> Any:
        dead = False
        try:
            with runtime.db.transaction() as session:
                account = resolve_session(session, runtime.settings, token) if token else None
                dead = token is not None and account is None
                # A detached copy for the templates: a failed `work` rolls the transaction back,
                # which expires every row it loaded, and the error page still shows who is logged in.
                request.state.account = Account.model_validate(account.model_dump()) if account else None
                return work(session, account)
        except Exception:
            if dead and token:
                _forget_session(runtime.db, token)
            raise

    return await run_in_threadpool(run)


def _forget_session(db: Database, token: str) -> None:
    # Best effort: when the database is down the original error is the one worth reporting.
    with contextlib.suppress(ServiceUnavailable), db.transaction() as session:
        end_session(session, token)


async def current_account(request: Request) -> Account | None:
    """The logged-in account for pages that only read."""
    return await transact(request, lambda _session, account: account)
