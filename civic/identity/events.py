"""Events identity emits. Payloads carry ids and public display names, never e-mail addresses."""

from pydantic import BaseModel

from civic.events import topics
from civic.events.envelope import event_type


class AccountRegistered(BaseModel):
    account_id: int
    kind: str


class AccountVerified(BaseModel):
    account_id: int
    level: str
    verified_by_id: int


ACCOUNT_REGISTERED = event_type(
    "account.registered",
    AccountRegistered,
    topics=lambda d: [topics.user(d.account_id), topics.GLOBAL_DASHBOARD],
)
ACCOUNT_VERIFIED = event_type(
    "account.verified", AccountVerified, topics=lambda d: [topics.user(d.account_id)]
)


class RoleGranted(BaseModel):
    grant_id: int
    account_id: int
    role: str
    agency_id: int | None
    consultation_id: int | None
    granted_by_id: int | None
    # Why, as the administrator wrote it: the action log's "why" (leadership logs grants from
    # this event). Empty for grants made from the command line or before reasons were asked.
    reason: str = ""
    ends_at: str | None = None  # ISO 8601, UTC; None: until revoked


ROLE_GRANTED = event_type("role.granted", RoleGranted, topics=lambda d: [topics.user(d.account_id)])


class RoleRevoked(BaseModel):
    """A grant ended early. The grant row stays (with who revoked it and when): the history of who
    could do what is never rewritten."""

    grant_id: int
    account_id: int
    role: str
    agency_id: int | None
    consultation_id: int | None
    revoked_by_id: int | None
    reason: str


ROLE_REVOKED = event_type("role.revoked", RoleRevoked, topics=lambda d: [topics.user(d.account_id)])
