"""Domain errors: what went wrong, in words a user can act on.

Domain code raises these and never thinks about HTTP; `civic.http.errors` maps each kind to a
status code and to the one JSON error shape (or re-renders a form).
"""

from __future__ import annotations


class CivicError(Exception):
    """Base for every error a user caused and can fix."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(CivicError):
    """Input that fails validation; `fields` maps a field name to what is wrong with it."""

    code = "invalid_input"

    def __init__(self, message: str, fields: dict[str, str] | None = None, *, code: str | None = None):
        super().__init__(message, code=code)
        self.fields = fields or {}


class NotAuthenticated(CivicError):
    code = "not_authenticated"


class Forbidden(CivicError):
    code = "forbidden"


class NotFound(CivicError):
    code = "not_found"


class Conflict(CivicError):
    code = "conflict"


class RateLimited(CivicError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(CivicError):
    """A backing service (database, Redis) is down; the request may be retried."""

    code = "service_unavailable"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after
