"""The consultation list and a consultation's page with its proposals."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from civic.identity.models import Account
from civic.identity.web import transact
from civic.participation import queries, rules
from civic.participation.api import visitor_seed
from civic.participation.markdown import render_markdown
from civic.participation.models import (
    Consultation,
    ConsultationStatus,
)
from civic.participation.pages.common import (
    LISTED_STATUSES,
    PHASES,
    PROPOSAL_SORTS,
    _choice,
    _number,
    _page,
    _page_count,
    _path_id,
    _schedule,
    _text,
)


async def consultations_page(request: Request) -> Response:
    params = request.query_params
    phase = _choice(params.get("phase"), PHASES)
    page = _number(params.get("page"))

    def work(session: Session, account: Account | None) -> tuple[list[Consultation], int]:
        return queries.list_consultations(session, account, page=page, phase=phase)

    items, total = await transact(request, work)

    def page_url(number: int) -> str:
        return "?" + urlencode({**({"phase": phase} if phase else {}), "page": number})

    return _page(
        request,
        "participation/consultations.html",
        {
            "consultations": [(c, _schedule(c)) for c in items],
            "total": total,
            "page": page,
            "pages": _page_count(total),
            "phase": phase or "",
            "phases": PHASES,
            "page_url": page_url,
        },
    )


async def consultation_page(request: Request) -> Response:
    consultation_id = _path_id(request, "consultation_id")
    params = request.query_params
    explicit_seed = params.get("seed", "")
    seed = (
        _number(explicit_seed, default=0, low=0, high=2**31)
        if explicit_seed.isdigit()
        else visitor_seed(getattr(request.state, "csrf_token", ""))
    )
    filters = queries.ProposalFilters(
        status=_choice(params.get("status"), LISTED_STATUSES),
        category=_text(params.get("category"), 80),
        district=_text(params.get("district"), 80),
        q=_text(params.get("q"), 200),
        sort=_choice(params.get("sort"), PROPOSAL_SORTS, "random"),  # type: ignore[arg-type]
        seed=seed,
        page=_number(params.get("page")),
    )

    def work(session: Session, account: Account | None) -> dict[str, Any]:
        consultation = queries.visible_consultation(session, account, consultation_id)
        return {
            "consultation": consultation,
            "proposals": queries.list_proposals(session, account, consultation, filters),
            "refusal": rules.eligibility_refusal(consultation, account) if account else None,
        }

    context = await transact(request, work)
    consultation: Consultation = context["consultation"]
    shown = {
        "status": filters.status or "",
        "category": filters.category or "",
        "district": filters.district or "",
        "q": filters.q or "",
        "sort": filters.sort,
    }
    kept = {k: v for k, v in shown.items() if v and not (k == "sort" and v == "random")}
    if explicit_seed.isdigit():
        kept["seed"] = str(seed)

    def page_url(number: int) -> str:
        return "?" + urlencode({**kept, "page": number}) + "#proposals"

    return _page(
        request,
        "participation/consultation.html",
        {
            **context,
            "body_html": render_markdown(consultation.body),
            "schedule": _schedule(consultation),
            "published": consultation.status == ConsultationStatus.PUBLISHED,
            "filters": shown,
            "filtered": bool(kept.keys() - {"seed", "sort"}),
            "page_url": page_url,
        },
    )


# ---- submitting and editing a proposal -----------------------------------------------------
