"""create_app(settings): the one place where routes, middleware and lifespan are wired."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

import civic
from civic import home as home_page
from civic.engagement import pages as engagement_pages
from civic.engagement.texts import badge_titles
from civic.http.api import Operation, openapi_document
from civic.http.errors import EXCEPTION_HANDLERS
from civic.http.guard import RequestGuard
from civic.http.locale import LocaleMiddleware
from civic.http.templates import WEB_DIR, make_templates, render
from civic.identity import language as identity_language
from civic.identity import routes as identity_routes
from civic.identity.web import session_cookie_name
from civic.leadership import console as leadership_console
from civic.leadership import routes as leadership_routes
from civic.participation import routes as participation_routes
from civic.realtime import endpoint as realtime_endpoint
from civic.realtime.config import HubConfig
from civic.realtime.hub import Hub
from civic.runtime import Runtime, build_runtime
from civic.settings import Settings, load_settings
from civic.trust import routes as trust_routes


def api_operations() -> list[Operation]:
    return [
        *identity_routes.api.operations,
        *participation_routes.api.operations,
        *leadership_routes.api.operations,
        *leadership_console.api.operations,
        *trust_routes.api.operations,
    ]


async def home(request: Request) -> Response:
    """What a newcomer can do here, the consultations open now and today's public activity; live
    with JavaScript (dashboard.js refetches it on the open consultations' events), whole without."""
    snapshot = await home_page.cached_snapshot(request)  # also finds who is logged in
    context = {
        "logged_out": request.query_params.get("logged_out") == "1",
        "home": snapshot,
        "poll_seconds": home_page.POLL_SECONDS,
    }
    return render(request, "home.html", context, headers={"Cache-Control": "no-store"})


async def healthz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    database = await run_in_threadpool(runtime.db.ping)
    body: dict[str, Any] = {
        "status": "ok",
        "mode": runtime.settings.mode.value,
        "database": "ok" if database else "unreachable",
    }
    healthy = database
    if runtime.settings.redis_url:
        redis_ok = await run_in_threadpool(runtime.backend.ping)
        body["redis"] = "ok" if redis_ok else "unreachable"
        healthy = healthy and redis_ok
    else:
        body["redis"] = "not configured (embedded mode)"
    if not healthy:
        body["status"] = "degraded"
    return JSONResponse(body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"})


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Starlette:
    """Build the web app. A runtime passed in (tests) stays owned by the caller."""
    owns_runtime = runtime is None
    runtime = runtime or build_runtime(settings or load_settings())
    settings = runtime.settings
    document = openapi_document(
        api_operations(),
        title="civic API",
        version=civic.__version__,
        session_cookie=session_cookie_name(settings),
    )

    async def openapi(_request: Request) -> Response:
        return JSONResponse(document)

    hub = Hub(runtime.backend, HubConfig.from_settings(settings))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.relays_in_web:
            runtime.start_relay()
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()
            if owns_runtime:
                runtime.close()
            elif settings.relays_in_web:
                runtime.stop_relay()

    routes: list[BaseRoute] = [
        Route("/", home),
        Route("/healthz", healthz),
        Route("/openapi.json", openapi),
        Mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static"),
        *identity_routes.routes(),
        *identity_language.routes(),
        *participation_routes.routes(),
        *leadership_routes.routes(),
        *leadership_console.routes(),
        *trust_routes.routes(),
        *realtime_endpoint.routes(),
        *engagement_pages.routes(),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(LocaleMiddleware),
            Middleware(
                RequestGuard,
                secret_key=runtime.secret_key,
                secure_cookies=settings.cookies_secure,
                max_body_bytes=settings.max_body_bytes,
            ),
        ],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.hub = hub
    app.state.templates = make_templates()
    app.state.templates.env.globals["badge_titles"] = badge_titles
    return app


def app_from_env() -> Starlette:
    """uvicorn factory: `uvicorn --factory civic.app:app_from_env` (what `civic serve` runs)."""
    return create_app(load_settings())
