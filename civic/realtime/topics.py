"""Who may follow which topic: the same checks as the HTTP pages, one rule per topic kind.

A topic is only accepted in its canonical spelling (the one `civic.events.topics` builds), so
"consultation:007" cannot be authorized as consultation 7 and then silently never receive
anything. A refusal never says whether the thing exists: a draft consultation and a missing one
are both "forbidden", as both are a 404 over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from civic.errors import CivicError
from civic.events import topics
from civic.identity.authorization import ANYWHERE, Permission, Target, is_allowed
from civic.identity.models import Account
from civic.participation.queries import visible_consultation, visible_proposal

_NUMBERED = re.compile(r"([a-z]+(?::[a-z]+)*):([1-9][0-9]{0,17})")

Rule = Callable[[Session, Account | None, int], bool]


def _consultation(session: Session, account: Account | None, consultation_id: int) -> bool:
    try:
        visible_consultation(session, account, consultation_id)
    except CivicError:
        return False
    return True


def _proposal(session: Session, account: Account | None, proposal_id: int) -> bool:
    try:
        visible_proposal(session, account, proposal_id)
    except CivicError:
        return False
    return True


def _user(_session: Session, account: Account | None, account_id: int) -> bool:
    return account is not None and account.id == account_id


def _agency_moderation(session: Session, account: Account | None, agency_id: int) -> bool:
    return is_allowed(session, account, Permission.MODERATE, Target(agency_id=agency_id))


def _agency_dashboard(session: Session, account: Account | None, agency_id: int) -> bool:
    return is_allowed(session, account, Permission.VIEW_DASHBOARD, Target(agency_id=agency_id))


# Kind -> (canonical name builder, rule). The builders are the ones events use to name topics.
NUMBERED_KINDS: dict[str, tuple[Callable[[int], str], Rule]] = {
    "consultation": (topics.consultation, _consultation),
    "proposal": (topics.proposal, _proposal),
    "user": (topics.user, _user),
    "moderation:agency": (topics.agency_moderation, _agency_moderation),
    "dashboard:agency": (topics.agency_dashboard, _agency_dashboard),
}

SINGLE_TOPICS: dict[str, Callable[[Session, Account | None], bool]] = {
    topics.GLOBAL_DASHBOARD: lambda session, account: is_allowed(
        session, account, Permission.VIEW_DASHBOARD, ANYWHERE
    ),
}


@dataclass(frozen=True)
class Refusal:
    code: str  # "unknown_topic" | "forbidden"
    message: str


def known(topic: str) -> bool:
    """Whether the topic names a kind the hub serves, in canonical spelling (no database needed)."""
    if topic in SINGLE_TOPICS:
        return True
    match = _NUMBERED.fullmatch(topic)
    if match is None or match.group(1) not in NUMBERED_KINDS:
        return False
    builder, _rule = NUMBERED_KINDS[match.group(1)]
    return builder(int(match.group(2))) == topic


def check(session: Session, account: Account | None, topic: str) -> Refusal | None:
    """None if `account` (None: anonymous) may follow `topic`; otherwise why not."""
    if not known(topic):
        return Refusal("unknown_topic", f"There is no topic {topic!r} to follow.")
    single = SINGLE_TOPICS.get(topic)
    if single is not None:
        allowed = single(session, account)
    else:
        match = _NUMBERED.fullmatch(topic)
        assert match is not None
        _builder, rule = NUMBERED_KINDS[match.group(1)]
        allowed = rule(session, account, int(match.group(2)))
    if allowed:
        return None
    hint = "" if account is not None else " Log in if you have access."
    return Refusal("forbidden", f"You may not follow {topic}.{hint}")
