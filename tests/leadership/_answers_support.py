"""Helpers for the answers, notifications, action-log and scorecard tests.

Every action runs in its own committed transaction, like a request, and `settled` runs the bus
the way production does (relay, then the handler deliveries: inline on SQLite, an RQ burst in
the PostgreSQL pass), so the handlers under test run through the real delivery path.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, func, select

from civic.events.envelope import Envelope
from civic.events.models import HandlerDelivery, OutboxEvent
from civic.identity.models import Account, Role
from civic.leadership.answers import answer_proposal
from civic.leadership.models import Notification, OfficialAction
from civic.leadership.schemas import AnswerInput
from civic.participation.models import ProposalAnswer
from civic.runtime import Runtime
from tests.events.conftest import settle
from tests.leadership.conftest import official

ANSWER_TEXT = "Thank you. The agency will study this at its next meeting."


def responder(runtime: Runtime, name: str, agency_id: int | None, *roles: Role) -> Account:
    with runtime.db.transaction() as s:
        return official(s, runtime, name, agency_id, *(roles or (Role.RESPONDER,)))


def answer(
    runtime: Runtime, actor: Account | None, proposal_id: int, status: str, text: str = ANSWER_TEXT
) -> ProposalAnswer:
    with runtime.db.transaction() as s:
        return answer_proposal(s, actor, proposal_id, AnswerInput(status=status, text=text))  # type: ignore[arg-type]


def settled(runtime: Runtime) -> None:
    """Run the bus until nothing is due, and fail if a leadership handler failed on the way (a
    failure is otherwise only a retried delivery and a log line)."""
    settle(runtime)
    with runtime.db.transaction() as s:
        failed = s.exec(
            select(HandlerDelivery).where(
                col(HandlerDelivery.last_error).is_not(None),
                col(HandlerDelivery.handler).startswith("leadership."),
            )
        ).all()
        assert not failed, [(d.handler, d.status, d.last_error) for d in failed]


def notifications_of(runtime: Runtime, account: Account) -> list[Notification]:
    with runtime.db.transaction() as s:
        return list(
            s.exec(
                select(Notification)
                .where(Notification.account_id == account.id)
                .order_by(col(Notification.id))
            ).all()
        )


def actions_logged(runtime: Runtime, action: str | None = None) -> list[OfficialAction]:
    with runtime.db.transaction() as s:
        query = select(OfficialAction).order_by(col(OfficialAction.id))
        if action is not None:
            query = query.where(OfficialAction.action == action)
        return list(s.exec(query).all())


def envelopes(runtime: Runtime, event_type: str) -> list[Envelope]:
    with runtime.db.transaction() as s:
        rows = s.exec(
            select(OutboxEvent).where(OutboxEvent.type == event_type).order_by(col(OutboxEvent.seq))
        )
        return [Envelope.from_row(r) for r in rows.all()]


def count(runtime: Runtime, model: Any) -> int:
    with runtime.db.transaction() as s:
        return int(s.exec(select(func.count()).select_from(model)).one())
