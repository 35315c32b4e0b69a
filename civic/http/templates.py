"""Jinja2 pages from web/templates, in the request's language (gettext from `civic.i18n`), with
dates and numbers written the way that language writes them."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from civic.i18n import LOCALES, current_locale
from civic.i18n.catalogs import translations
from civic.i18n.formatting import format_date, format_datetime, format_number, format_share, iso

WEB_DIR = Path(__file__).resolve().parents[2] / "web"


def _gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def stored_text(value: str | None) -> str:
    """Text kept in the database that may be one of ours (an automatic moderation reason):
    translated when the catalog knows it, shown as written otherwise (a moderator's own words)."""
    return _gettext(value) if value else (value or "")


def make_templates(web_dir: Path = WEB_DIR) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(web_dir / "templates")),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Jinja formats `%(name)s` itself (newstyle) and escapes the translation like any text.
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        date=format_date,
        datetime=format_datetime,
        number=format_number,
        share=format_share,
        iso=iso,
        stored_text=stored_text,
    )
    env.globals.update(languages=LOCALES, current_locale=current_locale)
    return Jinja2Templates(env=env)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    ctx = {
        "account": getattr(request.state, "account", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "lang": current_locale(),
        "here_quoted": quote(here, safe=""),
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status, headers=headers)
