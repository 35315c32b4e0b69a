"""One error shape for the API, `{"error": {"code", "message", "fields"}}`, and calm error pages.

Bad input is always a 4xx with a message a person can act on; a 500 means a bug of ours.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from civic.errors import (
    CivicError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ServiceUnavailable,
)
from civic.http.guard import security_headers
from civic.i18n import N_, _

log = logging.getLogger(__name__)

STATUS: dict[type[CivicError], int] = {
    InvalidInput: 422,
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
    ServiceUnavailable: 503,
}

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported",
}


def status_for(exc: CivicError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]  # type: ignore[index]
    return 400


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def error_headers(exc: CivicError) -> dict[str, str]:
    """Retry-After for the errors that end by waiting; the HTML forms send it too."""
    if isinstance(exc, RateLimited | ServiceUnavailable):
        return {"Retry-After": str(exc.retry_after)}
    return {}


async def civic_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CivicError)
    status = status_for(exc)
    fields = exc.fields if isinstance(exc, InvalidInput) else {}
    if wants_json(request):
        return JSONResponse(
            error_body(exc.code, exc.message, fields), status_code=status, headers=error_headers(exc)
        )
    return await _page(request, status, exc.message, error_headers(exc))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = _http_message(exc)
    if wants_json(request):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)
    return await _page(request, exc.status_code, message, exc.headers or {})


async def server_error(request: Request, exc: Exception) -> Response:
    """The 500 answer. Starlette sends it from its outermost middleware, outside RequestGuard, so
    it carries the security headers itself."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = _("Something went wrong on our side. It has been logged; please try again.")
    headers = _guard_headers(request)
    if wants_json(request):
        return JSONResponse(error_body("server_error", message), status_code=500, headers=headers)
    return await _page(request, 500, message, headers)


def _http_message(exc: HTTPException) -> str:
    """Starlette's own statuses in the reader's language; the English stays Starlette's wording."""
    if exc.status_code == 404:
        return _("There is nothing at this address.")
    if not isinstance(exc.detail, str):
        return _("The request could not be handled.")
    standard = {
        400: N_("Bad Request"),
        405: N_("Method Not Allowed"),
        413: N_("Request Entity Too Large"),
        415: N_("Unsupported Media Type"),
    }
    if exc.detail == standard.get(exc.status_code):
        return _(exc.detail)
    return exc.detail


def _guard_headers(request: Request) -> dict[str, str]:
    runtime = getattr(request.app.state, "runtime", None)
    production = bool(runtime and runtime.settings.cookies_secure)
    return {name.decode(): value.decode() for name, value in security_headers(production)}


async def _page(request: Request, status: int, message: str, headers: dict[str, str]) -> Response:
    from civic.http.templates import render

    return render(
        request, "errors/error.html", {"status": status, "message": message}, status=status, headers=headers
    )


EXCEPTION_HANDLERS = {CivicError: civic_error, HTTPException: http_error, Exception: server_error}
