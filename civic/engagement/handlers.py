"""Engagement's reaction to other modules' events: one handler, in the delivery's transaction.

For each event it (1) books the points the rules give (`ledger.apply_event`), (2) keeps its copy
of the moderation record (`record.record_event`), (3) brings the touched leaderboards up to date
from the ledger and (4) recounts the badges and level of every citizen the event concerns from
source data. Every step is idempotent, so a replayed event changes nothing; the handler keeps its
first name, "engagement.points", so deliveries recorded before badges existed stay its own.

The rules and badges files are read when the handler set is built, at the start of every process
that runs handlers (web, worker, CLI): a broken file stops the start there, with its line named
(`RulesError` / `BadgesError`), not at the first event.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from civic.engagement import leaderboards, record
from civic.engagement.badges import Badges, load_badges
from civic.engagement.ledger import apply_event, lock_accounts
from civic.engagement.progress import refresh_account
from civic.engagement.rules import Rules, load_rules
from civic.engagement.scoring import participants
from civic.events.envelope import Envelope, registered_event_types
from civic.events.handlers import Handler, handler

HANDLER_NAME = "engagement.points"
CASE_LOCK_NAMESPACE = 0x656E63  # "enc": per moderation case, taken before the account locks

# Events that change what badges and levels count, besides those the rules give points for.
COUNTED_EVENTS = frozenset(
    {
        "proposal.submitted",
        "proposal.approved",
        "proposal.rejected",
        "proposal.hidden",
        "proposal.restored",
        "proposal.withdrawn",
        "proposal.answered",
        "proposal.supported",
        "proposal.unsupported",
        "comment.posted",
        "comment.deleted",
        "comment.hidden",
        "comment.restored",
        "account.verified",
        *record.RECORD_EVENTS,
    }
)


def points_handler(rules: Rules) -> Handler:
    """Points only: books an event's points under `rules` (for tests of the ledger alone)."""
    kinds = registered_event_types()

    @handler(HANDLER_NAME, *(kinds[name] for name in sorted(rules.event_types)))
    def book_points(session: Session, event: Envelope) -> None:
        apply_event(session, rules, event)

    return book_points


def engagement_handler(rules: Rules, badges: Badges) -> Handler:
    private = leaderboards.private_rules(rules)

    def handle(session: Session, event: Envelope) -> None:
        handle_event(session, rules, badges, event, private)

    return Handler(name=HANDLER_NAME, event_types=rules.event_types | COUNTED_EVENTS, fn=handle)


def handle_event(
    session: Session, rules: Rules, badges: Badges, event: Envelope, private: frozenset[str] = frozenset()
) -> None:
    lock_accounts(session, _concerned(session, event))
    bookings = apply_event(session, rules, event)
    concerned = _concerned(session, event) | record.record_event(session, event)
    leaderboards.update_for_bookings(session, event, bookings, private)
    for account_id in sorted(concerned | {b.account_id for b in bookings}):
        refresh_account(session, badges, account_id)


def _concerned(session: Session, event: Envelope) -> set[int]:
    """The citizens whose counts the event may change (an official among them is skipped later)."""
    data = event.data
    if event.type == "account.verified":
        return {int(data["account_id"])}  # not the registrar who verified them
    if event.type in record.RECORD_EVENTS and data.get("case_id") is not None:
        # Per case first, so a report and its decision handled at once both see each other.
        _lock_case(session, int(data["case_id"]))
        found = record.involved(session, int(data["case_id"]))
        if data.get("author_id") is not None:
            found.add(int(data["author_id"]))
        if event.type == record.REPORT_FILED and event.actor is not None:
            found.add(event.actor)
        return found
    return participants(event)


def _lock_case(session: Session, case_id: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :case)"),
            {"namespace": CASE_LOCK_NAMESPACE, "case": case_id},
        )


def engagement_handlers(rules: Rules | None = None, badges: Badges | None = None) -> list[Handler]:
    """Engagement's handlers, under the packaged files unless told otherwise. Raises RulesError."""
    return [
        engagement_handler(
            rules if rules is not None else load_rules(), badges if badges is not None else load_badges()
        )
    ]
