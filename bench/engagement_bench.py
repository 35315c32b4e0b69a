"""Engagement benchmark (not a test): handler throughput and leaderboard reads, SQL vs Redis.

    python bench/engagement_bench.py                     # SQLite in a temp dir, Redis if reachable
    python bench/engagement_bench.py --postgres URL      # also on PostgreSQL (an empty database is made)
    python bench/engagement_bench.py --events 3000 --ledger-rows 100000 --citizens 1000000

1. Handler throughput. Real actions (submissions, supports, comments by 200 citizens in 4
   consultations) produce an outbox; engagement's state is then emptied and the same events are
   handled again in one transaction each, three ways in the same run:
     baseline   one INSERT + commit per event (the cost of a transaction, nothing of engagement's)
     points     ledger.apply_event only (the points handler as it was before badges)
     full       the engagement handler: points, moderation record, leaderboards, badges, level
2. Leaderboards from a ledger of --ledger-rows rows: rebuild, then top-50 and a citizen's rank,
   SQL (embedded reads) vs Redis (production reads), median of 200 reads.
3. The issue's target: top-100 and one citizen's rank on a Redis board of --citizens members.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
from sqlalchemy import create_engine, delete, text  # noqa: E402
from sqlmodel import select  # noqa: E402

from civic.engagement import leaderboards  # noqa: E402
from civic.engagement.badges import load_badges  # noqa: E402
from civic.engagement.boards import RedisBoards, SqlBoards, member  # noqa: E402
from civic.engagement.handlers import engagement_handler  # noqa: E402
from civic.engagement.ledger import apply_event  # noqa: E402
from civic.engagement.models import (  # noqa: E402
    BadgeLevel,
    CaseRecord,
    LeaderboardScore,
    PointsBalance,
    PointsEntry,
    PointsReversal,
    ReportRecord,
)
from civic.engagement.rules import load_rules  # noqa: E402
from civic.events.envelope import Envelope  # noqa: E402
from civic.events.models import OutboxEvent  # noqa: E402
from civic.identity.models import Account, AccountKind, Agency, Role  # noqa: E402
from civic.identity.standing import AccountStanding  # noqa: E402
from civic.participation import actions, consultations  # noqa: E402
from civic.participation.models import Phase  # noqa: E402
from civic.participation.schemas import CommentInput, ConsultationInput, PhaseChange, ProposalInput  # noqa: E402
from civic.runtime import Runtime, build_runtime  # noqa: E402
from civic.settings import Settings  # noqa: E402
from civic.wiring import import_models  # noqa: E402

ENGAGEMENT_TABLES = (PointsEntry, PointsReversal, PointsBalance, BadgeLevel, CaseRecord, ReportRecord,
                     LeaderboardScore, AccountStanding)  # fmt: skip


def _runtime(url: str, var: Path) -> Runtime:
    engine = create_engine(url)
    import_models().metadata.create_all(engine)
    engine.dispose()
    settings = Settings(
        var_dir=var, database_url=url, secret_key="bench", argon2_memory_kib=19_456, argon2_time_cost=2,
        registration_limit="1000000/hour",
    )  # fmt: skip
    return build_runtime(settings)


def _make_history(runtime: Runtime, events: int) -> None:
    """Real actions until the outbox holds about `events` events engagement handles (200 citizens,
    more when `events` needs them to stay within a newcomer's daily limits)."""
    rng = random.Random(5)
    password_hash = runtime.passwords.hash("bench password 1")
    now = datetime.now(UTC)
    with runtime.db.transaction() as s:
        agency = Agency(slug=f"bench-{uuid.uuid4().hex[:6]}", name="Bench", name_az="Bench", kind="agency")
        s.add(agency)
        s.flush()
        convener = Account(email=f"c{uuid.uuid4().hex[:6]}@gov.az", display_name="Convener", kind=AccountKind.OFFICIAL,
                           password_hash=password_hash, agency_id=agency.id, created_at=now)  # fmt: skip
        citizens = [
            Account(
                email=f"b{uuid.uuid4().hex[:8]}@example.az",
                display_name=f"Citizen {i}",
                kind=AccountKind.CITIZEN,
                password_hash=password_hash,
                created_at=now - timedelta(days=rng.randint(0, 400)),
            )  # fmt: skip
            for i in range(max(200, events // 8 + 1))
        ]
        s.add(convener)
        s.add_all(citizens)
        s.flush()
        from civic.identity.actions import do_grant_role

        do_grant_role(s, convener, Role.CONVENER, agency_id=agency.id)
    rooms = []
    for n in range(4):
        with runtime.db.transaction() as s:
            data = ConsultationInput(agency_id=agency.id, title=f"Bench consultation {n}", summary="A benchmark consultation.",
                                     body="Benchmark.", support_threshold=50)  # fmt: skip
            c = consultations.create_consultation(s, convener, data)
            consultations.change_phase(s, convener, c.id, PhaseChange(phase=Phase.PROPOSALS.value))  # type: ignore[arg-type]
            consultations.publish_consultation(s, convener, c.id)  # type: ignore[arg-type]
            rooms.append(c.id)
    proposals = []
    # Authors and commenters in turn: a newcomer may write 2 proposals and 10 comments a day
    # (civic.participation.limits), which random picks overran.
    for i in range(max(events // 4, 10)):
        author = citizens[i % len(citizens)]
        with runtime.db.transaction() as s:
            p = actions.submit_proposal(
                s,
                author,
                rng.choice(rooms),
                ProposalInput(title=f"Proposal {i}", body="A proposal made by the benchmark."),
            )
            proposals.append((p.id, p.author_id))
    for i in range(events // 4):
        who = citizens[(i * 7) % len(citizens)]
        with runtime.db.transaction() as s:
            actions.post_comment(s, who, rng.choice(proposals)[0], CommentInput(body="A comment."))
    for room in rooms:
        with runtime.db.transaction() as s:
            consultations.change_phase(s, convener, room, PhaseChange(phase=Phase.SUPPORT.value))
    supports = 0
    while supports < events // 2:
        who, (proposal_id, author_id) = rng.choice(citizens), rng.choice(proposals)
        if who.id == author_id:
            continue
        try:
            with runtime.db.transaction() as s:
                actions.support_proposal(s, who, proposal_id)
            supports += 1
        except Exception:  # already supported: pick again
            continue


def _events(runtime: Runtime, types: frozenset[str]) -> list[Envelope]:
    with runtime.db.transaction() as s:
        rows = s.exec(
            select(OutboxEvent).where(OutboxEvent.type.in_(sorted(types))).order_by(OutboxEvent.seq)
        )  # type: ignore[attr-defined]
        return [Envelope.from_row(r) for r in rows]


def _clear(runtime: Runtime) -> None:
    with runtime.db.transaction() as s:
        for model in ENGAGEMENT_TABLES:
            s.execute(delete(model))


def bench_handler(runtime: Runtime, events: int) -> dict[str, float]:
    rules, badges = load_rules(), load_badges()
    handler = engagement_handler(rules, badges)
    t = time.perf_counter()
    _make_history(runtime, events)
    print(f"  history made in {time.perf_counter() - t:.1f} s")
    stream = _events(runtime, handler.event_types)
    rates: dict[str, float] = {}
    with runtime.db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_baseline (event_id VARCHAR(36))"))
    runs = {
        "baseline": lambda s, e: s.execute(
            text("INSERT INTO bench_baseline (event_id) VALUES (:e)"), {"e": e.id}
        ),
        "points": lambda s, e: apply_event(s, rules, e),
        "full": handler.fn,
    }
    for name, fn in runs.items():
        _clear(runtime)
        start = time.perf_counter()
        for event in stream:
            with runtime.db.transaction() as s:
                fn(s, event)
        elapsed = time.perf_counter() - start
        rates[name] = len(stream) / elapsed
        print(f"  {name:<9} {len(stream)} events in {elapsed:6.2f} s = {rates[name]:8.0f} events/s")
    print(f"  ratios: points/baseline {rates['points'] / rates['baseline']:.2f}, full/points {rates['full'] / rates['points']:.2f}, "
          f"full/baseline {rates['full'] / rates['baseline']:.2f}")  # fmt: skip
    return rates


def _median_ms(fn, repeat: int = 200) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def bench_boards(
    runtime: Runtime, rows: int, redis_url: str | None, prefix: str | None = None
) -> dict[str, tuple[float, float]]:
    """Median ms of (top-50, a citizen's rank) per store: {"SQL": …, "Redis": …}."""
    rules = load_rules()
    _clear(runtime)
    rng = random.Random(7)
    citizens = max(rows // 20, 10)
    today = datetime.now(UTC).date()
    batch = []
    with runtime.db.transaction() as s:
        consultation_ids = [r[0] for r in s.execute(text("SELECT id FROM consultation"))] or [None]
        for i in range(rows):
            day = today - timedelta(days=rng.randint(0, 60))
            batch.append({"account_id": rng.randint(1, citizens), "rule": "proposal_supported", "day": day, "kind": "award",
                          "points": rng.randint(1, 50), "base": 0, "event_id": f"{i:036d}", "event_seq": i,
                          "subject": "", "content": "", "reason": "bench", "created_at": datetime.now(UTC),
                          "consultation_id": rng.choice(consultation_ids)})  # fmt: skip
            if len(batch) == 10_000:
                s.execute(PointsEntry.__table__.insert(), batch)  # type: ignore[attr-defined]
                batch.clear()
        if batch:
            s.execute(PointsEntry.__table__.insert(), batch)  # type: ignore[attr-defined]
    redis_boards = None
    if redis_url:
        redis_boards = RedisBoards(
            redis.Redis.from_url(redis_url, decode_responses=True), prefix or f"bench{uuid.uuid4().hex[:6]}"
        )
    start = time.perf_counter()
    with runtime.db.transaction() as s:
        kept = leaderboards.rebuild(s, rules, redis_boards)
    print(f"  rebuild from {rows} ledger rows ({citizens} citizens): {kept} board scores in {time.perf_counter() - start:.2f} s"
          + (" (SQL + Redis)" if redis_boards else " (SQL)"))  # fmt: skip
    board = leaderboards.board_key("global", "all", today=today)
    month = leaderboards.board_key("global", "month", today=today)
    stores = [("SQL", SqlBoards())] + ([("Redis", redis_boards)] if redis_boards else [])
    results = {}
    with runtime.db.transaction() as s:
        for name, store in stores:
            someone = store.top(s, board, 1000)[-1][0]
            top_ms = _median_ms(lambda: store.top(s, board, 50))  # noqa: B023
            rank_ms = _median_ms(lambda: store.rank(s, board, someone))  # noqa: B023
            month_ms = _median_ms(lambda: store.top(s, month, 50))  # noqa: B023
            results[name] = (top_ms, rank_ms)
            print(
                f"  {name:<5} top-50 all-time {top_ms:.3f} ms, top-50 this month {month_ms:.3f} ms, rank {rank_ms:.3f} ms"
            )
    if "Redis" in results:
        print(
            f"  SQL/Redis: top-50 x{results['SQL'][0] / results['Redis'][0]:.1f}, rank x{results['SQL'][1] / results['Redis'][1]:.1f}"
        )
    if redis_boards:
        redis_boards.replace_all([])
        redis_boards.close()
    return results


def bench_million(redis_url: str, members: int, prefix: str | None = None) -> dict[str, float]:
    """Median ms of civic's top-100 and own-rank reads on one Redis board of `members`, and of the
    bare Redis commands a plain leaderboard would send on the same key (ZREVRANGE … WITHSCORES;
    ZREVRANK, which civic cannot use: it ranks ties together, by ZSCORE + ZCOUNT)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    boards = RedisBoards(client, prefix or f"bench{uuid.uuid4().hex[:6]}")
    rng = random.Random(11)
    start = time.perf_counter()
    boards.replace_all(
        (("global|all", i, rng.randint(1, 100_000)) for i in range(1, members + 1)), batch=20_000
    )
    print(f"  loaded {members} members in {time.perf_counter() - start:.1f} s")
    probe = rng.randint(1, members)
    top_ms = _median_ms(lambda: boards.top(None, "global|all", 100))  # type: ignore[arg-type]
    rank_ms = _median_ms(lambda: boards.rank(None, "global|all", probe))  # type: ignore[arg-type]
    key = boards.prefix + "global|all"
    bare_top_ms = _median_ms(lambda: client.zrevrange(key, 0, 99, withscores=True))
    bare_rank_ms = _median_ms(lambda: client.zrevrank(key, member(probe)))
    print(
        f"  Redis, {members} members: top-100 {top_ms:.3f} ms, own rank {rank_ms:.3f} ms (median of 200, target < 5 ms)"
        f"; bare ZREVRANGE {bare_top_ms:.3f} ms, ZREVRANK {bare_rank_ms:.3f} ms"
    )
    boards.replace_all([])
    boards.close()
    return {"top_ms": top_ms, "rank_ms": rank_ms, "bare_top_ms": bare_top_ms, "bare_rank_ms": bare_rank_ms}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--ledger-rows", type=int, default=100_000)
    parser.add_argument("--citizens", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", default=None, help="an admin URL: a scratch database is created and dropped"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    try:
        redis.Redis.from_url(args.redis).ping()
        redis_url: str | None = args.redis
    except redis.RedisError:
        redis_url = None
        print("Redis unreachable: Redis parts skipped")
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{tmp}/bench.sqlite3", None)]
        if args.postgres:
            name = f"civic_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            targets.append(("PostgreSQL", args.postgres.rsplit("/", 1)[0] + f"/{name}", (admin, name)))
        for label, url, cleanup in targets:
            print(f"== {label} ({date.today()})")
            runtime = _runtime(url, Path(tmp) / label)
            try:
                print(" handler throughput")
                bench_handler(runtime, args.events)
                print(" leaderboards")
                bench_boards(runtime, args.ledger_rows, redis_url)
            finally:
                runtime.close()
                if cleanup:
                    admin, name = cleanup
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if redis_url:
        print(f"== Redis, {args.citizens} scored citizens")
        bench_million(redis_url, args.citizens)


if __name__ == "__main__":
    main()
