"""Participation's routes: the pages (pages.py), the JSON API (api.py) and the open-data downloads."""

from __future__ import annotations

import csv
import io

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from civic.errors import NotFound
from civic.i18n import _
from civic.identity.models import Account
from civic.identity.web import transact
from civic.participation import pages, queries
from civic.participation.api import api
from civic.participation.models import ConsultationStatus

OPEN_DATA_FIELDS = [
    "id",
    "title",
    "author",
    "category",
    "district",
    "status",
    "support_count",
    "comment_count",
    "threshold_reached",
    "submitted_at",
]


async def open_data(request: Request) -> Response:
    """A published consultation's proposals with their counts, as CSV or JSON, for anyone to reuse."""
    consultation_id = request.path_params["consultation_id"]
    fmt = request.path_params["format"]
    if fmt not in ("csv", "json"):
        raise NotFound(_("Open data comes as .csv or .json."))

    def work(session: Session, viewer: Account | None) -> list[dict[str, object]]:
        consultation = queries.visible_consultation(session, viewer, consultation_id)
        if consultation.status != ConsultationStatus.PUBLISHED:
            raise NotFound(_("There is no consultation %(id)s.", id=consultation_id))
        return queries.open_data_rows(session, consultation)

    rows = await transact(request, work)
    filename = f"consultation-{consultation_id}-proposals.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-cache"}
    if fmt == "json":
        return JSONResponse({"consultation_id": consultation_id, "proposals": rows}, headers=headers)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=OPEN_DATA_FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _cell(value: object) -> object:
    # Spreadsheets run cells starting with = + - @ as formulas (CSV injection); quote them.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def routes() -> list[BaseRoute]:
    return [
        *pages.routes(),
        Route("/consultations/{consultation_id:int}/proposals.{format:str}", open_data),
        *api.routes(transact),
    ]
