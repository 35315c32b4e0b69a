"""Which language a request is answered in: the visitor's choice (a cookie set by the language
switcher), else the browser's Accept-Language, else English; set for the whole request so
templates, error messages and domain code all speak it.

Pure ASGI, outermost, so even the CSRF refusal and the 500 page come out in the right language.
"""

from __future__ import annotations

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civic.i18n import DEFAULT_LOCALE, LOCALES, set_locale

LANGUAGE_COOKIE = "civic_lang"


def accepted_languages(header: str) -> list[str]:
    """Accept-Language ranges, most wanted first (`az-AZ;q=0.9, en;q=0.8` → `["az", "en"]`)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    return [tag for _q, _p, tag in sorted(ranked)]


def negotiate(cookie_value: str | None, accept_language: str) -> str:
    if cookie_value in LOCALES:
        return cookie_value  # type: ignore[return-value]
    for tag in accepted_languages(accept_language):
        primary = tag.split("-")[0]
        if primary in LOCALES:
            return primary
    return DEFAULT_LOCALE


class LocaleMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        chosen = cookie_parser(headers.get("cookie", "")).get(LANGUAGE_COOKIE)
        locale = negotiate(chosen, headers.get("accept-language", ""))
        set_locale(locale)
        scope.setdefault("state", {})["locale"] = locale
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"content-language", locale.encode()), (b"vary", b"Accept-Language, Cookie")]
                present = {k.lower() for k, _ in message.get("headers", [])}
                message = {
                    **message,
                    "headers": [*message.get("headers", []), *(h for h in extra if h[0] not in present)],
                }
            await send(message)

        await self.app(scope, receive, with_language)
