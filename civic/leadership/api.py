"""Leadership's JSON API: reports, the moderation queue and its decisions, appeals, blocks, official
answers, the inbox, scorecards and the public action log. Thin glue from validated input to the
domain functions; the response models are in `views`.

One departure from the usual error shape: when two moderators decide the same case, the loser's
409 also carries `error.current`, the case as the winner left it, so a client can show it without
asking again.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from civic.errors import Forbidden, NotAuthenticated
from civic.http.api import MAX_ID, Api, Call
from civic.http.errors import error_body
from civic.i18n import _
from civic.identity.models import AccountKind
from civic.leadership import answers, appeals, blocks, moderation, notifications, queries, reports, scorecard
from civic.leadership.schemas import (
    AnswerInput,
    AppealDecisionInput,
    AppealInput,
    BlockInput,
    BulkDecisionInput,
    DecisionInput,
    ItemDecisionInput,
    ReasonInput,
    ReportInput,
)
from civic.leadership.views import (
    ActionList,
    AnswerList,
    AnswerOut,
    AppealList,
    AppealOut,
    BlockOut,
    BulkOutcomeOut,
    BulkResult,
    CaseDetail,
    CaseList,
    CaseOut,
    MarkReadInput,
    MarkReadOut,
    NotificationList,
    ReportOut,
    ScorecardList,
    ScorecardOut,
    action_outs,
    answer_out,
    appeal_out,
    block_out,
    case_detail,
    case_out,
    case_outs,
    notification_out,
    report_out,
    scorecard_out,
)
from civic.participation import queries as participation_queries

api = Api(tag="leadership")

Id = Field(ge=1, le=MAX_ID)


class ReportRequest(ReportInput):
    item_kind: Literal["proposal", "comment"]
    item_id: int = Id


class CaseQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agency_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    consultation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    state: Literal["open", "decided", "all"] = "open"
    origin: Literal["pre_moderation", "reports", "block", "direct"] | None = None
    item_kind: Literal["proposal", "comment"] | None = None
    page: int = Field(default=1, ge=1, le=100_000)


class AgencyQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agency_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(default=1, ge=1, le=100_000)
    unread: bool = False


class LogQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agency_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    page: int = Field(default=1, ge=1, le=100_000)
    private: bool = Field(default=False, description="Officials: include the private acts they may see.")


# ---- reports and the queue -------------------------------------------------------------------


@api.endpoint(
    "POST",
    "/api/reports",
    summary="Report a proposal or comment (e-citizens)",
    body=ReportRequest,
    response=ReportOut,
    status=201,
    errors=(403, 404, 409),
    login=True,
)
def file_report(call: Call, data: ReportRequest) -> ReportOut:
    reason = ReportInput(reason=data.reason, note=data.note)
    return report_out(reports.file_report(call.session, call.account, data.item_kind, data.item_id, reason))


@api.endpoint(
    "GET",
    "/api/moderation/cases",
    summary="The moderation queue (moderators)",
    query=CaseQuery,
    response=CaseList,
    errors=(404,),
    login=True,
)
def list_cases(call: Call) -> CaseList:
    q: CaseQuery = call.query
    page = moderation.queue(
        call.session,
        call.account,
        agency_id=q.agency_id,
        state=q.state,
        origin=q.origin,
        item_kind=q.item_kind,
        consultation_id=q.consultation_id,
        page=q.page,
    )
    return CaseList(
        items=case_outs(call.session, page.items), total=page.total, page=page.page, pages=page.pages
    )


@api.endpoint(
    "GET",
    "/api/moderation/cases/{case_id:int}",
    summary="One case with the item and its reports (reporters are never named)",
    response=CaseDetail,
    errors=(404,),
    login=True,
)
def get_case(call: Call) -> CaseDetail:
    return case_detail(call.session, moderation.get_case(call.session, call.account, call.path["case_id"]))


@api.endpoint(
    "POST",
    "/api/moderation/cases/{case_id:int}/decision",
    summary="Decide a case; a 409 carries the case as decided in error.current",
    body=DecisionInput,
    response=CaseOut,
    errors=(404, 409),
    login=True,
)
def decide_case(call: Call, data: DecisionInput) -> CaseOut | JSONResponse:
    try:
        with call.session.begin_nested():  # the loser writes nothing, yet answers with the winner's case
            case = moderation.decide(call.session, call.account, call.path["case_id"], data)
    except moderation.CaseAlreadyDecided as exc:
        body = error_body(exc.code, exc.message)
        body["error"]["current"] = case_out(call.session, exc.case).model_dump(mode="json")
        return JSONResponse(body, status_code=409)
    return case_out(call.session, case)


@api.endpoint(
    "POST",
    "/api/moderation/decisions",
    summary="Decide many cases with one reason; each succeeds or fails on its own",
    body=BulkDecisionInput,
    response=BulkResult,
    login=True,
)
def decide_cases(call: Call, data: BulkDecisionInput) -> BulkResult:
    outcomes = moderation.decide_bulk(call.session, call.account, data)
    return BulkResult(
        items=[
            BulkOutcomeOut(
                case_id=o.case_id,
                ok=o.ok,
                error=o.error,
                code=o.code,
                case=case_out(call.session, o.case) if o.case is not None else None,
            )
            for o in outcomes
        ]
    )


@api.endpoint(
    "POST",
    "/api/moderation/items",
    summary="Moderate a proposal or comment directly, from its page",
    body=ItemDecisionInput,
    response=CaseOut,
    errors=(404, 409),
    login=True,
)
def moderate_item(call: Call, data: ItemDecisionInput) -> CaseOut:
    return case_out(call.session, moderation.moderate_item(call.session, call.account, data))


# ---- appeals and blocks ----------------------------------------------------------------------


@api.endpoint(
    "POST",
    "/api/moderation/cases/{case_id:int}/appeal",
    summary="Appeal a decision on what you wrote (once per decision)",
    body=AppealInput,
    response=AppealOut,
    status=201,
    errors=(404, 409),
    login=True,
)
def file_appeal(call: Call, data: AppealInput) -> AppealOut:
    return appeal_out(appeals.file_appeal(call.session, call.account, call.path["case_id"], data))


@api.endpoint(
    "GET",
    "/api/moderation/appeals",
    summary="Open appeals you may decide (moderators)",
    query=AgencyQuery,
    response=AppealList,
    errors=(404,),
    login=True,
)
def list_appeals(call: Call) -> AppealList:
    items = appeals.open_appeals(call.session, call.account, call.query.agency_id)
    return AppealList(items=[appeal_out(a) for a in items])


@api.endpoint(
    "POST",
    "/api/moderation/appeals/{appeal_id:int}/decision",
    summary="Decide an appeal (a different moderator than the one who decided the case)",
    body=AppealDecisionInput,
    response=AppealOut,
    errors=(404, 409),
    login=True,
)
def decide_appeal(call: Call, data: AppealDecisionInput) -> AppealOut:
    return appeal_out(appeals.decide_appeal(call.session, call.account, call.path["appeal_id"], data))


@api.endpoint(
    "POST",
    "/api/accounts/{account_id:int}/block",
    summary="Block an account in an agency: hides everything it wrote there",
    body=BlockInput,
    response=BlockOut,
    status=201,
    errors=(404, 409),
    login=True,
)
def block_account(call: Call, data: BlockInput) -> BlockOut:
    return block_out(blocks.block_account(call.session, call.account, call.path["account_id"], data))


@api.endpoint(
    "POST",
    "/api/accounts/{account_id:int}/unblock",
    summary="Lift a block: restores exactly what it hid",
    body=ReasonInput,
    response=BlockOut,
    errors=(404, 409),
    login=True,
)
def unblock_account(call: Call, data: ReasonInput) -> BlockOut:
    return block_out(blocks.unblock_account(call.session, call.account, call.path["account_id"], data))


# ---- answers -----------------------------------------------------------------------------------


@api.endpoint(
    "POST",
    "/api/proposals/{proposal_id:int}/answers",
    summary="Answer a proposal or change its status (responders)",
    body=AnswerInput,
    response=AnswerOut,
    status=201,
    errors=(404, 409),
    login=True,
)
def answer_proposal(call: Call, data: AnswerInput) -> AnswerOut:
    return answer_out(answers.answer_proposal(call.session, call.account, call.path["proposal_id"], data))


@api.endpoint(
    "GET",
    "/api/proposals/{proposal_id:int}/answers",
    summary="A proposal's answer history, oldest first",
    response=AnswerList,
    errors=(404,),
)
def list_answers(call: Call) -> AnswerList:
    proposal, _ = participation_queries.visible_proposal(call.session, call.account, call.path["proposal_id"])
    assert proposal.id is not None
    history = participation_queries.answer_history(call.session, proposal.id)
    return AnswerList(current_status=proposal.answer_status, items=[answer_out(a) for a in history])


# ---- the inbox -----------------------------------------------------------------------------------


@api.endpoint(
    "GET",
    "/api/notifications",
    summary="Your notifications, newest first",
    query=InboxQuery,
    response=NotificationList,
    login=True,
)
def list_notifications(call: Call) -> NotificationList:
    q: InboxQuery = call.query
    page = notifications.inbox(call.session, call.account, page=q.page, unread_only=q.unread)
    return NotificationList(
        items=[notification_out(n) for n in page.items],
        total=page.total,
        unread=page.unread,
        page=page.page,
        pages=page.pages,
    )


@api.endpoint(
    "POST",
    "/api/notifications/read",
    summary="Mark notifications read (all of them when no ids are given)",
    body=MarkReadInput,
    response=MarkReadOut,
    login=True,
)
def read_notifications(call: Call, data: MarkReadInput) -> MarkReadOut:
    marked = notifications.mark_read(call.session, call.account, data.ids)
    return MarkReadOut(marked=marked, unread=notifications.unread_count(call.session, call.account.id))


# ---- transparency ------------------------------------------------------------------------------


@api.endpoint(
    "GET", "/api/scorecards", summary="Every agency's responsiveness scorecard", response=ScorecardList
)
def list_scorecards(call: Call) -> ScorecardList:
    return ScorecardList(items=[scorecard_out(c) for c in scorecard.agency_scorecards(call.session)])


@api.endpoint(
    "GET", "/api/scorecards/me", summary="Your own scorecard (officials)", response=ScorecardOut, login=True
)
def my_scorecard(call: Call) -> ScorecardOut:
    return scorecard_out(own_scorecard(call))


def own_scorecard(call: Call) -> scorecard.Scorecard:
    if call.account is None:
        raise NotAuthenticated(_("Log in to see your scorecard."))
    if call.account.kind != AccountKind.OFFICIAL:
        raise Forbidden(_("Only officials have a scorecard."))
    return scorecard.official_scorecard(call.session, call.account.id)


@api.endpoint(
    "GET",
    "/api/action-log",
    summary="The action log: public acts; officials may add the private acts of their agencies",
    query=LogQuery,
    response=ActionList,
    errors=(401,),
)
def action_log(call: Call) -> ActionList:
    q: LogQuery = call.query
    if q.private:
        page = queries.official_log(call.session, call.account, agency_id=q.agency_id, page=q.page)
    else:
        page = queries.public_log(call.session, agency_id=q.agency_id, page=q.page)
    return ActionList(items=action_outs(page.items), total=page.total, page=page.page, pages=page.pages)
