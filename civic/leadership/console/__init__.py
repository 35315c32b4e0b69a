"""The officials' console: their home, the administrator's grants, the convener's consultations.

Pages work without JavaScript (POST forms with the CSRF token, 303 back with a `?done=` flag; a
refusal re-renders the form with the message and the status). `api` holds the grants' JSON
endpoints (tag "leadership"); the app lists `api.operations` in its OpenAPI document.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from civic.identity.web import transact
from civic.leadership.console import consultation_pages as cp
from civic.leadership.console.api import api
from civic.leadership.console.grant_pages import grants_page, revoke_page
from civic.leadership.console.home import console_home

__all__ = ["api", "routes"]


def routes() -> list[BaseRoute]:
    return [
        Route("/console", console_home),
        Route("/console/grants", grants_page, methods=["GET", "POST"]),
        Route("/console/grants/{grant_id:int}/revoke", revoke_page, methods=["POST"]),
        Route("/console/consultations", cp.consultations_list),
        Route("/console/consultations/new", cp.new_consultation, methods=["GET", "POST"]),
        Route(
            "/console/consultations/{consultation_id:int}/edit", cp.edit_consultation, methods=["GET", "POST"]
        ),
        Route("/console/consultations/{consultation_id:int}/publish", cp.publish, methods=["POST"]),
        Route("/console/consultations/{consultation_id:int}/phase", cp.change_phase, methods=["POST"]),
        Route("/console/consultations/{consultation_id:int}/close", cp.close, methods=["POST"]),
        *api.routes(transact),
    ]
