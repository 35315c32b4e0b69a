"""Trust's JSON API: the vocabulary, the citizen's vault, consent centre, receipts and data tracker,
officials' disclosure requests, reads through the gate and consented aggregates.

A refused gate read answers 403 with the reason (`error.reason`) *after* its transaction commits,
so the refusal stays on record (gate.attempt); every other error rolls the transaction back.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

from civic.http.api import Api, Call
from civic.http.errors import error_body
from civic.trust import aggregates, consents, gate, receipts, requests, tracker, vault
from civic.trust.keys import trust_keys
from civic.trust.ledger_views import consistency_out, inclusion_out
from civic.trust.schemas import AnswerInput, ProactiveInput, ReadInput, RequestInput, VaultInput
from civic.trust.treeheads import sign_tree_head
from civic.trust.views import (
    AccessList,
    ConsentCentreOut,
    ConsentOut,
    ProfileOut,
    ReadOut,
    ReceiptOut,
    RequestOut,
    VaultOut,
    VocabularyOut,
    access_outs,
    consent_outs,
    profile_out,
    request_outs,
    vocabulary,
)

api = Api(tag="trust")


class PeriodQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    since: date | None = Field(default=None, description="First day (UTC), inclusive.")
    until: date | None = Field(default=None, description="Last day (UTC), inclusive.")


class AgencyQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agency_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class RequestList(BaseModel):
    items: list[RequestOut]


def _keys(call: Call):  # type: ignore[no-untyped-def]
    return trust_keys(call.runtime.settings)


@api.endpoint(
    "GET",
    "/api/trust/vocabulary",
    summary="Purposes and attributes consent is asked in",
    response=VocabularyOut,
)
def get_vocabulary(call: Call) -> VocabularyOut:
    return vocabulary()


# ---- the citizen -----------------------------------------------------------------------------


@api.endpoint(
    "GET",
    "/api/me/vault",
    summary="My data vault (only I see it in the clear)",
    response=VaultOut,
    login=True,
)
def get_vault(call: Call) -> VaultOut:
    return VaultOut(values=vault.own_vault(call.session, _keys(call).vault, call.account))


@api.endpoint(
    "PUT",
    "/api/me/vault",
    summary="Change my data vault (empty removes)",
    body=VaultInput,
    response=VaultOut,
    login=True,
)
def put_vault(call: Call, data: VaultInput) -> VaultOut:
    return VaultOut(values=vault.update_vault(call.session, _keys(call).vault, call.account, data.changes()))


@api.endpoint(
    "GET", "/api/me/consents", summary="My consent centre: open requests and consents", response=ConsentCentreOut,
    errors=(404,), login=True,
)  # fmt: skip
def get_consents(call: Call) -> ConsentCentreOut:
    return ConsentCentreOut(
        requests=request_outs(call.session, requests.open_requests(call.session, call.account)),
        consents=consent_outs(call.session, consents.my_consents(call.session, call.account)),
    )


@api.endpoint(
    "POST", "/api/me/consents", summary="Give a consent unprompted", body=ProactiveInput, response=ConsentOut,
    status=201, errors=(404,), login=True,
)  # fmt: skip
def give_consent(call: Call, data: ProactiveInput) -> ConsentOut:
    return consent_outs(call.session, [consents.grant_proactively(call.session, call.account, data)])[0]


@api.endpoint(
    "POST", "/api/me/requests/{request_id:int}/consent", summary="Grant a request (all or some attributes)",
    body=AnswerInput, response=ConsentOut, status=201, errors=(404, 409), login=True,
)  # fmt: skip
def grant_request(call: Call, data: AnswerInput) -> ConsentOut:
    consent = consents.grant(call.session, call.account, call.path["request_id"], data)
    return consent_outs(call.session, [consent])[0]


@api.endpoint(
    "POST", "/api/me/requests/{request_id:int}/refusal", summary="Refuse a request", response=ConsentOut,
    status=201, errors=(404, 409), login=True,
)  # fmt: skip
def refuse_request(call: Call) -> ConsentOut:
    return consent_outs(call.session, [consents.refuse(call.session, call.account, call.path["request_id"])])[
        0
    ]


@api.endpoint(
    "POST", "/api/me/consents/{consent_id:int}/withdrawal", summary="Withdraw a consent (one action)",
    response=ConsentOut, errors=(404, 409), login=True,
)  # fmt: skip
def withdraw(call: Call) -> ConsentOut:
    return consent_outs(call.session, [consents.revoke(call.session, call.account, call.path["consent_id"])])[
        0
    ]


@api.endpoint(
    "GET", "/api/me/consents/{consent_id:int}/receipt",
    summary="The consent's receipt (ISO/IEC TS 27560 / Kantara fields, ledger proof checkable offline)",
    response=ReceiptOut, errors=(404, 409), login=True,
)  # fmt: skip
def get_receipt(call: Call) -> JSONResponse:
    consent_id = call.path["consent_id"]
    body = receipts.my_receipt(
        call.session, _keys(call).signer, call.account, consent_id, base_url=call.runtime.settings.base_url
    )
    return JSONResponse(
        body, headers={"Content-Disposition": f'attachment; filename="consent-{consent_id}-receipt.json"'}
    )


@api.endpoint(
    "GET", "/api/me/data-access", summary="Who used my data: every read, newest first", query=PeriodQuery,
    response=AccessList, errors=(404,), login=True,
)  # fmt: skip
def data_access(call: Call) -> AccessList:
    q: PeriodQuery = call.query
    rows = tracker.my_accesses(call.session, call.account, q.since, q.until)
    return AccessList(items=access_outs(call.session, rows))


# ---- officials -------------------------------------------------------------------------------


@api.endpoint(
    "POST", "/api/data-requests", summary="Ask citizens for data (conveners, analysts)", body=RequestInput,
    response=RequestOut, status=201, errors=(403, 404), login=True,
)  # fmt: skip
def create_request(call: Call, data: RequestInput) -> RequestOut:
    return request_outs(call.session, [requests.request_data(call.session, call.account, data)])[0]


@api.endpoint(
    "GET", "/api/data-requests", summary="An agency's disclosure requests and their answers", query=AgencyQuery,
    response=RequestList, errors=(403,), login=True,
)  # fmt: skip
def list_requests(call: Call) -> RequestList:
    rows = requests.agency_requests(call.session, call.account, call.query.agency_id)
    return RequestList(items=request_outs(call.session, rows, with_answers=True))


@api.endpoint(
    "POST", "/api/data/reads", summary="Read a citizen's attribute through the consent gate", body=ReadInput,
    response=ReadOut, errors=(403, 404), login=True,
)  # fmt: skip
def read(call: Call, data: ReadInput) -> ReadOut | JSONResponse:
    result = gate.attempt(
        call.session, call.account, data.citizen_id, data.attribute, data.purpose, data.served,
        fernet=_keys(call).vault, agency_id=data.agency_id,
    )  # fmt: skip
    if isinstance(result, gate.AccessRefused):
        body = error_body(result.code, result.message)
        body["error"]["reason"] = result.reason
        return JSONResponse(body, status_code=403)
    return ReadOut(citizen_id=data.citizen_id, attribute=data.attribute, purpose=data.purpose, value=result)


@api.endpoint(
    "POST", "/api/data/consultations/{consultation_id:int}/profile",
    summary="A consultation's consented demographic profile (analysts; small cells suppressed)",
    response=ProfileOut, errors=(403, 404), login=True,
)  # fmt: skip
def profile(call: Call) -> ProfileOut:
    settings = call.runtime.settings
    result = aggregates.consultation_profile(
        call.session, _keys(call).vault, call.account, call.path["consultation_id"],
        min_cell=getattr(settings, "aggregate_min_cell", aggregates.DEFAULT_MIN_CELL),
    )  # fmt: skip
    return profile_out(result)


# ---- the ledger's public proofs (anyone may check the log) --------------------------------------


class TreeHeadOut(BaseModel):
    origin: str
    size: int
    root: str = Field(description="Merkle tree hash (RFC 9162), base64")
    timestamp: int = Field(description="Milliseconds since the epoch, UTC")
    time: str
    signature: str = Field(description="Ed25519 over the documented checkpoint note, base64")
    public_key: str


class InclusionOut(BaseModel):
    index: int
    size: int
    leaf_hash: str
    root: str
    inclusion_proof: list[str]
    tree_head: TreeHeadOut | None = None


class ConsistencyOut(BaseModel):
    old: int
    new: int
    old_root: str
    new_root: str
    consistency_proof: list[str]


class InclusionQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    index: int = Field(ge=0, le=2**62, description="The entry's 0-based index")
    size: int | None = Field(
        default=None, ge=1, le=2**62, description="Tree size (default: the latest head's)"
    )


class ConsistencyQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    old: int = Field(ge=1, le=2**62)
    new: int = Field(ge=1, le=2**62)


@api.endpoint(
    "GET",
    "/api/ledger/head",
    summary="The consent ledger's current signed tree head (signed now if entries were appended)",
    response=TreeHeadOut,
)
def get_tree_head(call: Call) -> TreeHeadOut:
    return TreeHeadOut.model_validate(sign_tree_head(call.session, _keys(call).signer).to_json())


@api.endpoint(
    "GET",
    "/api/ledger/inclusion",
    summary="RFC 9162 inclusion proof of one ledger entry",
    query=InclusionQuery,
    response=InclusionOut,
)
def get_inclusion_proof(call: Call) -> InclusionOut:
    q = call.query
    return InclusionOut.model_validate(inclusion_out(call.session, q.index, q.size))


@api.endpoint(
    "GET",
    "/api/ledger/consistency",
    summary="RFC 9162 consistency proof between two tree sizes",
    query=ConsistencyQuery,
    response=ConsistencyOut,
)
def get_consistency_proof(call: Call) -> ConsistencyOut:
    q = call.query
    return ConsistencyOut.model_validate(consistency_out(call.session, q.old, q.new))
