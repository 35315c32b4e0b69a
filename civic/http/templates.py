"""Jinja2 pages from web/templates, with gettext hooks in place for the translations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

WEB_DIR = Path(__file__).resolve().parents[2] / "web"


def make_templates(web_dir: Path = WEB_DIR) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(web_dir / "templates")),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
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
    ctx = {
        "account": getattr(request.state, "account", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status, headers=headers)
