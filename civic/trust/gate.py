"""The access gate: the only way an official reads a citizen's attribute.

At the moment of the read it looks for a consent of the citizen to the agency, for the purpose,
covering the attribute, that is given and not past its end. Found: the access is recorded (the
`data_access` row the citizen's "who used my data" page lists, a `data.accessed` ledger entry, an
event) and the value decrypted. Not found: the refusal is recorded the same way
(`data.access_refused`) and `AccessRefused` says why — none, revoked, expired, not_provided.

A refusal is written in the caller's transaction and then raised: callers must commit it (the API
and the pages answer the refusal themselves instead of letting it roll the transaction back; see
`attempt`). An official without a REQUEST_DATA grant covering the agency gets `Forbidden` before
anything is looked at or written: that is not a read of anyone's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet
from sqlmodel import Session, select

from civic.clock import as_utc, utcnow
from civic.errors import Forbidden, NotFound
from civic.events.envelope import emit
from civic.i18n import N_, _
from civic.identity.authorization import RULES, Permission, Target, active_grants, agency_lineage, authorize
from civic.identity.models import Account, AccountKind
from civic.trust import ledger
from civic.trust.consents import effective_state
from civic.trust.events import DATA_ACCESSED, DataAccessed
from civic.trust.models import AccessOutcome, Consent, ConsentState, DataAccess
from civic.trust.purposes import ATTRIBUTES, attribute_names, purpose
from civic.trust.vault import read_values

REASONS = {
    "none": N_("There is no consent from this citizen to your agency for this purpose and attribute."),
    "revoked": N_("The citizen withdrew their consent."),
    "expired": N_("The citizen's consent has expired."),
    "not_provided": N_("The citizen consented but has not recorded this attribute."),
}


class AccessRefused(Forbidden):
    """The gate refused a read; `reason` is one of REASONS. The refusal is already recorded."""

    code = "access_refused"

    def __init__(self, reason: str, attributes: list[str]) -> None:
        super().__init__(_("Access refused (%(reason)s): %(why)s", reason=reason, why=_(REASONS[reason])))
        self.reason = reason
        self.attributes = attributes


@dataclass(frozen=True)
class Reader:
    """Who reads and for whom: the official, the agency, the role that allows it."""

    official: Account
    agency_id: int
    role: str


def _reader(session: Session, actor: Account | None, permission: Permission, target: Target) -> Reader:
    """Authorize `actor` for `permission` on `target` (an agency, perhaps one consultation of it)
    and name the role that allows it, for the access record."""
    official = authorize(session, actor, permission, target)
    assert official.id is not None and target.agency_id is not None
    lineage = agency_lineage(session, target.agency_id)
    roles = sorted(
        g.role
        for g in active_grants(session, official.id)
        if g.role in RULES[permission]
        and (
            (g.consultation_id is None and g.agency_id in lineage)
            or (g.consultation_id is not None and g.consultation_id == target.consultation_id)
        )
    )
    return Reader(official, target.agency_id, roles[0] if roles else "official")


def reader_for(session: Session, actor: Account | None, agency_id: int | None) -> Reader:
    """The reader for a gate read on behalf of `agency_id` (default: the official's own agency)."""
    target_agency = agency_id or (actor.agency_id if actor is not None else None)
    if target_agency is None:
        authorize(session, actor, Permission.REQUEST_DATA)  # 401/403 first for those who cannot read
        raise Forbidden(_("Name the agency you read for: your account belongs to none."))
    return _reader(session, actor, Permission.REQUEST_DATA, Target(agency_id=target_agency))


def _why_not(consents: list[Consent], now: datetime) -> str:
    """Why no consent is active: the most recent one that covered the attributes says."""
    if not consents:
        return "none"
    latest = max(consents, key=lambda c: (as_utc(c.ended_at or c.decided_at), c.id or 0))
    state = effective_state(latest, now)
    if state is ConsentState.WITHDRAWN:
        return "revoked"
    if state is ConsentState.EXPIRED:
        return "expired"
    return "none"


def _record(
    session: Session,
    reader: Reader,
    citizen_id: int,
    purpose_id: str,
    attributes: list[str],
    served: str,
    at: datetime,
    consent: Consent | None,
    reason: str | None,
) -> DataAccess:
    assert reader.official.id is not None
    access = DataAccess(
        citizen_id=citizen_id,
        official_id=reader.official.id,
        agency_id=reader.agency_id,
        role=reader.role,
        consent_id=consent.id if consent else None,
        purpose=purpose_id,
        attributes=attributes,
        served=served,
        outcome=AccessOutcome.REFUSED if reason else AccessOutcome.ACCESSED,
        reason=reason,
        created_at=at,
    )
    session.add(access)
    session.flush()
    record: dict[str, object] = {
        "access_id": access.id,
        "citizen_id": citizen_id,
        "official_id": reader.official.id,
        "agency_id": reader.agency_id,
        "role": reader.role,
        "consent_id": access.consent_id,
        "purpose": purpose_id,
        "attributes": attributes,
        "served": served,
        "at": as_utc(at).isoformat(),
    }
    if reason:
        record["reason"] = reason
    entry = ledger.append(session, "data.access_refused" if reason else "data.accessed", record)
    access.ledger_index = entry.index
    session.add(access)
    session.flush()
    if consent is not None and not reason:
        assert access.id is not None and consent.id is not None
        emit(
            session,
            DATA_ACCESSED,
            DataAccessed(
                access_id=access.id,
                citizen_id=citizen_id,
                agency_id=reader.agency_id,
                role=reader.role,
                consent_id=consent.id,
                purpose=purpose_id,
                attributes=attributes,
                served=served,
            ),
            actor_id=reader.official.id,
        )
    return access


def read_with(
    session: Session,
    fernet: Fernet,
    reader: Reader,
    citizen_id: int,
    attributes: list[str],
    purpose_id: str,
    served: str,
    *,
    now: datetime | None = None,
) -> dict[str, str]:
    """Read attributes of one citizen under one consent check and one recorded access, for an
    already authorized reader. All of them or none: one consent must cover every one."""
    at = now or utcnow()
    candidates = list(
        session.exec(
            select(Consent).where(
                Consent.citizen_id == citizen_id,
                Consent.agency_id == reader.agency_id,
                Consent.purpose == purpose_id,
                Consent.state != ConsentState.REFUSED,
            )
        ).all()
    )
    covering = [c for c in candidates if set(attributes) <= set(c.attributes)]
    active = [c for c in covering if effective_state(c, at) is ConsentState.GIVEN]
    if not active:
        _record(session, reader, citizen_id, purpose_id, attributes, served, at, None, _why_not(covering, at))
        raise AccessRefused(reason=_why_not(covering, at), attributes=attributes)
    consent = max(active, key=lambda c: as_utc(c.expires_at or c.decided_at))
    values = read_values(session, fernet, citizen_id, attributes)
    if len(values) < len(attributes):
        _record(session, reader, citizen_id, purpose_id, attributes, served, at, consent, "not_provided")
        raise AccessRefused(reason="not_provided", attributes=attributes)
    _record(session, reader, citizen_id, purpose_id, attributes, served, at, consent, None)
    return values


def read_attribute(
    session: Session,
    official: Account | None,
    citizen_id: int,
    attribute: str,
    purpose_id: str,
    served: str,
    *,
    fernet: Fernet,
    agency_id: int | None = None,
    now: datetime | None = None,
) -> str:
    """One attribute of one citizen, for `purpose_id`, on behalf of `agency_id` (default: the
    official's agency), serving `served` (shown to the citizen). Raises AccessRefused (recorded)."""
    purpose(purpose_id)
    attribute_names([attribute], field="attribute")
    reader = reader_for(session, official, agency_id)
    citizen = session.get(Account, citizen_id)
    if citizen is None or citizen.kind == AccountKind.OFFICIAL:
        raise NotFound(_("There is no e-citizen %(id)s.", id=citizen_id))
    return read_with(session, fernet, reader, citizen_id, [attribute], purpose_id, served, now=now)[attribute]


def attempt(session: Session, *args: object, **kwargs: object) -> str | AccessRefused:
    """`read_attribute`, with a refusal returned instead of raised, so the caller's transaction
    commits and the refusal stays on record."""
    try:
        return read_attribute(session, *args, **kwargs)  # type: ignore[arg-type]
    except AccessRefused as refused:
        return refused


__all__ = ["ATTRIBUTES", "AccessRefused", "Reader", "attempt", "read_attribute", "read_with"]
