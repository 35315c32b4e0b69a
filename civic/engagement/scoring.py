"""What an event is worth, as pure functions: the one definition of points.

The ledger (`civic.engagement.ledger`) books these awards and reversal marks into the database
one event at a time, in whatever order events arrive; `compute_balances` applies the same
definition to a whole event stream at once. Balances depend only on the *set* of events:

- an award is (event, rule, citizen), so the same event twice is one award;
- an award is reversed when a reversal mark for its subject or content, for the same citizen,
  comes from an event with a later sequence number, whichever was handled first;
- per (citizen, rule, UTC day of the event) the credited points are
  min(daily cap, sum of the unreversed awards' points).

That is what makes replays, duplicates and out-of-order delivery give the balances of a clean run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from civic.engagement.models import ReversalKind
from civic.engagement.rules import RECIPIENTS, Rules
from civic.events.envelope import Envelope

Bucket = tuple[int, str, date]  # (account, rule, day): what a daily cap counts


@dataclass(frozen=True)
class Award:
    event_id: str
    seq: int
    account_id: int
    rule: str
    day: date
    points: int  # the rule's points, before the daily cap
    subject: str
    content: str
    reason: str

    @property
    def bucket(self) -> Bucket:
        return (self.account_id, self.rule, self.day)


@dataclass(frozen=True)
class Mark:
    """An event's reversal of one citizen's points for a subject or a content."""

    event_id: str
    seq: int
    rule: str
    kind: str
    key: str
    account_id: int
    reason: str


def content_key(data: dict[str, Any]) -> str:
    """The piece of content an event is about: a comment if it names one, else a proposal."""
    if data.get("comment_id") is not None:
        return f"comment:{data['comment_id']}"
    return f"proposal:{data['proposal_id']}"


def _support_subject(event: Envelope) -> str:
    return f"support:{event.data['proposal_id']}:{event.actor}"


# What an event's act is, where it is more than its content: a support is one citizen's, so a
# withdrawn support takes back that support's points only. Add helpful marks here with their events.
SUBJECTS: dict[str, Callable[[Envelope], str]] = {
    "proposal.supported": _support_subject,
    "proposal.unsupported": _support_subject,
}


def subject_key(event: Envelope) -> str:
    derive = SUBJECTS.get(event.type)
    return derive(event) if derive else content_key(event.data)


def content_owner(data: dict[str, Any]) -> int | None:
    """Whose content the actor acts on: the proposal's author (for comments, the proposal commented on)."""
    owner = data.get("proposal_author_id", data.get("author_id"))
    return int(owner) if owner is not None else None


def participants(event: Envelope) -> set[int]:
    """Everyone the event names: the accounts its handling may touch (and so locks)."""
    named = [event.actor, event.data.get("author_id"), event.data.get("proposal_author_id")]
    return {int(n) for n in named if n is not None}


def event_day(event: Envelope) -> date:
    return event.occurred_at.astimezone(UTC).date()


def awards_for(rules: Rules, event: Envelope) -> list[Award]:
    """The awards one event earns under the rules (before caps and reversals)."""
    awards: list[Award] = []
    for rule in rules.for_event(event.type):
        field = RECIPIENTS[rule.recipient]
        recipient = event.actor if field is None else event.data.get(field)
        if recipient is None:
            continue
        if field is not None and recipient == event.actor:
            continue  # nobody earns "received" points from their own act
        if rule.not_own_content and event.actor is not None and event.actor == content_owner(event.data):
            continue
        if any(event.data.get(key) != value for key, value in rule.only_if):
            continue
        awards.append(
            Award(
                event_id=event.id,
                seq=event.seq,
                account_id=int(recipient),
                rule=rule.name,
                day=event_day(event),
                points=rule.points,
                subject=subject_key(event),
                content=content_key(event.data),
                reason=rule.reason,
            )
        )
    return awards


def marks_for(rules: Rules, event: Envelope) -> list[Mark]:
    """The reversal marks one event sets: whose points, for which subject or content."""
    marks: list[Mark] = []
    for reversal in rules.reversals_for(event.type):
        if reversal.undoes == ReversalKind.SUBJECT:
            key, accounts = subject_key(event), participants(event)
        else:  # content: only its author's earnings; supporters keep the points they earned taking part
            key, author = content_key(event.data), event.data.get("author_id")
            accounts = {int(author)} if author is not None else set()
        marks.extend(
            Mark(event.id, event.seq, reversal.name, reversal.undoes, key, account, reversal.reason)
            for account in sorted(accounts)
        )
    return marks


def capped(rules: Rules, rule: str, total: int) -> int:
    cap = rules.cap(rule)
    return total if cap is None else min(cap, total)


def compute_balances(rules: Rules, events: Iterable[Envelope]) -> dict[int, int]:
    """Every citizen's balance from scratch, from any collection of events (duplicates allowed).
    Citizens whose balance is 0 are left out."""
    awards: dict[tuple[str, str, int], Award] = {}
    latest_mark: dict[tuple[int, str, str], int] = {}
    for event in events:
        for award in awards_for(rules, event):
            awards.setdefault((award.event_id, award.rule, award.account_id), award)
        for mark in marks_for(rules, event):
            target = (mark.account_id, mark.kind, mark.key)
            latest_mark[target] = max(latest_mark.get(target, -1), mark.seq)
    totals: dict[Bucket, int] = defaultdict(int)
    for award in awards.values():
        reversed_at = max(
            latest_mark.get((award.account_id, ReversalKind.SUBJECT, award.subject), -1),
            latest_mark.get((award.account_id, ReversalKind.CONTENT, award.content), -1),
        )
        totals[award.bucket] += 0 if reversed_at > award.seq else award.points
    balances: dict[int, int] = defaultdict(int)
    for (account, rule, _day), total in totals.items():
        balances[account] += capped(rules, rule, total)
    return {account: points for account, points in balances.items() if points}
