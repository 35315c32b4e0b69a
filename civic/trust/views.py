"""What trust's API answers (and its pages show): the vocabulary, requests, consents with their
effective state, the citizen's access log and a consultation's profile. No model here ever holds
an attribute value except `VaultOut` (the owner's own) and `ReadOut` (a read through the gate).

Texts for people (`purpose_text`, `agency_name`, a profile's labels) are in the reader's language;
codes (`purpose`, `state`, `role`, `reason`) and what an official typed (`served`) are as stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, func, select

from civic.clock import UTCDateTime, utcnow
from civic.identity.labels import agency_name
from civic.identity.models import Agency
from civic.trust.aggregates import Profile
from civic.trust.consents import effective_state
from civic.trust.models import Consent, DataAccess, DisclosureRequest
from civic.trust.purposes import ATTRIBUTES, LEGAL_BASIS, PURPOSES


class PurposeOut(BaseModel):
    id: str
    dpv: str
    label: str
    label_az: str
    text: str
    text_az: str


class AttributeOut(BaseModel):
    id: str
    dpv: str
    label: str
    label_az: str
    kind: str
    choices: list[str]
    statistical: bool


class VocabularyOut(BaseModel):
    purposes: list[PurposeOut]
    attributes: list[AttributeOut]
    legal_basis: dict[str, str]


def vocabulary() -> VocabularyOut:
    return VocabularyOut(
        purposes=[PurposeOut(**p.__dict__) for p in PURPOSES.values()],
        attributes=[
            AttributeOut(
                id=a.id,
                dpv=a.dpv,
                label=a.label,
                label_az=a.label_az,
                kind=a.kind.value,
                choices=[c[0] for c in a.choices],
                statistical=a.statistical,
            )
            for a in ATTRIBUTES.values()
        ],
        legal_basis=LEGAL_BASIS,
    )


class VaultOut(BaseModel):
    values: dict[str, str]


class RequestOut(BaseModel):
    id: int
    agency_id: int
    agency_name: str
    citizen_id: int | None
    consultation_id: int | None
    purpose: str
    purpose_text: str
    attributes: list[str]
    retention_days: int
    message: str
    created_at: UTCDateTime
    ledger_index: int | None
    answers: dict[str, int] | None = None  # officials' view: how many gave, refused


class ConsentOut(BaseModel):
    id: int
    agency_id: int
    agency_name: str
    request_id: int | None
    consultation_id: int | None
    purpose: str
    purpose_text: str
    attributes: list[str]
    state: str
    decided_at: UTCDateTime
    expires_at: UTCDateTime | None
    ended_at: UTCDateTime | None
    ledger_index: int | None
    receipt_url: str


class ConsentCentreOut(BaseModel):
    requests: list[RequestOut]
    consents: list[ConsentOut]


class AccessOut(BaseModel):
    id: int
    agency_id: int
    agency_name: str
    role: str
    purpose: str
    purpose_text: str
    attributes: list[str]
    served: str
    outcome: str
    reason: str | None
    at: UTCDateTime
    ledger_index: int | None


class AccessList(BaseModel):
    items: list[AccessOut]


class ReceiptOut(BaseModel):
    """A consent receipt (receipts.py); its `ledger` part is checked by receipts_verify.check_receipt."""

    model_config = ConfigDict(extra="allow")

    schema_: str = Field(alias="schema")
    receipt_id: str
    consent_timestamp: str
    pii_principal_id: str
    pii_controllers: list[dict[str, Any]]
    services: list[dict[str, Any]]
    state: str
    expiry: str | None
    withdrawal: dict[str, str]
    ledger: dict[str, Any]


class ReadOut(BaseModel):
    citizen_id: int
    attribute: str
    purpose: str
    value: str


class CellOut(BaseModel):
    value: str
    label: str
    count: int


class AttributeProfileOut(BaseModel):
    attribute: str
    label: str
    cells: list[CellOut]
    shown_total: int
    suppressed_cells: int


class ProfileOut(BaseModel):
    consultation_id: int
    agency_id: int
    participants: int
    min_cell: int
    computed_at: UTCDateTime
    attributes: list[AttributeProfileOut]


def _agency_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    agencies = session.exec(select(Agency).where(col(Agency.id).in_(ids))).all()
    return {a.id: agency_name(a) for a in agencies if a.id}


def request_outs(
    session: Session, rows: list[DisclosureRequest], *, with_answers: bool = False
) -> list[RequestOut]:
    names = _agency_names(session, {r.agency_id for r in rows})
    answers: dict[int, dict[str, int]] = {}
    if with_answers and rows:
        counted = session.exec(
            select(Consent.request_id, Consent.state, func.count())
            .where(col(Consent.request_id).in_([r.id for r in rows]))
            .group_by(col(Consent.request_id), col(Consent.state))
        ).all()
        for request_id, state, count in counted:
            answers.setdefault(request_id or 0, {})[state] = count
    return [
        RequestOut(
            id=r.id or 0,
            agency_id=r.agency_id,
            agency_name=names.get(r.agency_id, ""),
            citizen_id=r.citizen_id,
            consultation_id=r.consultation_id,
            purpose=r.purpose,
            purpose_text=PURPOSES[r.purpose].local_text,
            attributes=list(r.attributes),
            retention_days=r.retention_days,
            message=r.message,
            created_at=r.created_at,
            ledger_index=r.ledger_index,
            answers=answers.get(r.id or 0, {}) if with_answers else None,
        )
        for r in rows
    ]


def consent_outs(session: Session, rows: list[Consent], now: datetime | None = None) -> list[ConsentOut]:
    names = _agency_names(session, {c.agency_id for c in rows})
    at = now or utcnow()
    return [
        ConsentOut(
            id=c.id or 0,
            agency_id=c.agency_id,
            agency_name=names.get(c.agency_id, ""),
            request_id=c.request_id,
            consultation_id=c.consultation_id,
            purpose=c.purpose,
            purpose_text=PURPOSES[c.purpose].local_text,
            attributes=list(c.attributes),
            state=effective_state(c, at).value,
            decided_at=c.decided_at,
            expires_at=c.expires_at,
            ended_at=c.ended_at,
            ledger_index=c.ledger_index,
            receipt_url=f"/me/consents/{c.id}/receipt",
        )
        for c in rows
    ]


def access_outs(session: Session, rows: list[DataAccess]) -> list[AccessOut]:
    names = _agency_names(session, {a.agency_id for a in rows})
    return [
        AccessOut(
            id=a.id or 0,
            agency_id=a.agency_id,
            agency_name=names.get(a.agency_id, ""),
            role=a.role,
            purpose=a.purpose,
            purpose_text=PURPOSES[a.purpose].local_text,
            attributes=list(a.attributes),
            served=a.served,
            outcome=a.outcome,
            reason=a.reason,
            at=a.created_at,
            ledger_index=a.ledger_index,
        )
        for a in rows
    ]


def profile_out(profile: Profile) -> ProfileOut:
    return ProfileOut.model_validate(profile, from_attributes=True)
