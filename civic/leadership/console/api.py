"""The grants API: list an agency's grants, grant a role, revoke a grant (administrators)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlmodel import Session

from civic.clock import UTCDateTime
from civic.http.api import Api, Call
from civic.identity.authorization import grant_is_active
from civic.identity.models import Account, Agency, Grant
from civic.leadership import grants
from civic.leadership.schemas import GrantInput, ReasonInput

api = Api(tag="leadership")


class GrantOut(BaseModel):
    id: int
    account_id: int
    account_name: str
    role: str
    agency_id: int | None
    agency_name: str | None
    consultation_id: int | None
    granted_by_id: int | None
    granted_at: UTCDateTime
    ends_at: UTCDateTime | None
    revoked_at: UTCDateTime | None
    revoked_by_id: int | None
    state: str  # active | ended | revoked


class GrantList(BaseModel):
    items: list[GrantOut]


def grant_state(grant: Grant) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    return "active" if grant_is_active(grant) else "ended"


def grant_out(session: Session, grant: Grant) -> GrantOut:
    assert grant.id is not None
    holder = session.get(Account, grant.account_id)
    agency = session.get(Agency, grant.agency_id) if grant.agency_id else None
    return GrantOut(
        id=grant.id,
        account_id=grant.account_id,
        account_name=holder.display_name if holder else "",
        role=grant.role,
        agency_id=grant.agency_id,
        agency_name=agency.name if agency else None,
        consultation_id=grant.consultation_id,
        granted_by_id=grant.granted_by_id,
        granted_at=grant.granted_at,
        ends_at=grant.ends_at,
        revoked_at=grant.revoked_at,
        revoked_by_id=grant.revoked_by_id,
        state=grant_state(grant),
    )


@api.endpoint(
    "GET",
    "/api/agencies/{agency_id:int}/grants",
    summary="Grants in an agency's subtree, revoked and ended ones included (administrator)",
    response=GrantList,
    errors=(404,),
    login=True,
)
def list_grants(call: Call) -> GrantList:
    rows = grants.list_grants(call.session, call.account, call.path["agency_id"])
    return GrantList(items=[grant_out(call.session, g) for g in rows])


@api.endpoint(
    "POST",
    "/api/grants",
    summary="Grant a role to an official, on an agency or one consultation (administrator)",
    body=GrantInput,
    response=GrantOut,
    status=201,
    errors=(404,),
    login=True,
)
def create_grant(call: Call, data: GrantInput) -> GrantOut:
    return grant_out(call.session, grants.grant_role(call.session, call.account, data))


@api.endpoint(
    "POST",
    "/api/grants/{grant_id:int}/revoke",
    summary="Revoke a grant, with a reason; it is kept as revoked (administrator)",
    body=ReasonInput,
    response=GrantOut,
    errors=(404, 409),
    login=True,
)
def revoke_grant(call: Call, data: ReasonInput) -> GrantOut:
    return grant_out(
        call.session, grants.revoke_role(call.session, call.account, call.path["grant_id"], data)
    )
