"""Consented aggregates: a consultation's participants described only by what they consented to.

For an analyst (VIEW_AGGREGATES on the consultation), each statistical attribute is counted over
the participants who gave the consultation's agency an active consent for the statistics purpose
covering it (a consent for this consultation, or for the agency's statistics in general). Every
citizen whose data is read gets a recorded access through the gate (one ledger entry per
citizen and attribute per computation), so the profile appears on their "who used my data" page.

Cells with fewer than k people (settings.aggregate_min_cell, default 5) are suppressed, and the
totals shown are the sums of the cells shown, so a suppressed cell cannot be recovered by
subtraction.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.fernet import Fernet
from sqlmodel import Session, col, or_, select

from civic.clock import utcnow
from civic.i18n import N_, _
from civic.identity.authorization import Permission
from civic.identity.models import Account
from civic.participation.consultations import consultation_target, get_consultation
from civic.trust.consents import effective_state
from civic.trust.gate import AccessRefused, _reader, read_with
from civic.trust.models import Consent, ConsentState
from civic.trust.purposes import ATTRIBUTES, STATISTICS, choice_label
from civic.trust.requests import participant_ids

DEFAULT_MIN_CELL = 5

# What a profile's reads served, as recorded (in English: the sentence is committed to the ledger
# and must not depend on who computed it in which language); `served_text` shows it translated.
PROFILE_SERVED = N_("Demographic profile of consultation #%(id)s (statistics, groups under %(k)s hidden)")
_PROFILE_SERVED = re.compile(
    r"Demographic profile of consultation #(?P<id>\d+) \(statistics, groups under (?P<k>\d+) hidden\)"
)


def served_text(served: str) -> str:
    """What a read served, for the citizen: a profile's recorded sentence in their language, any
    other (typed by an official) as it was typed."""
    match = _PROFILE_SERVED.fullmatch(served)
    return _(PROFILE_SERVED, id=match["id"], k=match["k"]) if match else served


@dataclass
class Cell:
    value: str
    label: str
    count: int


@dataclass
class AttributeProfile:
    attribute: str
    label: str
    cells: list[Cell] = field(default_factory=list)
    shown_total: int = 0
    suppressed_cells: int = 0


@dataclass
class Profile:
    consultation_id: int
    agency_id: int
    participants: int
    min_cell: int
    computed_at: datetime
    attributes: list[AttributeProfile]


def _consents(session: Session, agency_id: int, consultation_id: int, citizens: set[int]) -> list[Consent]:
    if not citizens:
        return []
    return list(
        session.exec(
            select(Consent).where(
                Consent.agency_id == agency_id,
                Consent.purpose == STATISTICS,
                Consent.state == ConsentState.GIVEN,
                col(Consent.citizen_id).in_(citizens),
                or_(col(Consent.consultation_id).is_(None), Consent.consultation_id == consultation_id),
            )
        ).all()
    )


def consultation_profile(
    session: Session,
    fernet: Fernet,
    actor: Account | None,
    consultation_id: int,
    *,
    min_cell: int = DEFAULT_MIN_CELL,
    now: datetime | None = None,
) -> Profile:
    consultation = get_consultation(session, consultation_id)
    reader = _reader(session, actor, Permission.VIEW_AGGREGATES, consultation_target(consultation))
    at = now or utcnow()
    citizens = participant_ids(session, consultation_id)
    statistical = [a for a, spec in ATTRIBUTES.items() if spec.statistical]
    covered: dict[int, set[str]] = {}
    for consent in _consents(session, consultation.agency_id, consultation_id, citizens):
        if effective_state(consent, at) is ConsentState.GIVEN:
            covered.setdefault(consent.citizen_id, set()).update(
                a for a in consent.attributes if a in statistical
            )
    counters: dict[str, Counter[str]] = {a: Counter() for a in statistical}
    served = PROFILE_SERVED % {"id": consultation_id, "k": min_cell}
    for citizen_id in sorted(covered):
        for attribute in sorted(covered[citizen_id]):
            try:
                values = read_with(
                    session, fernet, reader, citizen_id, [attribute], STATISTICS, served, now=at
                )
            except AccessRefused:
                continue  # not filled in: recorded as such, counted nowhere
            counters[attribute][values[attribute]] += 1
    profiles = []
    for attribute in statistical:
        profile = AttributeProfile(attribute, ATTRIBUTES[attribute].local_label)
        for value, count in sorted(counters[attribute].items(), key=lambda kv: (-kv[1], kv[0])):
            if count < min_cell:
                profile.suppressed_cells += 1
                continue
            profile.cells.append(Cell(value, choice_label(attribute, value), count))
            profile.shown_total += count
        profiles.append(profile)
    return Profile(consultation_id, consultation.agency_id, len(citizens), min_cell, at, profiles)
