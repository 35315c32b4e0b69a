"""Trust's routes: the pages (pages/) and the JSON API (api.py)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from civic.identity.web import transact
from civic.trust import pages
from civic.trust.api import api

__all__ = ["api", "routes"]


def routes() -> list[BaseRoute]:
    return [*pages.routes(), *api.routes(transact)]
