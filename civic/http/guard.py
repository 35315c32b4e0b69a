"""Pure ASGI middleware guarding every request: body size, CSRF, security headers.

CSRF uses the signed double-submit pattern (OWASP): an HttpOnly random cookie, and a token that
is the HMAC of it under the secret key, sent back in a form field `csrf_token` or an
`X-CSRF-Token` header on every unsafe request. An attacker's page can make the browser send the
cookie but cannot read it or compute the token. The middleware reads the (bounded) body itself to
find the form field, then replays it to the app.

Pure ASGI rather than BaseHTTPMiddleware, which breaks context variables and streams badly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from urllib.parse import parse_qs

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civic.i18n import _, current_locale

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def csrf_token_for(secret_key: str, cookie_value: str) -> str:
    return hmac.new(secret_key.encode(), b"csrf:" + cookie_value.encode(), hashlib.sha256).hexdigest()


def security_headers(production: bool) -> list[tuple[bytes, bytes]]:
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if production:
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
    return headers


class RequestGuard:
    def __init__(self, app: ASGIApp, *, secret_key: str, secure_cookies: bool, max_body_bytes: int) -> None:
        self.app = app
        self.secret_key = secret_key
        self.secure = secure_cookies
        self.cookie_name = "__Host-civic_csrf" if secure_cookies else "civic_csrf"
        self.max_body = max_body_bytes
        self.headers = security_headers(secure_cookies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        cookie = _cookie(headers.get("cookie", ""), self.cookie_name)
        new_cookie = None
        if cookie is None:
            new_cookie = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = csrf_token_for(
            self.secret_key, cookie or new_cookie or ""
        )

        send = self._with_headers(send, new_cookie)
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return

        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body:
            await _reject(scope, send, 413, "too_large", _too_large(self.max_body))
            return
        body, too_large = await _read_body(receive, self.max_body)
        if too_large:
            await _reject(scope, send, 413, "too_large", _too_large(self.max_body))
            return
        presented = headers.get("x-csrf-token") or _form_token(headers.get("content-type", ""), body)
        expected = csrf_token_for(self.secret_key, cookie) if cookie else None
        if not expected or not presented or not _same(presented, expected):
            await _reject(
                scope,
                send,
                403,
                "csrf_failed",
                _(
                    "The form's security token is missing or out of date. "
                    "Go back, reload the page and try again."
                ),
            )
            return
        await self.app(scope, _replay(body, receive), send)

    def _with_headers(self, send: Send, new_cookie: str | None) -> Send:
        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in self.headers if k not in present)
                if new_cookie is not None:
                    attrs = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")
                    headers.append((b"set-cookie", f"{self.cookie_name}={new_cookie}{attrs}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        return wrapped


def _same(presented: str, expected: str) -> bool:
    # compare_digest refuses non-ASCII str with a TypeError: compare bytes, so a stray "é" in a
    # forged token is a 403 like any wrong token, not a 500.
    return hmac.compare_digest(presented.encode("utf-8", "surrogateescape"), expected.encode())


def _cookie(header: str, name: str) -> str | None:
    # Starlette's lenient parser, as browsers parse: http.cookies.SimpleCookie drops every cookie
    # after one it finds malformed (a space or JSON in some analytics cookie), which would leave
    # that visitor unable to submit any form.
    return cookie_parser(header).get(name) or None


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


def _form_token(content_type: str, body: bytes) -> str | None:
    if not content_type.startswith(FORM_TYPES):
        return None
    if content_type.startswith("multipart/form-data"):
        marker = b'name="csrf_token"'
        at = body.find(marker)
        if at < 0:
            return None
        value = body[at + len(marker) :].split(b"\r\n\r\n", 1)[-1].split(b"\r\n", 1)[0]
        return value.decode("latin-1").strip() or None
    values = parse_qs(body.decode("utf-8", errors="replace")).get("csrf_token")
    return values[0] if values else None


def _replay(body: bytes, original: Receive) -> Receive:
    """Hand the buffered body to the app once, then pass through (to hear a real disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


def _too_large(limit: int) -> str:
    return _("The request body is larger than %(limit)s bytes.", limit=limit)


async def _reject(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    path = scope.get("path", "")
    if path.startswith("/api/"):
        body = json.dumps({"error": {"code": code, "message": message, "fields": {}}}).encode()
        content_type = b"application/json"
    else:
        from html import escape

        # Runs before the app (and its templates): the locale is already set by LocaleMiddleware.
        title = escape(_("Request refused"))
        body = (
            f"<!doctype html><html lang={current_locale()}><meta charset=utf-8><title>{title}</title>"
            f"<main><h1>{title}</h1><p>{escape(message)}</p>"
            f'<p><a href="/">{escape(_("Home"))}</a></p></main>'
        ).encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
