"""Trust's HTML pages: the citizen's data vault, consent centre, receipts and "who used my data";
officials' disclosure requests, reads through the gate and consented profiles (under /data/).

Like the other modules' pages: every page works without JavaScript; POST forms carry the CSRF
token and answer with a 303 and a `?done=` flag; a refusal shows the page again with the error
and the status the API would give.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from civic.trust.pages.citizens import (
    answer_request,
    consent_centre,
    data_access_page,
    give_consent,
    receipt_download,
    vault_page,
    withdraw,
)
from civic.trust.pages.officials import profile_page, read_page, requests_page


def routes() -> list[BaseRoute]:
    return [
        Route("/me/data", vault_page, methods=["GET", "POST"]),
        Route("/me/consents", consent_centre),
        Route("/me/consents/new", give_consent, methods=["POST"]),
        Route("/me/consents/requests/{request_id:int}", answer_request, methods=["POST"]),
        Route("/me/consents/{consent_id:int}/withdraw", withdraw, methods=["POST"]),
        Route("/me/consents/{consent_id:int}/receipt", receipt_download),
        Route("/me/data-access", data_access_page),
        Route("/data/requests", requests_page, methods=["GET", "POST"]),
        Route("/data/read", read_page, methods=["GET", "POST"]),
        Route("/data/consultations/{consultation_id:int}/profile", profile_page, methods=["GET", "POST"]),
    ]
