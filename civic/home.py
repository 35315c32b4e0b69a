"""What the home page tells a newcomer: the consultations open now (closing soonest first), today's
public activity, and a short feed of public events that names nobody; and the platform's activity
per day, which the public dashboard draws.

Everything here is public and the same for every visitor, so a web process keeps one snapshot
until the next event (the home page is the most visited page, and open pages refetch it on each
event). The snapshot holds data, not text: the page words it in each reader's language.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.requests import Request

from civic.clock import as_utc, utcnow
from civic.events.models import OutboxEvent
from civic.identity.web import transact
from civic.leadership import dashboard
from civic.participation.models import (
    Comment,
    CommentStatus,
    Consultation,
    ConsultationStatus,
    Phase,
    Proposal,
    Support,
)

SHOWN_CONSULTATIONS = 3
FEED_SIZE = 4
FEED_SCAN = 400  # recent outbox rows looked through for the feed
LIVE_TOPICS = 40  # consultation topics the page follows (a socket follows at most 100)
SNAPSHOT_MAX_AGE = 60.0
DAILY_MAX_AGE = 60.0
POLL_SECONDS = 30  # the page also refetches itself this often (events of other consultations)
DAYS = 14
PUBLIC_PROPOSALS = ("published", "withdrawn")
# Public events the feed tells of; what each says is worded in web/templates/home.html.
FEED_TYPES = (
    "consultation.published",
    "proposal.submitted",
    "proposal.approved",
    "proposal.supported",
    "comment.posted",
    "proposal.answered",
)


@dataclass(frozen=True)
class OpenConsultation:
    id: int
    title: str
    phase: str
    phase_ends: date | None  # the current phase's end in the schedule, if it has one
    proposals: int  # public ones
    supports: int  # of public proposals


@dataclass(frozen=True)
class PublicEvent:
    """One line of the feed: what happened where, never who did it."""

    at: datetime
    type: str
    consultation_id: int
    consultation_title: str
    proposal_id: int | None  # only while the proposal is public


@dataclass(frozen=True)
class Day:
    day: date
    proposals: int
    supports: int
    comments: int


@dataclass(frozen=True)
class HomeSnapshot:
    counters: dict[str, int]
    consultations: list[OpenConsultation]
    open_total: int
    feed: list[PublicEvent]
    live_topics: list[str]


# ---- open consultations ----------------------------------------------------------------------


def _phase_end(consultation: Consultation) -> date | None:
    ends = (consultation.schedule or {}).get(consultation.phase, {}).get("ends")
    try:
        return date.fromisoformat(ends) if ends else None
    except ValueError:
        return None


def open_consultations(session: Session, today: date) -> list[OpenConsultation]:
    """Published consultations not closed, the one whose current phase ends soonest first (a phase
    already past its end, or without one, after them; then the newest)."""
    rows = session.exec(
        select(Consultation).where(
            Consultation.status == ConsultationStatus.PUBLISHED, col(Consultation.phase) != Phase.CLOSED
        )
    ).all()
    ids = [c.id for c in rows]
    counts: dict[int, tuple[int, int]] = {}
    if ids:
        grouped = session.exec(
            select(Proposal.consultation_id, func.count(), func.coalesce(func.sum(Proposal.support_count), 0))
            .where(col(Proposal.consultation_id).in_(ids), col(Proposal.status).in_(PUBLIC_PROPOSALS))
            .group_by(col(Proposal.consultation_id))
        ).all()
        counts = {cid: (int(n), int(s)) for cid, n, s in grouped}

    def order(c: Consultation) -> tuple[int, date, float]:
        ends = _phase_end(c)
        upcoming = ends is not None and ends >= today
        published = as_utc(c.published_at).timestamp() if c.published_at else 0.0
        return (0 if upcoming else 1, ends if upcoming and ends else date.max, -published)

    found = []
    for c in sorted(rows, key=order):
        assert c.id is not None
        proposals, supports = counts.get(c.id, (0, 0))
        found.append(OpenConsultation(c.id, c.title, c.phase, _phase_end(c), proposals, supports))
    return found


# ---- the feed --------------------------------------------------------------------------------


def _consultation_of(event: OutboxEvent) -> int | None:
    """The consultation a public event went to; None if it went to no consultation's topic (not
    public: a pending proposal's, say)."""
    if not any(t.startswith("consultation:") for t in event.topics):
        return None
    value = event.data.get("consultation_id")
    return int(value) if isinstance(value, int) else None


