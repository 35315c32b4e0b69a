"""What a citizen has done, counted from source data: the inputs of badges and levels.

Everything here reads the current state of participation's tables, identity's verification records,
engagement's ledger balance and engagement's moderation record, never a running tally kept by
handlers. So live handling (recount the accounts an event concerns) and the reset command
(recount everyone) give the same result by construction, whatever the order events came in and
whatever the thresholds were when they did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from civic.clock import as_utc
from civic.engagement.queries import balance
from civic.engagement.record import record_of
from civic.identity.models import Account, AccountKind, VerificationLevel, VerificationRecord
from civic.participation.models import AnswerStatus, Comment, CommentStatus, Proposal, ProposalStatus, Support

OUTCOMES = (AnswerStatus.ACCEPTED, AnswerStatus.PARTIALLY_ACCEPTED, AnswerStatus.IMPLEMENTED)
STRIKE_DAYS = 90  # content hidden or rejected by moderation counts against a level this long


@dataclass(frozen=True)
class Activity:
    """One citizen's counts at `now`."""

    account_id: int
    now: datetime
    account_days: int = 0
    days_active: int = 0
    contributions: int = 0  # published proposals and comments
    points: int = 0
    upheld_reports: int = 0
    dismissed_reports: int = 0
    recent_strikes: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # badge name -> its count


def measure(session: Session, account: Account, now: datetime) -> Activity:
    assert account.id is not None
    me = account.id
    proposals = session.execute(
        select(Proposal.status, Proposal.consultation_id, Proposal.created_at, Proposal.answer_status,
               Proposal.first_answered_at).where(col(Proposal.author_id) == me)
    ).all()  # fmt: skip
    comments = session.execute(
        select(Comment.status, Proposal.consultation_id, Comment.created_at)
        .join(Proposal, col(Proposal.id) == col(Comment.proposal_id))
        .where(col(Comment.author_id) == me)
    ).all()
    supports = session.execute(
        select(Proposal.status, Proposal.consultation_id, Support.created_at)
        .join(Proposal, col(Proposal.id) == col(Support.proposal_id))
        .where(col(Support.account_id) == me, col(Proposal.author_id) != me)
    ).all()
    published = [p for p in proposals if p.status == ProposalStatus.PUBLISHED]
    live_comments = [c for c in comments if c.status == CommentStatus.PUBLISHED]
    live_supports = [s for s in supports if s.status == ProposalStatus.PUBLISHED]
    # Taking part: what still stands (content removed by moderation or withdrawn does not count).
    acts = [(p.consultation_id, p.created_at) for p in published]
    acts += [(c.consultation_id, c.created_at) for c in live_comments]
    acts += [(s.consultation_id, s.created_at) for s in live_supports]
    days = {as_utc(at).astimezone(UTC).date() for _, at in acts}
    record = record_of(session, me, now - timedelta(days=STRIKE_DAYS))
    counts = {
        "proposer": len(published),
        "supporter": len(live_supports),
        "commenter": len(live_comments),
        "first_consultation": len({consultation for consultation, _ in acts}),
        "streak": longest_month_run(days),
        "verified": _verified_months(session, account, now),
        "heard": sum(1 for p in published if p.first_answered_at is not None),
        "changemaker": sum(1 for p in published if p.answer_status in OUTCOMES),
        "reliable_reporter": record.upheld,
    }
    return Activity(
        account_id=me,
        now=now,
        account_days=max((now - as_utc(account.created_at)).days, 0),
        days_active=len(days),
        contributions=len(published) + len(live_comments),
        points=balance(session, me),
        upheld_reports=record.upheld,
        dismissed_reports=record.dismissed,
        recent_strikes=record.strikes,
        counts=counts,
    )


def longest_month_run(days: set[date]) -> int:
    """The longest run of consecutive calendar months with at least one of `days` in each."""
    months = sorted({d.year * 12 + d.month - 1 for d in days})
    best = run = 0
    previous = None
    for month in months:
        run = run + 1 if previous is not None and month == previous + 1 else 1
        best, previous = max(best, run), month
    return best


def _verified_months(session: Session, account: Account, now: datetime) -> int:
    """Calendar months since the first verification, counting that month as one; 0 if the account is
    not verified now."""
    if account.verification_level == VerificationLevel.UNVERIFIED:
        return 0
    first = session.execute(
        select(func.min(VerificationRecord.created_at)).where(
            col(VerificationRecord.account_id) == account.id,
            col(VerificationRecord.level) != VerificationLevel.UNVERIFIED,
        )
    ).scalar_one_or_none()
    if first is None:
        return 0
    first = as_utc(first).astimezone(UTC)
    return (now.year - first.year) * 12 + now.month - first.month + 1


def citizen_ids(session: Session) -> list[int]:
    """Every e-citizen account (officials hold no badges or levels), for the reset command."""
    query = select(Account.id).where(col(Account.kind) != AccountKind.OFFICIAL).order_by(col(Account.id))
    return [int(i) for i in session.execute(query).scalars()]
