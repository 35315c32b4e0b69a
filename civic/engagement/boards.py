"""Where leaderboards are read from: Redis sorted sets in production, SQL in the embedded mode.

Both answer the same three questions (a page of the top, one citizen's rank, how many are on a
board) from the same data: the `leaderboard_score` rows engagement keeps in step with the ledger
(`civic.engagement.leaderboards`). In production every change of those rows is also written to a
sorted set per board, with absolute scores recomputed from the ledger (ZADD, never ZINCRBY), so a
replayed event writes the same value again and changes nothing.

Ties: both order equal scores by account id, highest first (Redis orders equal scores by member,
and members are zero-padded ids so that is numeric order); a rank is 1 + the number of visible
citizens with more points, so tied citizens share it.

The Redis writes happen inside the handler's transaction while it holds engagement's per-account
lock, so two transactions for one citizen write Redis in the order they commit. A transaction that
fails after writing leaves Redis ahead of SQL until its retry (deliveries are retried) writes the
same recomputed value; `civic engagement leaderboards rebuild` sets everything from the ledger.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Protocol

import redis
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from civic.engagement.models import LeaderboardScore, Preference
from civic.settings import Settings

SCORE = LeaderboardScore.__table__  # type: ignore[attr-defined]
PREFERENCE = Preference.__table__  # type: ignore[attr-defined]


def member(account_id: int) -> str:
    return f"{account_id:012d}"


class Boards(Protocol):
    def top(self, session: Session, board: str, limit: int, offset: int = 0) -> list[tuple[int, int]]: ...

    def rank(self, session: Session, board: str, account_id: int) -> tuple[int, int] | None: ...

    def size(self, session: Session, board: str) -> int: ...


def _visible():  # type: ignore[no-untyped-def]
    """Citizens who did not leave the leaderboards (no preference row: on them, the default)."""
    return func.coalesce(PREFERENCE.c.on_leaderboards, True).is_(True)


def _scores():  # type: ignore[no-untyped-def]
    return SCORE.outerjoin(PREFERENCE, PREFERENCE.c.account_id == SCORE.c.account_id)


class SqlBoards:
    """The embedded mode's leaderboards: the `leaderboard_score` table itself."""

    def top(self, session: Session, board: str, limit: int, offset: int = 0) -> list[tuple[int, int]]:
        query = (
            select(SCORE.c.account_id, SCORE.c.score)
            .select_from(_scores())
            .where(SCORE.c.board == board, _visible())
            .order_by(SCORE.c.score.desc(), SCORE.c.account_id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [(int(a), int(s)) for a, s in session.execute(query)]

    def rank(self, session: Session, board: str, account_id: int) -> tuple[int, int] | None:
        mine = session.execute(
            select(SCORE.c.score)
            .select_from(_scores())
            .where(SCORE.c.board == board, SCORE.c.account_id == account_id, _visible())
        ).scalar_one_or_none()
        if mine is None:
            return None
        above = session.execute(
            select(func.count())
            .select_from(_scores())
            .where(SCORE.c.board == board, SCORE.c.score > mine, _visible())
        ).scalar_one()
        return int(above) + 1, int(mine)

    def size(self, session: Session, board: str) -> int:
        query = select(func.count()).select_from(_scores()).where(SCORE.c.board == board, _visible())
        return int(session.execute(query).scalar_one())


class RedisBoards:
    """Production leaderboards: one sorted set per board, holding only visible citizens."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = f"{prefix}:eng:lb:"

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisBoards:
        return cls(redis.Redis.from_url(settings.redis_url, decode_responses=True), settings.redis_prefix)

    def key(self, board: str) -> str:
        return self.prefix + board

    def top(self, session: Session, board: str, limit: int, offset: int = 0) -> list[tuple[int, int]]:
        rows = self.client.zrevrange(self.key(board), offset, offset + limit - 1, withscores=True)
        return [(int(m), int(s)) for m, s in rows]  # type: ignore[union-attr]

    def rank(self, session: Session, board: str, account_id: int) -> tuple[int, int] | None:
        score = self.client.zscore(self.key(board), member(account_id))
        if score is None:
            return None
        above = self.client.zcount(self.key(board), f"({score}", "+inf")
        return int(above) + 1, int(score)  # type: ignore[arg-type]

    def size(self, session: Session, board: str) -> int:
        return int(self.client.zcard(self.key(board)))  # type: ignore[arg-type]

    def write(self, account_id: int, scores: dict[str, int]) -> None:
        """Set one citizen's scores on the given boards (0 removes them from a board)."""
        pipe = self.client.pipeline(transaction=False)
        for board, score in scores.items():
            if score:
                pipe.zadd(self.key(board), {member(account_id): score})
            else:
                pipe.zrem(self.key(board), member(account_id))
        pipe.execute()

    def remove(self, account_id: int, boards: Iterable[str]) -> None:
        self.write(account_id, dict.fromkeys(boards, 0))

    def replace_all(self, scores: Iterable[tuple[str, int, int]], batch: int = 5000) -> int:
        """Drop every board and load (board, account, score) rows; returns how many were loaded."""
        keys = list(self.client.scan_iter(match=self.prefix + "*", count=1000))
        for i in range(0, len(keys), 1000):
            self.client.delete(*keys[i : i + 1000])
        loaded = 0
        pipe = self.client.pipeline(transaction=False)
        for board, account_id, score in scores:
            if score:
                pipe.zadd(self.key(board), {member(account_id): score})
                loaded += 1
                if loaded % batch == 0:
                    pipe.execute()
        pipe.execute()
        return loaded

    def close(self) -> None:
        self.client.close()


# ---- which store a process uses -------------------------------------------------------------

_WRITERS: weakref.WeakKeyDictionary[Engine, RedisBoards] = weakref.WeakKeyDictionary()


def attach(engine: Engine, settings: Settings) -> RedisBoards | None:
    """Tell engagement where this process's Redis leaderboards are (production only); idempotent.
    Whoever builds a runtime calls it, so the handler (which gets only a session) can find them."""
    if not settings.redis_url:
        return None
    found = _WRITERS.get(engine)
    if found is None or found.prefix != f"{settings.redis_prefix}:eng:lb:":
        found = _WRITERS[engine] = RedisBoards.from_settings(settings)
    return found


def writer_for(session: Session) -> RedisBoards | None:
    """The Redis leaderboards attached to this session's database, if any."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return _WRITERS.get(engine)


def reader_for(session: Session) -> Boards:
    return writer_for(session) or SqlBoards()
