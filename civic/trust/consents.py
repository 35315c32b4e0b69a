"""Consents: granting (all or some), refusing, withdrawing, expiring.

The states are W3C DPV's (see ConsentState). Each change is written in the caller's transaction
together with its ledger entry and its event, so a consent never exists without the entry that
commits to it. Withdrawal is one action, as easy as giving (GDPR Art. 7(3)); expiry is applied at
read time by the gate (`effective_state`) and recorded by `expire_due`, which the worker or the CLI
calls. Nothing here touches participation: taking part never depends on consent, and no reward is
ever given for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from civic.clock import as_utc, utcnow
from civic.errors import Conflict, InvalidInput, NotFound
from civic.events.envelope import emit
from civic.i18n import N_, _
from civic.identity.models import Account, Agency
from civic.participation.consultations import get_consultation
from civic.trust import ledger
from civic.trust.events import (
    CONSENT_EXPIRED,
    CONSENT_GRANTED,
    CONSENT_REFUSED,
    CONSENT_REVOKED,
    ConsentChanged,
)
from civic.trust.models import Consent, ConsentState, DisclosureRequest
from civic.trust.purposes import attribute_names, purpose
from civic.trust.requests import addressed_request, citizen_actor, iso
from civic.trust.schemas import AnswerInput, ProactiveInput

# A state's name inside a sentence ("This consent is withdrawn"); the pages' badges have their own.
STATE_WORDS = {
    ConsentState.REQUESTED: N_("requested"),
    ConsentState.GIVEN: N_("given"),
    ConsentState.REFUSED: N_("refused"),
    ConsentState.WITHDRAWN: N_("withdrawn"),
    ConsentState.EXPIRED: N_("expired"),
}


def state_word(state: str) -> str:
    """A consent state in the reader's language (the code itself for one not listed)."""
    word = STATE_WORDS.get(state)  # type: ignore[call-overload]
    return _(word) if word else state


def effective_state(consent: Consent, now: datetime | None = None) -> ConsentState:
    """The state at `now`: a given consent past its end is expired, recorded or not."""
    state = ConsentState(consent.state)
    if state is ConsentState.GIVEN and consent.expires_at and as_utc(consent.expires_at) <= (now or utcnow()):
        return ConsentState.EXPIRED
    return state


def consent_record(consent: Consent, **extra: Any) -> dict[str, object]:
    """What the ledger commits to for a consent change: ids, names and times, never a value."""
    return {
        "consent_id": consent.id,
        "citizen_id": consent.citizen_id,
        "agency_id": consent.agency_id,
        "request_id": consent.request_id,
        "consultation_id": consent.consultation_id,
        "purpose": consent.purpose,
        "attributes": list(consent.attributes),
        "state": consent.state,
        "decided_at": iso(consent.decided_at),
        "expires_at": iso(consent.expires_at),
        **extra,
    }


def _changed(consent: Consent) -> ConsentChanged:
    assert consent.id is not None
    return ConsentChanged(
        consent_id=consent.id,
        citizen_id=consent.citizen_id,
        agency_id=consent.agency_id,
        request_id=consent.request_id,
        consultation_id=consent.consultation_id,
        purpose=consent.purpose,
        attributes=list(consent.attributes),
        state=consent.state,
        expires_at=as_utc(consent.expires_at) if consent.expires_at else None,
    )


# ---- answers ---------------------------------------------------------------------------------


def _answer(session: Session, consent: Consent, kind: str, event: Any, actor_id: int) -> Consent:
    session.add(consent)
    session.flush()
    entry = ledger.append(session, kind, consent_record(consent))
    consent.ledger_index = entry.index
    session.add(consent)
    session.flush()
    emit(session, event, _changed(consent), actor_id=actor_id)
    return consent


def _check_unanswered(session: Session, citizen: Account, request: DisclosureRequest) -> None:
    existing = session.exec(
        select(Consent).where(Consent.request_id == request.id, Consent.citizen_id == citizen.id)
    ).first()
    if existing is not None:
        raise Conflict(
            _(
                "You have already answered this request (%(state)s). A consent you gave can be "
                "withdrawn from your consent centre.",
                state=state_word(existing.state),
            ),
            code="already_answered",
        )


def grant(
    session: Session,
    actor: Account | None,
    request_id: int,
    data: AnswerInput,
    *,
    now: datetime | None = None,
) -> Consent:
    """Give consent to a request, for all of the attributes asked or some of them."""
    citizen = citizen_actor(session, actor, lock=True)
    request = addressed_request(session, citizen, request_id)
    granted = attribute_names(list(data.attributes))
    extra = sorted(set(granted) - set(request.attributes))
    if extra:
        raise InvalidInput(
            _("The request did not ask for: %(names)s.", names=", ".join(extra)),
            {"attributes": _("Choose among the attributes asked for.")},
        )
    _check_unanswered(session, citizen, request)
    assert citizen.id is not None
    consent = _answering(request, citizen.id, granted, ConsentState.GIVEN, now or utcnow())
    return _answer(session, consent, "consent.granted", CONSENT_GRANTED, citizen.id)


