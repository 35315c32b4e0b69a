"""The live dashboards: an agency's for its officials (`/moderation/dashboard?agency=ID`) and the
public one (`/dashboard`).

Both are whole pages that work without JavaScript (reload to see new numbers). With it,
web/static/dashboard.js refetches the page when an event arrives on the topics the page names (or,
on the public page, every few seconds: its numbers are aggregates no live topic carries) and
swaps the panels marked `data-live-panel`, so every number and line is rendered here, once.
"""

from __future__ import annotations

import time
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from civic.errors import InvalidInput
from civic.home import cached_daily_activity
from civic.i18n import _
from civic.identity.models import Account
from civic.identity.web import transact
from civic.leadership import dashboard
from civic.leadership.pages.common import _login, _page, optional_id
from civic.leadership.views import case_outs

PUBLIC_CACHE_SECONDS = 5.0  # every visitor polls the public page; they share one count per process
PUBLIC_POLL_SECONDS = 15


def chart(minutes: list[dashboard.Minute], height: int = 80, bar: int = 12) -> dict[str, Any]:
    """The events-per-minute chart as numbers an inline SVG can draw (no inline styles: CSP)."""
    peak = max((m.count for m in minutes), default=0)
    bars = []
    for i, m in enumerate(minutes):
        h = round(m.count / peak * (height - 4)) if peak else 0
        if m.count and h < 2:
            h = 2
        bars.append(
            {"x": i * bar, "y": height - h, "h": h, "count": m.count, "at": m.start.strftime("%H:%M")}
        )
    return {
        "bars": bars,
        "width": len(minutes) * bar,
        "height": height,
        "bar_width": bar - 2,
        "peak": peak,
        "total": sum(m.count for m in minutes),
        "minutes": len(minutes),
    }


async def agency_dashboard_page(request: Request) -> Response:
    raw = request.query_params.get("agency")
    agency_id = optional_id(raw)
    here = "/moderation/dashboard" + (f"?agency={raw}" if raw else "")

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        chosen = agency_id if agency_id is not None else account.agency_id
        if chosen is None:
            raise InvalidInput(
                _("Which agency?"), {"agency": _("Open the dashboard of an agency: ?agency=ID.")}
            )
        board = dashboard.agency_dashboard(session, account, chosen)
        return {
            "board": board,
            "agency": board.agency,
            "counters": board.counters,
            "chart": chart(board.minutes),
            "feed": board.feed,
            "queue": case_outs(session, board.queue) if board.can_moderate else [],
            "queue_total": board.queue_total,
            "live_topics": " ".join(board.topics),
        }

    context = await transact(request, load)
    if context is None:
        return _login(here)
    return _page(request, "leadership/dashboard.html", context, headers={"Cache-Control": "no-store"})


async def public_dashboard_page(request: Request) -> Response:
    state = request.app.state
    cached = getattr(state, "public_dashboard_cache", None)
    if cached is not None and time.monotonic() - cached[0] < PUBLIC_CACHE_SECONDS:
        board = cached[1]
    else:

        def load(session: Session, _account: Account | None) -> dashboard.PublicDashboard:
            return dashboard.public_dashboard(session)

        board = await transact(request, load)
        state.public_dashboard_cache = (time.monotonic(), board)
    return _page(
        request,
        "dashboard.html",
        {
            "counters": board.counters,
            "chart": chart(board.minutes),
            "poll_seconds": PUBLIC_POLL_SECONDS,
            "daily": await cached_daily_activity(request),
        },
        headers={"Cache-Control": "no-store"},
    )
