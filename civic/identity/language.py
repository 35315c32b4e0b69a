"""The language switcher: a plain link (works without JavaScript) that remembers the choice in a
cookie and, for a logged-in account, as its language for e-mails and notifications."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from civic.errors import NotFound
from civic.http.forms import safe_next
from civic.http.locale import LANGUAGE_COOKIE
from civic.i18n import LOCALES, _, set_locale
from civic.identity.web import transact

ONE_YEAR = 365 * 24 * 3600


async def switch_language(request: Request) -> Response:
    code = request.path_params["code"]
    if code not in LOCALES:
        raise NotFound(_("There is no %(code)s version of the site.", code=code[:10]))
    set_locale(code)

    def remember(_session, account) -> None:  # type: ignore[no-untyped-def]
        if account is not None and account.language != code:
            account.language = code

    await transact(request, remember)
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        code,
        max_age=ONE_YEAR,
        path="/",
        samesite="lax",
        secure=request.app.state.runtime.settings.cookies_secure,
    )
    return response


def routes() -> list[Route]:
    return [Route("/language/{code}", switch_language)]