def refuse(
    session: Session, actor: Account | None, request_id: int, *, now: datetime | None = None
) -> Consent:
    citizen = citizen_actor(session, actor, lock=True)
    request = addressed_request(session, citizen, request_id)
    _check_unanswered(session, citizen, request)
    assert citizen.id is not None
    consent = _answering(request, citizen.id, list(request.attributes), ConsentState.REFUSED, now or utcnow())
    return _answer(session, consent, "consent.refused", CONSENT_REFUSED, citizen.id)


def _answering(
    request: DisclosureRequest, citizen_id: int, attributes: list[str], state: ConsentState, at: datetime
) -> Consent:
    """The citizen's answer to a request: a given consent runs for the request's retention period;
    a refusal records what was refused and never expires."""
    return Consent(
        citizen_id=citizen_id,
        agency_id=request.agency_id,
        request_id=request.id,
        consultation_id=request.consultation_id,
        purpose=request.purpose,
        attributes=attributes,
        state=state,
        retention_days=request.retention_days,
        decided_at=at,
        expires_at=at + timedelta(days=request.retention_days) if state == ConsentState.GIVEN else None,
    )


def grant_proactively(
    session: Session, actor: Account | None, data: ProactiveInput, *, now: datetime | None = None
) -> Consent:
    """A consent the citizen gives unasked, to an agency, for a purpose and a period they choose."""
    citizen = citizen_actor(session, actor, lock=True)
    purpose(data.purpose)
    attributes = attribute_names(list(data.attributes))
    if session.get(Agency, data.agency_id) is None:
        raise NotFound(_("There is no agency %(id)s.", id=data.agency_id))
    if (
        data.consultation_id is not None
        and get_consultation(session, data.consultation_id).agency_id != data.agency_id
    ):
        raise InvalidInput(
            _("That consultation belongs to another agency."),
            {"consultation_id": _("Choose one of the agency's.")},
        )
    at = now or utcnow()
    assert citizen.id is not None
    consent = Consent(
        citizen_id=citizen.id,
        agency_id=data.agency_id,
        consultation_id=data.consultation_id,
        purpose=data.purpose,
        attributes=attributes,
        state=ConsentState.GIVEN,
        retention_days=data.retention_days,
        decided_at=at,
        expires_at=at + timedelta(days=data.retention_days),
    )
    return _answer(session, consent, "consent.granted", CONSENT_GRANTED, citizen.id)


# ---- the end of a consent ----------------------------------------------------------------------


def _end(session: Session, consent: Consent, state: ConsentState, at: datetime, actor_id: int | None) -> None:
    consent.state = state
    consent.ended_at = at
    session.add(consent)
    session.flush()
    kind, event = (
        ("consent.revoked", CONSENT_REVOKED)
        if state is ConsentState.WITHDRAWN
        else ("consent.expired", CONSENT_EXPIRED)
    )
    entry = ledger.append(session, kind, consent_record(consent, ended_at=iso(at)))
    consent.end_ledger_index = entry.index
    session.add(consent)
    session.flush()
    emit(session, event, _changed(consent), actor_id=actor_id)


def revoke(
    session: Session, actor: Account | None, consent_id: int, *, now: datetime | None = None
) -> Consent:
    """Withdraw a consent: one action, effective at once (the gate refuses the next read)."""
    citizen = citizen_actor(session, actor, lock=True)
    consent = session.get(Consent, consent_id, with_for_update=True, populate_existing=True)
    if consent is None or consent.citizen_id != citizen.id:
        raise NotFound(_("There is no consent %(id)s of yours.", id=consent_id))
    at = now or utcnow()
    state = effective_state(consent, at)
    if state is not ConsentState.GIVEN:
        raise Conflict(
            _("This consent is %(state)s: there is nothing to withdraw.", state=state_word(state)),
            code="not_active",
        )
    _end(session, consent, ConsentState.WITHDRAWN, at, citizen.id)
    return consent


def expire_due(session: Session, now: datetime | None = None) -> int:
    """Record every given consent whose period has ended as expired (ledger entry and event), and
    return how many. Safe to run from several workers: each row is locked and re-checked."""
    at = now or utcnow()
    due = session.exec(
        select(Consent.id).where(
            Consent.state == ConsentState.GIVEN,
            col(Consent.expires_at).is_not(None),
            col(Consent.expires_at) <= at,
        )
    ).all()
    count = 0
    for consent_id in due:
        consent = session.get(Consent, consent_id, with_for_update=True, populate_existing=True)
        if (
            consent is None
            or effective_state(consent, at) is not ConsentState.EXPIRED
            or consent.state != ConsentState.GIVEN
        ):
            continue
        assert consent.expires_at is not None
        _end(session, consent, ConsentState.EXPIRED, as_utc(consent.expires_at), None)
        count += 1
    return count


def my_consents(session: Session, actor: Account | None) -> list[Consent]:
    citizen = citizen_actor(session, actor)
    query = select(Consent).where(Consent.citizen_id == citizen.id)
    return list(session.exec(query.order_by(col(Consent.decided_at).desc(), col(Consent.id).desc())).all())


def own_consent(session: Session, actor: Account | None, consent_id: int) -> Consent:
    citizen = citizen_actor(session, actor)
    consent = session.get(Consent, consent_id)
    if consent is None or consent.citizen_id != citizen.id:
        raise NotFound(_("There is no consent %(id)s of yours.", id=consent_id))
    return consent
