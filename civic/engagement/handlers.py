"""Engagement's reaction to other modules' events: one handler books an event's points.

The handler's event types are the ones the rules file names, so the file is read when the handler
set is built, at the start of every process that runs handlers (web, worker, CLI): a broken file
stops the start there, with its line named (`RulesError`), not at the first event.
"""

from __future__ import annotations

from sqlmodel import Session

from civic.engagement.ledger import apply_event
from civic.engagement.rules import Rules, load_rules
from civic.events.envelope import Envelope, registered_event_types
from civic.events.handlers import Handler, handler

HANDLER_NAME = "engagement.points"


def points_handler(rules: Rules) -> Handler:
    """The handler booking points under `rules`: exactly once per event in effect (see run_delivery),
    and a no-op if it runs again anyway."""
    kinds = registered_event_types()

    @handler(HANDLER_NAME, *(kinds[name] for name in sorted(rules.event_types)))
    def book_points(session: Session, event: Envelope) -> None:
        apply_event(session, rules, event)

    return book_points


def engagement_handlers(rules: Rules | None = None) -> list[Handler]:
    """Engagement's handlers, under the packaged rules unless told otherwise. Raises RulesError."""
    return [points_handler(rules if rules is not None else load_rules())]
