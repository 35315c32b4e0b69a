"""Responsiveness scorecards: how fast agencies and officials answer proposals and moderate.

Definitions (what every figure on the transparency page and the console means):

- **Counted proposals** are public ones — status `published` or `withdrawn` — submitted by `now`
  (`Proposal.created_at <= now`). Pending, retracted, rejected and hidden proposals are not
  counted: they were never (or are no longer) waiting for a public answer.
- An agency's proposals are those of **its own** consultations (not its units'; each unit has its
  own card).
- A proposal is **answered** once it has a first answer by `now` (`Proposal.first_answered_at`).
  **Hours to answer** = `first_answered_at - created_at`, in hours.
- **Promise**: the consultation's agency's `AgencyPromise.answer_days` (14 if it set none). The
  deadline is `created_at + answer_days`. Answered *within* the promise: `first_answered_at <=
  deadline`. A promise has *passed* when `now > deadline`.
- **Share within promise** = answered within the promise / (answered + unanswered `published`
  proposals whose promise has passed). Answered proposals count in the denominator even before
  their deadline (the outcome is known); unanswered ones only once it is late. An unanswered
  *withdrawn* proposal is in neither: nobody is waiting for an answer to it. None when the
  denominator is 0.
- **Open overdue** = unanswered `published` proposals whose promise has passed.
- **Moderation**: cases of the agency (`ModerationCase.agency_id`) opened by `now`, except those
  a block opened (decided in the same act, they are not queue work). *Decided*: `decided_at <=
  now`; **latency** = `decided_at - opened_at`, in hours. **Open cases overdue**: not decided by
  `now` and opened more than 48 hours before it.
- **Median and 90th percentile** use the nearest-rank method (`percentile`), so every figure
  shown is an actual observed time, never an interpolation; the median of an even count is the
  lower of the two middle values.

Per official, the work they did is theirs and the backlog is their scope's:
- their scope is their active grants now: responder grants for proposals, moderator grants for
  cases (an agency grant covers its units; a consultation grant that consultation);
- *answered* (and the hours, and answered within promise) = proposals whose first answer they
  gave; *received* = proposals in their scope plus those they answered first;
- *open overdue* and the unanswered part of the share's denominator = their scope's;
- *cases decided* and the latency = cases they decided; *open cases overdue* = their scope's.
  Proposals in scope first answered by a colleague are received, but neither answered by them
  nor unanswered.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from civic.clock import as_utc, utcnow
from civic.errors import NotFound
from civic.i18n import _
from civic.identity.authorization import active_grants, agency_subtree
from civic.identity.models import Account, Agency, Role
from civic.leadership.models import DEFAULT_ANSWER_PROMISE_DAYS, AgencyPromise, CaseOrigin, ModerationCase
from civic.participation.models import Consultation, Proposal, ProposalAnswer, ProposalStatus

PUBLIC = (ProposalStatus.PUBLISHED.value, ProposalStatus.WITHDRAWN.value)
CASE_OVERDUE = timedelta(hours=48)


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank `q`-th percentile (0 ≤ q ≤ 100): sort ascending and take the value of rank
    ⌈q/100 × n⌉ (1-based; rank 1 when that is 0). None for no values.

    E.g. for [1, 2, 3, 4]: the 50th is 2 (rank 2), the 90th is 4 (rank ⌈3.6⌉ = 4).
    """
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"a percentile is between 0 and 100, not {q}")
    ordered = sorted(values)
    rank = max(1, math.ceil(round(q * len(ordered) / 100, 9)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Scorecard:
    kind: str  # "agency" or "official"
    subject_id: int
    name: str
    agency_id: int | None  # the agency's id, or the official's agency
    promise_days: int | None  # the agency's promise; None for an official (each proposal's own)
    proposals_received: int
    proposals_answered: int
    median_answer_hours: float | None
    p90_answer_hours: float | None
    answered_within_promise: int
    promise_due: int  # the share's denominator
    share_within_promise: float | None
    open_overdue: int
    cases_decided: int
    median_moderation_hours: float | None
    open_cases_overdue: int


@dataclass(frozen=True)
class _Proposal:
    id: int
    consultation_id: int
    agency_id: int
    status: str
    created_at: datetime
    answered_at: datetime | None  # None: not answered by `now`
    deadline: datetime

    def hours(self) -> float:
        assert self.answered_at is not None
        return (self.answered_at - self.created_at).total_seconds() / 3600

    def within(self) -> bool:
        return self.answered_at is not None and self.answered_at <= self.deadline

    def overdue(self, now: datetime) -> bool:
        return self.answered_at is None and self.status == ProposalStatus.PUBLISHED and now > self.deadline


@dataclass(frozen=True)
class _Case:
    agency_id: int
    consultation_id: int
    opened_at: datetime
    decided_at: datetime | None  # None: open at `now`
    decided_by_id: int | None

    def hours(self) -> float:
        assert self.decided_at is not None
        return (self.decided_at - self.opened_at).total_seconds() / 3600


def _promises(session: Session) -> dict[int, int]:
    return {p.agency_id: p.answer_days for p in session.exec(select(AgencyPromise)).all()}


def _proposals(session: Session, now: datetime) -> list[_Proposal]:
    promises = _promises(session)
    rows = session.exec(
        select(
            Proposal.id,
            Proposal.consultation_id,
            Consultation.agency_id,
            Proposal.status,
            Proposal.created_at,
            Proposal.first_answered_at,
        )
        .join(Consultation, col(Consultation.id) == Proposal.consultation_id)
        .where(col(Proposal.status).in_(PUBLIC))
    ).all()
    found = []
    for pid, cid, aid, status, created, answered in rows:
        created = as_utc(created)
        if created > now:
            continue
        answered = as_utc(answered) if answered is not None else None
        days = promises.get(aid, DEFAULT_ANSWER_PROMISE_DAYS)
        found.append(
            _Proposal(
                id=pid,
                consultation_id=cid,
                agency_id=aid,
                status=status,
                created_at=created,
                answered_at=answered if answered is not None and answered <= now else None,
                deadline=created + timedelta(days=days),
            )
        )
    return found


def _cases(session: Session, now: datetime) -> list[_Case]:
    rows = session.exec(select(ModerationCase).where(ModerationCase.origin != CaseOrigin.BLOCK.value)).all()
    found = []
    for case in rows:
        opened = as_utc(case.opened_at)
        if opened > now:
            continue
        decided = as_utc(case.decided_at) if case.decided_at is not None else None
        if decided is not None and decided > now:
            decided = None
        found.append(_Case(case.agency_id, case.consultation_id, opened, decided, case.decided_by_id))
    return found


def _figures(
    *,
    received: int,
    answered: list[_Proposal],
    unanswered_scope: Iterable[_Proposal],
    decided: list[_Case],
    open_cases: Iterable[_Case],
    now: datetime,
) -> dict[str, object]:
    hours = [p.hours() for p in answered]
    within = sum(1 for p in answered if p.within())
    overdue = sum(1 for p in unanswered_scope if p.overdue(now))
    due = len(answered) + overdue
    return {
        "proposals_received": received,
        "proposals_answered": len(answered),
        "median_answer_hours": percentile(hours, 50),
        "p90_answer_hours": percentile(hours, 90),
        "answered_within_promise": within,
        "promise_due": due,
        "share_within_promise": within / due if due else None,
        "open_overdue": overdue,
        "cases_decided": len(decided),
        "median_moderation_hours": percentile([c.hours() for c in decided], 50),
        "open_cases_overdue": sum(1 for c in open_cases if now - c.opened_at > CASE_OVERDUE),
    }


def _agency_card(
    agency: Agency, promise: int, proposals: list[_Proposal], cases: list[_Case], now: datetime
) -> Scorecard:
    mine = [p for p in proposals if p.agency_id == agency.id]
    its_cases = [c for c in cases if c.agency_id == agency.id]
    figures = _figures(
        received=len(mine),
        answered=[p for p in mine if p.answered_at is not None],
        unanswered_scope=mine,
        decided=[c for c in its_cases if c.decided_at is not None],
        open_cases=[c for c in its_cases if c.decided_at is None],
        now=now,
    )
    assert agency.id is not None
    return Scorecard(
        kind="agency",
        subject_id=agency.id,
        name=agency.name,
        agency_id=agency.id,
        promise_days=promise,
        **figures,  # type: ignore[arg-type]
    )


def agency_scorecards(session: Session, *, now: datetime | None = None) -> list[Scorecard]:
    """Every agency's card as of `now` (default: the present), by agency name."""
    now = as_utc(now) if now is not None else utcnow()
    proposals, cases, promises = _proposals(session, now), _cases(session, now), _promises(session)
    agencies = session.exec(select(Agency).order_by(col(Agency.name), col(Agency.id))).all()
    return [
        _agency_card(a, promises.get(a.id or 0, DEFAULT_ANSWER_PROMISE_DAYS), proposals, cases, now)
        for a in agencies
    ]


def agency_scorecard(session: Session, agency_id: int, *, now: datetime | None = None) -> Scorecard:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(_("There is no agency %(id)s.", id=agency_id))
    now = as_utc(now) if now is not None else utcnow()
    promise = _promises(session).get(agency_id, DEFAULT_ANSWER_PROMISE_DAYS)
    return _agency_card(agency, promise, _proposals(session, now), _cases(session, now), now)


def _scope(session: Session, official_id: int, role: Role, now: datetime) -> tuple[set[int], set[int]]:
    """(agencies, consultations) the official's active grants of `role` cover at `now`."""
    agencies: set[int] = set()
    consultations: set[int] = set()
    for grant in active_grants(session, official_id, at=now):
        if grant.role != role:
            continue
        if grant.consultation_id is not None:
            consultations.add(grant.consultation_id)
        elif grant.agency_id is not None:
            agencies.update(agency_subtree(session, grant.agency_id))
    return agencies, consultations


def _first_answerers(session: Session) -> dict[int, int]:
    """proposal id -> the official who gave its first answer."""
    first: dict[int, int] = {}
    rows = session.exec(
        select(ProposalAnswer.proposal_id, ProposalAnswer.official_id).order_by(
            col(ProposalAnswer.created_at), col(ProposalAnswer.id)
        )
    ).all()
    for proposal_id, official_id in rows:
        first.setdefault(proposal_id, official_id)
    return first


def official_scorecard(session: Session, official_id: int, *, now: datetime | None = None) -> Scorecard:
    """One official's card as of `now` (see the module's docstring for what is theirs)."""
    official = session.get(Account, official_id)
    if official is None:
        raise NotFound(_("There is no account %(id)s.", id=official_id))
    now = as_utc(now) if now is not None else utcnow()
    proposals, cases = _proposals(session, now), _cases(session, now)
    answer_agencies, answer_consultations = _scope(session, official_id, Role.RESPONDER, now)
    moderate_agencies, moderate_consultations = _scope(session, official_id, Role.MODERATOR, now)
    first = _first_answerers(session)

    in_scope = [
        p for p in proposals if p.agency_id in answer_agencies or p.consultation_id in answer_consultations
    ]
    answered = [p for p in proposals if p.answered_at is not None and first.get(p.id) == official_id]
    received = {p.id for p in in_scope} | {p.id for p in answered}
    figures = _figures(
        received=len(received),
        answered=answered,
        unanswered_scope=in_scope,
        decided=[c for c in cases if c.decided_at is not None and c.decided_by_id == official_id],
        open_cases=[
            c
            for c in cases
            if c.decided_at is None
            and (c.agency_id in moderate_agencies or c.consultation_id in moderate_consultations)
        ],
        now=now,
    )
    return Scorecard(
        kind="official",
        subject_id=official_id,
        name=official.display_name,
        agency_id=official.agency_id,
        promise_days=None,
        **figures,  # type: ignore[arg-type]
    )
