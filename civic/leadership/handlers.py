"""Leadership's reactions to other modules' events (and to its own, for notifications).

- `leadership.notify`: the author and supporters of an answered proposal, the author of moderated
  content, the appellant of a decided appeal each get a notification (see notifications.py).
- `leadership.action_log`: acts other modules perform for officials (publishing a consultation,
  moving its phase, verifying an e-citizen, granting or revoking a role) are logged from their
  events, keyed by the event id, so a replayed event logs once. Consultation acts are public; a
  citizen's verification and officials' grants are for officials only.
- `leadership.moderation_intake`: a proposal waiting for pre-moderation opens its queue case; a
  blocked author's new proposal or comment is hidden at once.

Every handler runs inside the delivery's savepoint (civic.events.handlers.run_delivery): what it
writes commits with the delivery's mark, or not at all.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from civic.events.envelope import Envelope, EventType, registered_event_types
from civic.events.handlers import Handler, handler
from civic.identity.events import ACCOUNT_VERIFIED, ROLE_GRANTED
from civic.identity.models import Account
from civic.leadership import actionlog, notifications
from civic.leadership.events import MODERATION_APPEAL_DECIDED, MODERATION_AUTO_HIDDEN, MODERATION_DECIDED
from civic.leadership.models import OfficialAction
from civic.participation.events import (
    COMMENT_POSTED,
    CONSULTATION_PHASE_CHANGED,
    CONSULTATION_PUBLISHED,
    PROPOSAL_ANSWERED,
    PROPOSAL_SUBMITTED,
)
from civic.participation.models import Consultation

NOTIFY = "leadership.notify"
ACTION_LOG = "leadership.action_log"
MODERATION_INTAKE = "leadership.moderation_intake"
ROLE_REVOKED_NAME = "role.revoked"


# ---- notifications --------------------------------------------------------------------------


def notify(session: Session, event: Envelope) -> None:
    if event.type == PROPOSAL_ANSWERED.name:
        notifications.notify_answer(session, event)
    elif event.type == MODERATION_DECIDED.name:
        notifications.notify_moderation_decided(session, event)
    elif event.type == MODERATION_AUTO_HIDDEN.name:
        notifications.notify_auto_hidden(session, event)
    elif event.type == MODERATION_APPEAL_DECIDED.name:
        notifications.notify_appeal_decided(session, event)


# ---- the action log -------------------------------------------------------------------------


def _already_logged(session: Session, event_id: str) -> bool:
    return (
        session.exec(select(OfficialAction.id).where(OfficialAction.event_id == event_id)).first() is not None
    )


def _grant_agency(session: Session, data: dict[str, Any]) -> int | None:
    """The agency a grant is in: its own, or its consultation's."""
    if data.get("agency_id") is not None:
        return int(data["agency_id"])
    if data.get("consultation_id") is not None:
        consultation = session.get(Consultation, int(data["consultation_id"]))
        return consultation.agency_id if consultation else None
    return None


def _grant_detail(data: dict[str, Any]) -> dict[str, object]:
    keys = ("account_id", "role", "agency_id", "consultation_id", "ends_at")
    return {k: data.get(k) for k in keys if k in data}


def log_action(session: Session, event: Envelope) -> None:
    if _already_logged(session, event.id):
        return
    _record(session, event)


def _record(session: Session, event: Envelope) -> OfficialAction | None:
    data = event.data
    # "When" is when the act happened, not when this handler got round to logging it.
    common: dict[str, Any] = {"actor_id": event.actor, "event_id": event.id, "at": event.occurred_at}
    if event.type in (CONSULTATION_PUBLISHED.name, CONSULTATION_PHASE_CHANGED.name):
        published = event.type == CONSULTATION_PUBLISHED.name
        return actionlog.record(
            session,
            **common,
            action="consultation.publish" if published else "consultation.phase",
            subject_kind="consultation",
            subject_id=int(data["consultation_id"]),
            agency_id=int(data["agency_id"]),
            public=True,
            detail={k: data.get(k) for k in ("title", "phase", "previous_phase")},
        )
    elif event.type == ACCOUNT_VERIFIED.name:
        registrar = session.get(Account, int(data["verified_by_id"]))
        return actionlog.record(
            session,
            **common,
            action="account.verify",
            subject_kind="account",
            subject_id=int(data["account_id"]),
            agency_id=registrar.agency_id if registrar else None,
            public=False,
            detail={"level": data.get("level")},
        )
    elif event.type in (ROLE_GRANTED.name, ROLE_REVOKED_NAME):
        granted = event.type == ROLE_GRANTED.name
        return actionlog.record(
            session,
            **common,
            action="role.grant" if granted else "role.revoke",
            subject_kind="grant",
            subject_id=int(data["grant_id"]),
            agency_id=_grant_agency(session, data),
            reason=str(data.get("reason") or ""),
            public=False,
            detail=_grant_detail(data),
        )
    return None


def _action_log_kinds() -> list[EventType[Any]]:
    """The event types logged; `role.revoked` only once identity declares it (looked up by name)."""
    kinds: list[EventType[Any]] = [
        CONSULTATION_PUBLISHED,
        CONSULTATION_PHASE_CHANGED,
        ACCOUNT_VERIFIED,
        ROLE_GRANTED,
    ]
    revoked = registered_event_types().get(ROLE_REVOKED_NAME)
    if revoked is not None:
        kinds.append(revoked)
    return kinds


# ---- moderation intake ----------------------------------------------------------------------


def moderation_intake(session: Session, event: Envelope) -> None:
    # Imported when it runs, not when the handler set is built: moderation and blocks may in turn
    # import notifications or the action log, and a lazy import cannot make a cycle.
    from civic.leadership.blocks import hide_if_blocked
    from civic.leadership.moderation import open_pre_moderation_case

    if event.type == PROPOSAL_SUBMITTED.name:
        proposal = event.payload(PROPOSAL_SUBMITTED)
        if proposal.status == "pending":
            open_pre_moderation_case(session, proposal.proposal_id)
        hide_if_blocked(session, "proposal", proposal.proposal_id, proposal.agency_id, proposal.author_id)
    elif event.type == COMMENT_POSTED.name:
        comment = event.payload(COMMENT_POSTED)
        hide_if_blocked(session, "comment", comment.comment_id, comment.agency_id, comment.author_id)


def leadership_handlers() -> list[Handler]:
    return [
        handler(
            NOTIFY, PROPOSAL_ANSWERED, MODERATION_DECIDED, MODERATION_AUTO_HIDDEN, MODERATION_APPEAL_DECIDED
        )(notify),
        handler(ACTION_LOG, *_action_log_kinds())(log_action),
        handler(MODERATION_INTAKE, PROPOSAL_SUBMITTED, COMMENT_POSTED)(moderation_intake),
    ]
