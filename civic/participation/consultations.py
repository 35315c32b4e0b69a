"""Consultation lifecycle actions, for conveners: create, edit, publish, move phases, close.

(Leadership builds the convener's console on these; they live here because nothing but
participation writes participation's tables.)
"""

from __future__ import annotations

from sqlmodel import Session

from civic.clock import utcnow
from civic.errors import Conflict, NotFound
from civic.events.envelope import emit
from civic.i18n import _
from civic.identity.authorization import Permission, Target, authorize
from civic.identity.models import Account, Agency
from civic.participation.events import (
    CONSULTATION_EDITED,
    CONSULTATION_PHASE_CHANGED,
    CONSULTATION_PUBLISHED,
    ConsultationChanged,
)
from civic.participation.models import Consultation, ConsultationStatus, Phase
from civic.participation.rules import phase_word
from civic.participation.schemas import ConsultationEdit, ConsultationInput, PhaseChange


def consultation_target(consultation: Consultation) -> Target:
    return Target(agency_id=consultation.agency_id, consultation_id=consultation.id)


def get_consultation(session: Session, consultation_id: int) -> Consultation:
    consultation = session.get(Consultation, consultation_id)
    if consultation is None:
        raise NotFound(_("There is no consultation %(id)s.", id=consultation_id))
    return consultation


def check_create_consultation(session: Session, actor: Account | None, data: ConsultationInput) -> Account:
    if session.get(Agency, data.agency_id) is None:
        raise NotFound(_("There is no agency %(id)s.", id=data.agency_id))
    return authorize(session, actor, Permission.MANAGE_CONSULTATIONS, Target(agency_id=data.agency_id))


def do_create_consultation(session: Session, actor: Account, data: ConsultationInput) -> Consultation:
    """A new consultation starts as a draft, seen only by its agency's officials; no event yet."""
    assert actor.id is not None
    consultation = Consultation(
        **data.model_dump(exclude={"schedule"}),
        schedule={phase: dict(dates) for phase, dates in data.schedule.items()},
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    session.add(consultation)
    session.flush()
    return consultation


def create_consultation(session: Session, actor: Account | None, data: ConsultationInput) -> Consultation:
    return do_create_consultation(session, check_create_consultation(session, actor, data), data)


def check_manage(session: Session, actor: Account | None, consultation_id: int) -> Consultation:
    consultation = get_consultation(session, consultation_id)
    authorize(session, actor, Permission.MANAGE_CONSULTATIONS, consultation_target(consultation))
    return consultation


def _changed(consultation: Consultation, previous: str | None = None) -> ConsultationChanged:
    assert consultation.id is not None
    return ConsultationChanged(
        consultation_id=consultation.id,
        agency_id=consultation.agency_id,
        title=consultation.title,
        phase=consultation.phase,
        previous_phase=previous,
    )


def publish_consultation(session: Session, actor: Account | None, consultation_id: int) -> Consultation:
    consultation = check_manage(session, actor, consultation_id)
    if consultation.status == ConsultationStatus.PUBLISHED:
        raise Conflict(_("This consultation is already published."))
    return do_publish_consultation(session, actor, consultation)


def do_publish_consultation(
    session: Session, actor: Account | None, consultation: Consultation
) -> Consultation:
    """Make the consultation public and emit `consultation.published`."""
    consultation.status = ConsultationStatus.PUBLISHED
    consultation.published_at = utcnow()
    session.add(consultation)
    session.flush()
    emit(session, CONSULTATION_PUBLISHED, _changed(consultation), actor_id=actor.id if actor else None)
    return consultation


def change_phase(
    session: Session, actor: Account | None, consultation_id: int, data: PhaseChange
) -> Consultation:
    consultation = check_manage(session, actor, consultation_id)
    if consultation.phase == data.phase:
        raise Conflict(
            _("This consultation is already in its %(phase)s phase.", phase=phase_word(data.phase))
        )
    return do_change_phase(session, actor, consultation, Phase(data.phase))


def do_change_phase(
    session: Session, actor: Account | None, consultation: Consultation, phase: Phase
) -> Consultation:
    """Move to `phase` (conveners may go back, e.g. to reopen proposals) and emit `consultation.phase_changed`."""
    previous = consultation.phase
    consultation.phase = phase
    session.add(consultation)
    session.flush()
    if consultation.status == ConsultationStatus.PUBLISHED:
        emit(
            session,
            CONSULTATION_PHASE_CHANGED,
            _changed(consultation, previous),
            actor_id=actor.id if actor else None,
        )
    return consultation


def check_edit_consultation(
    session: Session, actor: Account | None, consultation_id: int, data: ConsultationEdit
) -> Consultation:
    """A closed consultation is a record of what was asked: reopen it (move its phase) to edit."""
    consultation = check_manage(session, actor, consultation_id)
    if consultation.phase == Phase.CLOSED:
        raise Conflict(_("This consultation is closed; move it to another phase first to edit it."))
    return consultation


def do_edit_consultation(
    session: Session, actor: Account | None, consultation: Consultation, data: ConsultationEdit
) -> Consultation:
    """Apply the fields sent; emit `consultation.edited` if it is published and something changed
    (followers of a draft are only its officials, who see the edit on the page)."""
    changed = False
    for name, value in data.changes().items():
        if name == "schedule" and isinstance(value, dict):
            value = {phase: dict(dates) for phase, dates in value.items()}
        if getattr(consultation, name) != value:
            setattr(consultation, name, value)
            changed = True
    if not changed:
        return consultation
    session.add(consultation)
    session.flush()
    if consultation.status == ConsultationStatus.PUBLISHED:
        emit(session, CONSULTATION_EDITED, _changed(consultation), actor_id=actor.id if actor else None)
    return consultation


def edit_consultation(
    session: Session, actor: Account | None, consultation_id: int, data: ConsultationEdit
) -> Consultation:
    consultation = check_edit_consultation(session, actor, consultation_id, data)
    return do_edit_consultation(session, actor, consultation, data)


def close_consultation(session: Session, actor: Account | None, consultation_id: int) -> Consultation:
    """Closing is moving to the closed phase: the same event, and a convener can reopen it the same way."""
    consultation = check_manage(session, actor, consultation_id)
    if consultation.phase == Phase.CLOSED:
        raise Conflict(_("This consultation is already closed."))
    return do_change_phase(session, actor, consultation, Phase.CLOSED)
