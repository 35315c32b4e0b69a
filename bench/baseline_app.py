"""The HTTP write baseline: the least a Starlette + SQLAlchemy endpoint can do per write.

    BENCH_BASELINE_DB=postgresql+psycopg://… uvicorn bench.baseline_app:app --workers 2

`PUT /api/proposals/{id}/support` inserts one row and commits, in a sync endpoint Starlette runs
in its thread pool, with the same engine options as civic's (`civic.db.make_engine`: a pool of 10
plus 10 overflow, pre-ping). No session lookup, no CSRF check, no event: the distance between this
and civic's endpoint is what civic's pipeline costs per write.
"""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TABLE = "bench_baseline_support"


def create_table(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (id BIGSERIAL PRIMARY KEY, proposal_id INTEGER NOT NULL, "
                "session TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        )
    engine.dispose()


def build_app(url: str) -> Starlette:
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)

    def support(request: Request) -> JSONResponse:
        proposal_id = request.path_params["proposal_id"]
        with engine.begin() as conn:
            conn.execute(
                text(f"INSERT INTO {TABLE} (proposal_id, session) VALUES (:p, :s)"),
                {"p": proposal_id, "s": request.cookies.get("civic_session", "")},
            )
        return JSONResponse({"proposal_id": proposal_id, "supported": True})

    def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/api/proposals/{proposal_id:int}/support", support, methods=["PUT"]),
            Route("/healthz", healthz),
        ]
    )


def app_from_env() -> Starlette:
    return build_app(os.environ["BENCH_BASELINE_DB"])


app = app_from_env() if "BENCH_BASELINE_DB" in os.environ else None
