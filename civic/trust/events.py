"""Events trust emits: on the citizen's own topic and on the agency's dashboard topic.

They carry ids, purposes and attribute NAMES — never a value (values exist only as ciphertext in
the vault). The agency topic is followed only by that agency's officials (VIEW_DASHBOARD), who may
know that a consent to their agency was given or withdrawn; nobody else learns of it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from civic.events import topics
from civic.events.envelope import event_type


class RequestChanged(BaseModel):
    request_id: int
    agency_id: int
    citizen_id: int | None  # None: addressed to every participant of the consultation
    consultation_id: int | None
    purpose: str
    attributes: list[str]
    retention_days: int


def _request_topics(d: RequestChanged) -> list[str]:
    mine = [topics.user(d.citizen_id)] if d.citizen_id is not None else []
    return [*mine, topics.agency_dashboard(d.agency_id)]


DISCLOSURE_REQUESTED = event_type("disclosure.requested", RequestChanged, topics=_request_topics)


class ConsentChanged(BaseModel):
    consent_id: int
    citizen_id: int
    agency_id: int
    request_id: int | None
    consultation_id: int | None
    purpose: str
    attributes: list[str]
    state: str
    expires_at: datetime | None


def _consent_topics(d: ConsentChanged) -> list[str]:
    return [topics.user(d.citizen_id), topics.agency_dashboard(d.agency_id)]


CONSENT_GRANTED = event_type("consent.granted", ConsentChanged, topics=_consent_topics)
CONSENT_REFUSED = event_type("consent.refused", ConsentChanged, topics=_consent_topics)
CONSENT_REVOKED = event_type("consent.revoked", ConsentChanged, topics=_consent_topics)
CONSENT_EXPIRED = event_type("consent.expired", ConsentChanged, topics=_consent_topics)


class DataAccessed(BaseModel):
    access_id: int
    citizen_id: int
    agency_id: int
    role: str
    consent_id: int
    purpose: str
    attributes: list[str]
    served: str


DATA_ACCESSED = event_type(
    "data.accessed",
    DataAccessed,
    topics=lambda d: [topics.user(d.citizen_id), topics.agency_dashboard(d.agency_id)],
)
