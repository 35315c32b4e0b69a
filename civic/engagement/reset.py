"""Recomputing everything engagement derives, for `civic engagement reset` and
`civic engagement leaderboards rebuild`: after a change to the rules or badges file, after a
restore, or to catch up levels that time changed (a strike ages out, an account grows older).

Each step reads source data only, so the result equals what live handling under the current files
would have produced. Work is split into transactions of `BATCH` citizens so a large reset neither
holds one huge transaction nor blocks the handlers for long; running it again is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from civic.clock import utcnow
from civic.db import Database
from civic.engagement import leaderboards, queries, record
from civic.engagement.badges import Badges
from civic.engagement.boards import RedisBoards
from civic.engagement.ledger import lock_accounts
from civic.engagement.measures import citizen_ids
from civic.engagement.models import BadgeLevel
from civic.engagement.progress import refresh_account
from civic.engagement.rules import Rules

BATCH = 200
Progress = Callable[[int], None]


@dataclass(frozen=True)
class ResetReport:
    citizens: int
    moderation_events: int
    levels: dict[int, int]  # level -> citizens at it
    badge_levels: int  # badge levels held, all citizens together
    balances: int | None  # citizens with points, when the ledger was rebuilt too


def count_citizens(db: Database) -> int:
    with db.transaction() as session:
        return len(citizen_ids(session))


def reset(
    db: Database,
    badges: Badges,
    *,
    rules: Rules | None = None,
    redis_boards: RedisBoards | None = None,
    notify: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ResetReport:
    """Rebuild the moderation record from the outbox, the ledger and leaderboards too when `rules`
    is given, then recount every citizen's badges and level. `notify` announces what changed
    (`badge.earned`, `level.changed`); by default a reset is silent."""
    now = now or utcnow()
    balances = None
    with db.transaction() as session:
        events = record.rebuild_record(session)
        if rules is not None:
            balances = len(queries.rebuild_ledger(session, rules))
            leaderboards.rebuild(session, rules, redis_boards)
    with db.transaction() as session:
        ids = citizen_ids(session)
    levels: dict[int, int] = {}
    badge_levels = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with db.transaction() as session:
            lock_accounts(session, set(chunk))
            for account_id in chunk:
                done = refresh_account(session, badges, account_id, now=now, notify=notify)
                if done is not None:
                    levels[done.level] = levels.get(done.level, 0) + 1
        if progress is not None:
            progress(len(chunk))
    with db.transaction() as session:
        badge_levels = _badge_levels(session)
    return ResetReport(len(ids), events, dict(sorted(levels.items())), badge_levels, balances)


def _badge_levels(session: Session) -> int:
    return int(session.execute(select(func.coalesce(func.sum(BadgeLevel.level), 0))).scalar_one())


def rebuild_leaderboards(db: Database, rules: Rules, redis_boards: RedisBoards | None = None) -> int:
    """Every board from the ledger, in SQL and (production) Redis; returns the scores kept."""
    with db.transaction() as session:
        return leaderboards.rebuild(session, rules, redis_boards)
