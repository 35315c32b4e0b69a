"""HTML forms: read them, validate with the same pydantic models as the API, and re-show them
with the user's text and a message next to each field when something is wrong."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

from civic.errors import CivicError, InvalidInput
from civic.http.errors import status_for


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


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths, so a log-in link cannot bounce the user to another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
