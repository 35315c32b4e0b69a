"""Leaderboards: global, per consultation and per district; all time, this month, this week.

A board is named "<scope>|<window>": scope "global", "c:<consultation id>" or "d:<district>",
window "all", "m:2026-03" or "w:2026-W10" (ISO week; both in UTC, by the day of the event that
earned the points). A citizen's score on a board is the sum of their ledger rows in it: rows count
towards the consultation of the event that booked them, and a consultation's district is where
its points count for districts (never where the citizen lives: that is personal data).

Points for acts whose actor is private (supporting a proposal: who supported what is never shown)
count on the global boards only: on a consultation's or district's board they would tell that the
citizen supported something there. `private_rules` names those rules.

`update_for_bookings` recomputes, from the ledger, every board an event's bookings touch for each
citizen concerned, and writes the absolute values (an event handled twice writes the same values),
to `leaderboard_score` and, in production, to Redis. `rebuild` recomputes every board from the
ledger at once; the two agree (tests hold them to it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, func, select
from sqlmodel import Session

from civic.clock import utcnow
from civic.engagement.boards import SCORE, Boards, RedisBoards, reader_for, writer_for
from civic.engagement.ledger import Booking, consultation_of
from civic.engagement.models import LeaderboardScore, PointsEntry, Preference
from civic.engagement.record import _insert
from civic.engagement.rules import Rules
from civic.events.envelope import Envelope, registered_event_types
from civic.identity.models import Account
from civic.participation.models import Consultation

ENTRY = PointsEntry.__table__  # type: ignore[attr-defined]
CONSULTATION = Consultation.__table__  # type: ignore[attr-defined]
SCOPES = ("global", "consultation", "district")
WINDOWS = ("all", "month", "week")


def private_rules(rules: Rules) -> frozenset[str]:
    """Rules paying the actor of an event whose actor is private: global boards only."""
    kinds = registered_event_types()
    return frozenset(
        r.name for r in rules.rules if r.recipient == "actor" and not kinds[r.event].actor_public
    )


def month_of(day: date) -> str:
    return f"m:{day:%Y-%m}"


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"w:{year}-W{week:02d}"


def board_key(scope: str, window: str, *, consultation_id: int | None = None, district: str | None = None,
              today: date | None = None) -> str:  # fmt: skip
    """The board a page asks for: scope and window as the leaderboards page names them."""
    today = today or utcnow().date()
    head = {"global": "global", "consultation": f"c:{consultation_id}", "district": f"d:{district}"}[scope]
    tail = {"all": "all", "month": month_of(today), "week": week_of(today)}[window]
    return f"{head}|{tail}"


def _district_of(session: Session, consultation_id: int | None) -> str | None:
    if consultation_id is None:
        return None
    query = select(CONSULTATION.c.district).where(CONSULTATION.c.id == consultation_id)
    return session.execute(query).scalar_one_or_none()


def _scopes(consultation_id: int | None, district: str | None) -> list[str]:
    scopes = ["global"]
    if consultation_id is not None:
        scopes.append(f"c:{consultation_id}")
    if district:
        scopes.append(f"d:{district}")
    return scopes


_GROUPS = (ENTRY.c.account_id, ENTRY.c.consultation_id, CONSULTATION.c.district, ENTRY.c.day, ENTRY.c.rule)


def _grouped(session: Session, account_id: int | None = None):  # type: ignore[no-untyped-def]
    """The ledger summed per (citizen, consultation, district, day, rule): all a board needs."""
    query = (
        select(*_GROUPS, func.sum(ENTRY.c.points))
        .select_from(ENTRY.outerjoin(CONSULTATION, CONSULTATION.c.id == ENTRY.c.consultation_id))
        .group_by(*_GROUPS)
    )
    if account_id is not None:
        query = query.where(ENTRY.c.account_id == account_id)
    return session.execute(query)


def _totals(rows, private: frozenset[str]) -> dict[tuple[str, int], int]:  # type: ignore[no-untyped-def]
    """(board, citizen) -> score from grouped ledger rows: the one definition of a board's score,
    used by the live update and by the rebuild alike."""
    totals: dict[tuple[str, int], int] = defaultdict(int)
    for account_id, consultation_id, district, day, rule, points in rows:
        scopes = ["global"] if rule in private else _scopes(consultation_id, district)
        for scope in scopes:
            for window in ("all", month_of(day), week_of(day)):
                totals[(f"{scope}|{window}", int(account_id))] += int(points or 0)
    return totals


def member_scores(
    session: Session, account_id: int, boards: list[str], private: frozenset[str] = frozenset()
) -> dict[str, int]:
    """One citizen's scores on `boards`, from the ledger."""
    totals = _totals(_grouped(session, account_id), private)
    return {board: totals.get((board, account_id), 0) for board in boards}


