"""Disclosure requests: an official asks, on behalf of an agency, for named attributes, for one
purpose from the vocabulary and a retention period — of one e-citizen, or of every participant of
a consultation. Each request is a ledger entry and an event; the citizen answers it in the consent
centre (consents.py), or ignores it, which costs nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, or_, select

from civic.clock import as_utc, utcnow
from civic.errors import InvalidInput, NotAuthenticated, NotFound
from civic.events.envelope import emit
from civic.i18n import _
from civic.identity.authorization import Permission, Target, authorize
from civic.identity.models import Account, AccountKind, Agency
from civic.participation.consultations import consultation_target, get_consultation
from civic.participation.models import Comment, Proposal, Support
from civic.trust import ledger
from civic.trust.events import DISCLOSURE_REQUESTED, RequestChanged
from civic.trust.models import Consent, DisclosureRequest
from civic.trust.purposes import attribute_names, purpose
from civic.trust.schemas import RequestInput


def iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def citizen_actor(session: Session, actor: Account | None, *, lock: bool = False) -> Account:
    """The e-citizen acting on their own consents; their account row is locked so two answers of
    theirs (a double click) are taken one after the other."""
    if actor is None or actor.id is None:
        raise NotAuthenticated(_("Log in to manage your consents."))
    if actor.kind == AccountKind.OFFICIAL:
        raise NotFound(_("Consents are given by e-citizens; officials have no consent centre."))
    if lock:
        session.get(Account, actor.id, with_for_update=True)
    return actor


# ---- participants ----------------------------------------------------------------------------


def participant_ids(session: Session, consultation_id: int) -> set[int]:
    """Who took part in a consultation: proposal authors, supporters and commenters."""
    proposals = select(Proposal.id).where(Proposal.consultation_id == consultation_id)
    ids = set(
        session.exec(select(Proposal.author_id).where(Proposal.consultation_id == consultation_id)).all()
    )
    ids |= set(session.exec(select(Support.account_id).where(col(Support.proposal_id).in_(proposals))).all())
    ids |= set(session.exec(select(Comment.author_id).where(col(Comment.proposal_id).in_(proposals))).all())
    return ids


def participated_in(session: Session, account_id: int) -> set[int]:
    mine = select(Proposal.consultation_id).where(Proposal.author_id == account_id)
    supported = select(Proposal.consultation_id).join(Support, col(Support.proposal_id) == col(Proposal.id))
    commented = select(Proposal.consultation_id).join(Comment, col(Comment.proposal_id) == col(Proposal.id))
    ids = set(session.exec(mine).all())
    ids |= set(session.exec(supported.where(Support.account_id == account_id)).all())
    ids |= set(session.exec(commented.where(Comment.author_id == account_id)).all())
    return ids


# ---- requests --------------------------------------------------------------------------------


def check_request(session: Session, actor: Account | None, data: RequestInput) -> tuple[Account, int]:
    """Validate the request against the vocabulary and authorize it; returns the official and the
    agency the request is made for."""
    purpose(data.purpose)
    attribute_names(list(data.attributes))
    agency_id = data.agency_id or (actor.agency_id if actor else None)
    if data.consultation_id is not None:
        consultation = get_consultation(session, data.consultation_id)
        if data.agency_id is not None and data.agency_id != consultation.agency_id:
            raise InvalidInput(
                _("The consultation belongs to another agency."),
                {"agency_id": _("Leave it empty, or name the consultation's own agency.")},
            )
        agency_id = consultation.agency_id
        official = authorize(session, actor, Permission.REQUEST_DATA, consultation_target(consultation))
    else:
        if agency_id is None:
            authorize(session, actor, Permission.REQUEST_DATA)  # 401/403 for those who cannot ask at all
            raise InvalidInput(
                _("Name the agency the data is asked for."), {"agency_id": _("This field is required.")}
            )
        official = authorize(session, actor, Permission.REQUEST_DATA, Target(agency_id=agency_id))
    if session.get(Agency, agency_id) is None:
        raise NotFound(_("There is no agency %(id)s.", id=agency_id))
    if data.citizen_id is not None:
        citizen = session.get(Account, data.citizen_id)
        if citizen is None or citizen.kind == AccountKind.OFFICIAL or not citizen.is_active:
            raise NotFound(_("There is no e-citizen %(id)s.", id=data.citizen_id))
    return official, agency_id


def do_request(session: Session, official: Account, agency_id: int, data: RequestInput) -> DisclosureRequest:
    assert official.id is not None
    request = DisclosureRequest(
        agency_id=agency_id,
        requested_by_id=official.id,
        citizen_id=data.citizen_id,
        consultation_id=data.consultation_id,
        purpose=data.purpose,
        attributes=attribute_names(list(data.attributes)),
        retention_days=data.retention_days,
        message=data.message,
        created_at=utcnow(),
    )
    session.add(request)
    session.flush()
    entry = ledger.append(
        session,
        "disclosure.requested",
        {
            "request_id": request.id,
            "agency_id": agency_id,
            "official_id": official.id,
            "citizen_id": request.citizen_id,
            "consultation_id": request.consultation_id,
            "purpose": request.purpose,
            "attributes": list(request.attributes),
            "retention_days": request.retention_days,
            "requested_at": iso(request.created_at),
        },
    )
    request.ledger_index = entry.index
    session.add(request)
    assert request.id is not None
    emit(
        session,
        DISCLOSURE_REQUESTED,
        RequestChanged(
            request_id=request.id,
            agency_id=agency_id,
            citizen_id=request.citizen_id,
            consultation_id=request.consultation_id,
            purpose=request.purpose,
            attributes=list(request.attributes),
            retention_days=request.retention_days,
        ),
        actor_id=official.id,
    )
    return request


def request_data(session: Session, actor: Account | None, data: RequestInput) -> DisclosureRequest:
    official, agency_id = check_request(session, actor, data)
    return do_request(session, official, agency_id, data)


def agency_requests(
    session: Session, actor: Account | None, agency_id: int | None = None
) -> list[DisclosureRequest]:
    """An agency's requests, newest first, for its officials who may ask for data."""
    official = authorize(session, actor, Permission.REQUEST_DATA)
    agency = agency_id or official.agency_id
    if agency is None:
        return []
    authorize(session, official, Permission.REQUEST_DATA, Target(agency_id=agency))
    query = select(DisclosureRequest).where(DisclosureRequest.agency_id == agency)
    return list(
        session.exec(
            query.order_by(col(DisclosureRequest.created_at).desc(), col(DisclosureRequest.id).desc())
        ).all()
    )


def open_requests(session: Session, actor: Account | None) -> list[DisclosureRequest]:
    """Requests the citizen has not answered: addressed to them, or to a consultation they took part in."""
    citizen = citizen_actor(session, actor)
    consultations = participated_in(session, citizen.id or 0)
    answered = select(Consent.request_id).where(
        Consent.citizen_id == citizen.id, col(Consent.request_id).is_not(None)
    )
    query = select(DisclosureRequest).where(
        or_(
            DisclosureRequest.citizen_id == citizen.id,
            (col(DisclosureRequest.citizen_id).is_(None))
            & (col(DisclosureRequest.consultation_id).in_(consultations)),
        ),
        col(DisclosureRequest.id).not_in(answered),
    )
    return list(session.exec(query.order_by(col(DisclosureRequest.created_at).desc())).all())


def addressed_request(session: Session, citizen: Account, request_id: int) -> DisclosureRequest:
    request = session.get(DisclosureRequest, request_id)
    if request is not None:
        if request.citizen_id == citizen.id:
            return request
        if request.citizen_id is None and request.consultation_id in participated_in(
            session, citizen.id or 0
        ):
            return request
    raise NotFound(_("There is no request %(id)s for you.", id=request_id))
