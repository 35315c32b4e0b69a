"""Answering a proposal (responders), the public transparency page, and an official's own scorecard."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response

from civic.errors import Forbidden
from civic.http.api import validate
from civic.http.forms import form_data
from civic.i18n import _
from civic.identity.authorization import Permission, authorize
from civic.identity.models import Account, AccountKind, Agency
from civic.identity.web import transact
from civic.leadership import answers, queries, scorecard
from civic.leadership.pages.common import _done, _login, _number, _page, _path_id, _submit_form, optional_id
from civic.leadership.schemas import AnswerInput
from civic.leadership.scorecard_chart import answer_bars
from civic.leadership.views import action_outs, answer_out
from civic.participation import queries as participation_queries
from civic.participation.consultations import consultation_target
from civic.participation.models import ProposalAnswer

ANSWER_STATUSES = ("under_review", "accepted", "partially_accepted", "rejected", "implemented")


async def answer_page(request: Request) -> Response:
    """GET: the proposal, its answer history and the form; POST: answer (or change the status)."""
    proposal_id = _path_id(request, "proposal_id")
    here = f"/proposals/{proposal_id}/answer"
    template = "leadership/answer.html"

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        proposal, consultation = participation_queries.proposal_detail(session, account, proposal_id)
        authorize(session, account, Permission.ANSWER_PROPOSALS, consultation_target(consultation))
        history = participation_queries.answer_history(session, proposal_id)
        return {
            "proposal": proposal,
            "consultation": consultation,
            "answers": [answer_out(a) for a in history],
            "statuses": ANSWER_STATUSES,
            "action": here,
        }

    context = await transact(request, load)
    if context is None:
        return _login(here)
    if request.method != "POST":
        current = context["answers"][-1].status if context["answers"] else ""
        return _page(request, template, {**context, "values": {"status": current}})
    values = await form_data(request)

    def work(session: Session, account: Account | None) -> ProposalAnswer:
        data = validate(AnswerInput, {"status": values.get("status", ""), "text": values.get("text", "")})
        return answers.answer_proposal(session, account, proposal_id, data)

    return await _submit_form(
        request,
        work,
        template=template,
        context=context,
        values=values,
        here=here,
        done=lambda _: _done(f"/proposals/{proposal_id}", "answered", "#answers"),
    )


async def transparency_page(request: Request) -> Response:
    """Public: every agency's scorecard and the log of officials' public acts."""
    agency_id = optional_id(request.query_params.get("agency"))
    page = _number(request.query_params.get("page"))

    def load(session: Session, _account: Account | None) -> dict[str, Any]:
        cards = scorecard.agency_scorecards(session)
        log = queries.public_log(session, agency_id=agency_id, page=page)
        agencies = session.exec(select(Agency).order_by(col(Agency.name))).all()
        return {
            "cards": cards,
            "answer_bars": answer_bars(cards),
            "log": action_outs(log.items),
            "total": log.total,
            "page": log.page,
            "pages": log.pages,
            "agencies": agencies,
            "agency_id": agency_id,
            "page_url": lambda n: (
                "/transparency?" + urlencode({**({"agency": agency_id} if agency_id else {}), "page": n})
            ),
        }

    context = await transact(request, load)
    return _page(request, "leadership/transparency.html", context)


async def my_scorecard_page(request: Request) -> Response:
    """The logged-in official's own figures, and their agency's beside them."""

    def load(session: Session, account: Account | None) -> dict[str, Any] | None:
        if account is None:
            return None
        if account.kind != AccountKind.OFFICIAL or account.id is None:
            raise Forbidden(_("Only officials have a scorecard."))
        own = scorecard.official_scorecard(session, account.id)
        agency = scorecard.agency_scorecard(session, account.agency_id) if account.agency_id else None
        return {"card": own, "agency_card": agency}

    context = await transact(request, load)
    if context is None:
        return _login("/console/scorecard")
    return _page(request, "leadership/scorecard.html", context)
