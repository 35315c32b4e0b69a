"""Badges and levels: recounted from source data for the citizens an event concerns.

`refresh_account` is the one writer of `engagement_badge` and of identity's standing: the handler
calls it for the accounts an event names, the reset command for everyone. Because it always
recounts from source data (`civic.engagement.measures`), a changed badges file followed by a reset
gives exactly what live handling under that file would have.

Reaching a new badge level announces `badge.earned` once (the highest level announced is kept, so
content hidden and restored does not announce a level twice); a changed level announces
`level.changed`. Both go to the citizen's own topic only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from civic.clock import utcnow
from civic.engagement import levels
from civic.engagement.badges import UNPROMPTED, Badge, Badges
from civic.engagement.events import BADGE_EARNED, LEVEL_CHANGED, BadgeEarned, LevelChanged
from civic.engagement.measures import Activity, measure
from civic.engagement.models import BadgeLevel
from civic.engagement.texts import shown
from civic.events.envelope import emit
from civic.identity.models import Account, AccountKind
from civic.identity.standing import AccountStanding, do_set_standing, privileges


@dataclass(frozen=True)
class Refreshed:
    account_id: int
    level: int
    earned: list[tuple[str, int]]  # (badge, level) newly announced


def refresh_account(
    session: Session, badges: Badges, account_id: int, *, now: datetime | None = None, notify: bool = True
) -> Refreshed | None:
    """Recount one citizen's badges and level and store them. Officials and unknown ids: None."""
    account = session.get(Account, account_id)
    if account is None or account.kind == AccountKind.OFFICIAL:
        return None
    activity = measure(session, account, now or utcnow())
    earned = _store_badges(session, badges, activity, notify=notify)
    level = levels.level_for(activity)
    _store_level(session, activity, level, notify=notify)
    return Refreshed(account_id, level, earned)


def _store_badges(
    session: Session, badges: Badges, activity: Activity, *, notify: bool
) -> list[tuple[str, int]]:
    me = activity.account_id
    rows = {r.badge: r for r in session.exec(select(BadgeLevel).where(col(BadgeLevel.account_id) == me))}
    earned = []
    for badge in badges.badges:
        count = activity.counts.get(badge.name, 0)
        level = badge.level_for(count)
        row = rows.get(badge.name)
        if row is None:
            if not count:
                continue  # no row for badges not started: most citizens hold few
            row = BadgeLevel(account_id=me, badge=badge.name, updated_at=activity.now)
        if (row.level, row.count) == (level, count) and row.notified_level >= level:
            continue
        if level > row.notified_level:
            if notify:
                payload = BadgeEarned(
                    account_id=me, badge=badge.name, title=badge.title, level=level, count=count
                )
                emit(session, BADGE_EARNED, payload, actor_id=None)
                earned.append((badge.name, level))
            row.notified_level, row.earned_at = level, activity.now
        row.level, row.count, row.updated_at = level, count, activity.now
        session.add(row)
    stale = [name for name in rows if badges.get(name) is None]
    if stale:  # a badge taken out of the file
        session.execute(
            delete(BadgeLevel).where(col(BadgeLevel.account_id) == me, col(BadgeLevel.badge).in_(stale))
        )
    session.flush()
    return earned


def _store_level(session: Session, activity: Activity, level: int, *, notify: bool) -> None:
    reason = levels.reason_for(activity)
    current = session.get(AccountStanding, activity.account_id)
    previous = current.level if current is not None else 0
    if current is not None and current.level == level and current.reason == reason:
        return
    if current is None and level == 0 and not activity.contributions:
        return  # nothing to record: no row reads as level 0
    do_set_standing(session, activity.account_id, level, reason)
    if notify and level != previous:
        payload = LevelChanged(
            account_id=activity.account_id, level=level, previous_level=previous, name=privileges(level).name
        )
        emit(session, LEVEL_CHANGED, payload, actor_id=None)


# ---- reading, for the profile pages -----------------------------------------------------------


@dataclass(frozen=True)
class BadgeView:
    name: str
    title: str
    description: str
    level: int
    count: int
    next_threshold: int | None
    thresholds: tuple[int, ...]

    @property
    def progress_percent(self) -> int:
        if self.next_threshold is None:
            return 100
        previous = self.thresholds[self.level - 1] if self.level else 0
        span = self.next_threshold - previous
        return max(0, min(100, round(100 * (self.count - previous) / span))) if span else 0


def badge_views(
    session: Session, badges: Badges, account_id: int, *, earned_only: bool = False
) -> list[BadgeView]:
    """The citizen's badges in file order. `earned_only` for the public profile; badges that must
    not prompt anyone (verification) are left out until earned even on one's own profile."""
    rows = {
        r.badge: r for r in session.exec(select(BadgeLevel).where(col(BadgeLevel.account_id) == account_id))
    }
    views = []
    for badge in badges.badges:
        row = rows.get(badge.name)
        level, count = (row.level, row.count) if row is not None else (0, 0)
        if level == 0 and (earned_only or badge.name in UNPROMPTED):
            continue
        views.append(_view(badge, level, count))
    return views


def _view(badge: Badge, level: int, count: int) -> BadgeView:
    """In the reader's language: the view is built per request, the badge once per process."""
    return BadgeView(
        badge.name,
        shown(badge.title),
        shown(badge.description),
        level,
        count,
        badge.next_threshold(count),
        badge.thresholds,
    )
