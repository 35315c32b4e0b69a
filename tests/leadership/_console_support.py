"""Helpers for the console tests (grants, console pages, the authorization matrix).

`with_leadership(app)` adds the console's routes, and leadership's API, to an app that does not
route them yet (until civic/app.py lists them; a no-op afterwards); `all_operations()` is every
API operation the app serves, those included.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from civic.app import api_operations
from civic.http.api import Operation
from civic.identity.web import transact
from civic.leadership import api as leadership_api
from civic.leadership import console


def _routed(app: Starlette, path: str) -> bool:
    return any(getattr(route, "path", None) == path for route in app.router.routes)


def with_leadership(app: Starlette) -> Starlette:
    if not _routed(app, "/console"):
        app.router.routes.extend(console.routes())
    if not _routed(app, "/api/moderation/cases"):
        app.router.routes.extend(leadership_api.api.routes(transact))
    return app


def all_operations() -> list[Operation]:
    operations = list(api_operations())
    known = {(op.method, op.path) for op in operations}
    extra = [*console.api.operations, *leadership_api.api.operations]
    return operations + [op for op in extra if (op.method, op.path) not in known]


def form_fields(html: str) -> dict[str, Any]:
    """The hidden inputs of a page (csrf_token first of all)."""
    import re

    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