def on_leaderboards(session: Session, account_id: int) -> bool:
    row = session.get(Preference, account_id)
    return row.on_leaderboards if row is not None else True


def store_scores(session: Session, account_id: int, scores: dict[str, int]) -> None:
    """Write absolute scores to SQL (a zero removes the row) and, for a visible citizen, to Redis."""
    kept = [{"board": b, "account_id": account_id, "score": v} for b, v in scores.items() if v]
    gone = [b for b, v in scores.items() if not v]
    if kept:
        statement = _insert(session)(SCORE)
        upsert = statement.on_conflict_do_update(
            index_elements=["board", "account_id"], set_={"score": statement.excluded.score}
        )
        session.execute(upsert, kept)
    if gone:
        session.execute(delete(SCORE).where(SCORE.c.account_id == account_id, SCORE.c.board.in_(gone)))
    redis_boards = writer_for(session)
    if redis_boards is not None:
        visible = on_leaderboards(session, account_id)
        redis_boards.write(account_id, scores if visible else dict.fromkeys(scores, 0))


def update_for_bookings(
    session: Session, event: Envelope, bookings: list[Booking], private: frozenset[str] = frozenset()
) -> None:
    """Bring the boards the bookings touch up to date for each citizen concerned. The caller holds
    the citizens' engagement locks (the handler does)."""
    if not bookings:
        return
    consultation_id = consultation_of(event)
    scopes = _scopes(consultation_id, _district_of(session, consultation_id))
    touched: dict[int, set[str]] = defaultdict(set)
    for booking in bookings:
        for window in ("all", month_of(booking.day), week_of(booking.day)):
            touched[booking.account_id].update(f"{scope}|{window}" for scope in scopes)
    for account_id, boards in sorted(touched.items()):
        store_scores(session, account_id, member_scores(session, account_id, sorted(boards), private))


def show_or_hide(session: Session, account_id: int, visible: bool) -> None:
    """After a citizen joined or left the leaderboards: put them in or take them out of Redis
    (SQL reads check the preference themselves)."""
    redis_boards = writer_for(session)
    if redis_boards is None:
        return
    rows = session.execute(select(SCORE.c.board, SCORE.c.score).where(SCORE.c.account_id == account_id))
    scores = {board: int(score) for board, score in rows}
    redis_boards.write(account_id, scores if visible else dict.fromkeys(scores, 0))


def computed_scores(
    session: Session, private: frozenset[str] = frozenset()
) -> Iterator[tuple[str, int, int]]:
    """Every (board, account, score) from the ledger, aggregated in one pass."""
    for (board, account_id), score in sorted(_totals(_grouped(session), private).items()):
        if score:
            yield board, account_id, score


def rebuild(session: Session, rules: Rules, redis_boards: RedisBoards | None = None) -> int:
    """Recompute every board from the ledger (SQL, and Redis when given); returns the rows kept."""
    session.execute(delete(LeaderboardScore))
    rows = list(computed_scores(session, private_rules(rules)))
    for i in range(0, len(rows), 5000):
        chunk = rows[i : i + 5000]
        session.execute(SCORE.insert(), [{"board": b, "account_id": a, "score": s} for b, a, s in chunk])
    if redis_boards is not None:
        hidden = set(
            session.execute(
                select(Preference.account_id).where(Preference.on_leaderboards.is_(False))
            ).scalars()  # type: ignore[attr-defined]
        )
        redis_boards.replace_all(row for row in rows if row[1] not in hidden)
    return len(rows)


# ---- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    rank: int
    account_id: int
    display_name: str
    score: int


def top(
    session: Session, board: str, limit: int = 50, offset: int = 0, boards: Boards | None = None
) -> list[Place]:
    """A page of a board, best first, with display names (the only thing a board shows of anyone)."""
    store = boards or reader_for(session)
    rows = store.top(session, board, limit, offset)
    if not rows:
        return []
    ids = [account_id for account_id, _ in rows]
    names = dict(session.execute(select(Account.id, Account.display_name).where(Account.id.in_(ids))).all())  # type: ignore[union-attr]
    places: list[Place] = []
    for i, (account_id, score) in enumerate(rows):
        # Competition ranking: equal scores share a rank, and a tie may begin on an earlier page.
        if places and places[-1].score == score:
            rank = places[-1].rank
        elif i == 0 and offset:
            rank = (store.rank(session, board, account_id) or (offset + 1, score))[0]
        else:
            rank = offset + i + 1
        places.append(Place(rank, account_id, names.get(account_id, "—"), score))
    return places


def place_of(
    session: Session, board: str, account_id: int, boards: Boards | None = None
) -> tuple[int, int] | None:
    """A citizen's (rank, score) on a board; None when not on it (no points there, or opted out)."""
    return (boards or reader_for(session)).rank(session, board, account_id)


def size(session: Session, board: str, boards: Boards | None = None) -> int:
    return (boards or reader_for(session)).size(session, board)