def public_feed(session: Session, size: int = FEED_SIZE) -> list[PublicEvent]:
    """The latest public events, newest first, in published consultations only. A proposal is
    linked only while it is public; nobody's name, and no text anyone wrote, is shown."""
    rows = session.exec(
        select(OutboxEvent)
        .where(col(OutboxEvent.type).in_(FEED_TYPES))
        .order_by(col(OutboxEvent.seq).desc())
        .limit(FEED_SCAN)
    ).all()
    chosen = [(r, cid) for r in rows if (cid := _consultation_of(r)) is not None]
    titles = dict(
        session.exec(
            select(Consultation.id, Consultation.title).where(
                col(Consultation.id).in_({cid for _, cid in chosen}),
                Consultation.status == ConsultationStatus.PUBLISHED,
            )
        ).all()
    )
    wanted = {int(r.data["proposal_id"]) for r, _ in chosen if isinstance(r.data.get("proposal_id"), int)}
    public = set(
        session.exec(
            select(Proposal.id).where(
                col(Proposal.id).in_(wanted), col(Proposal.status).in_(PUBLIC_PROPOSALS)
            )
        ).all()
    )
    feed = []
    for row, cid in chosen:
        if cid not in titles:
            continue
        pid = row.data.get("proposal_id")
        feed.append(
            PublicEvent(
                at=as_utc(row.occurred_at),
                type=row.type,
                consultation_id=cid,
                consultation_title=titles[cid],
                proposal_id=pid if pid in public else None,
            )
        )
        if len(feed) == size:
            break
    return feed


# ---- activity per day ------------------------------------------------------------------------


def _per_day(session: Session, created: Any, *where: Any) -> dict[date, int]:
    day = func.date(created)
    rows = session.exec(select(day, func.count()).where(*where).group_by(day)).all()
    return {date.fromisoformat(str(d)[:10]): int(n) for d, n in rows if d is not None}


def daily_activity(session: Session, *, now: datetime | None = None, days: int = DAYS) -> list[Day]:
    """Public proposals, supports and published comments per day (UTC), the last `days` days up
    to today, oldest first."""
    today = (now or utcnow()).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    proposals = _per_day(
        session,
        Proposal.created_at,
        col(Proposal.created_at) >= since,
        col(Proposal.status).in_(PUBLIC_PROPOSALS),
    )
    supports = _per_day(session, Support.created_at, col(Support.created_at) >= since)
    comments = _per_day(
        session,
        Comment.created_at,
        col(Comment.created_at) >= since,
        col(Comment.status) == CommentStatus.PUBLISHED,
    )
    return [
        Day(d, proposals.get(d, 0), supports.get(d, 0), comments.get(d, 0))
        for d in (first + timedelta(days=i) for i in range(days))
    ]


# ---- the snapshot ----------------------------------------------------------------------------


def home_snapshot(session: Session, *, now: datetime | None = None) -> HomeSnapshot:
    now = now or utcnow()
    board = dashboard.public_dashboard(session, now=now)
    listed = open_consultations(session, now.date())
    return HomeSnapshot(
        counters=board.counters,
        consultations=listed[:SHOWN_CONSULTATIONS],
        open_total=len(listed),
        feed=public_feed(session),
        live_topics=[f"consultation:{c.id}" for c in listed[:LIVE_TOPICS]],
    )


async def cached_snapshot(request: Request) -> HomeSnapshot:
    """The snapshot, shared by this process's requests until an event is written (the outbox's
    last seq moves; live pages refetch on exactly those events, so they never get a stale copy) or
    it is a minute old (what changes without an event: the day's turn)."""
    state = request.app.state

    def load(session: Session, _account: object) -> HomeSnapshot:
        seq = session.exec(select(func.max(OutboxEvent.seq))).one()
        kept = getattr(state, "home_snapshot", None)
        if kept is not None and kept[0] == seq and time.monotonic() - kept[1] < SNAPSHOT_MAX_AGE:
            return kept[2]  # type: ignore[no-any-return]
        snapshot = home_snapshot(session)
        state.home_snapshot = (seq, time.monotonic(), snapshot)
        return snapshot

    return await transact(request, load)


async def cached_daily_activity(request: Request) -> list[Day]:
    """Activity per day for the public dashboard, recounted at most once a minute per process."""
    state = request.app.state
    kept = getattr(state, "home_daily", None)
    if kept is not None and time.monotonic() - kept[0] < DAILY_MAX_AGE:
        return kept[1]  # type: ignore[no-any-return]
    days = await transact(request, lambda session, _account: daily_activity(session))
    state.home_daily = (time.monotonic(), days)
    return days
