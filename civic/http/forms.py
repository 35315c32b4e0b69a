"""HTML forms: read them, validate with the same pydantic models as the API, and re-show them
with the user's text and a message next to each field when something is wrong."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse

from civic.errors import CivicError, InvalidInput
from civic.http.errors import error_headers, status_for
from civic.http.templates import render


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}


def form_failure(
    exc: CivicError, values: dict[str, str], *, secret: tuple[str, ...] = ("password",)
) -> dict[str, Any]:
    """Template context for a form shown again: the message, per-field errors, the kept values."""
    return {
        "error": exc.message,
        "errors": exc.fields if isinstance(exc, InvalidInput) else {},
        "values": {k: v for k, v in values.items() if k not in secret},
        "status": status_for(exc),
    }


def render_form_failure(
    request: Request, name: str, exc: CivicError, values: dict[str, str], **context: Any
) -> HTMLResponse:
    """Re-show the form `name` after `exc`, with its status and, for a rate limit or an outage,
    the Retry-After header an API client would get."""
    failure = form_failure(exc, values)
    return render(request, name, {**failure, **context}, status=failure["status"], headers=error_headers(exc))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths, so a log-in link cannot bounce the user to another site.

    Browsers read a backslash as a slash and drop tabs and newlines from a URL, which would turn
    "/" + backslash + "evil.example" into "//evil.example", another host: so anything but a plain
    printable path is refused.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
