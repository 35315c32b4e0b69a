"""Leaderboards: global, per consultation and per district, all time / month / week; kept from the
ledger with absolute values (a replay changes nothing), rebuilt from the ledger to the same state,
read through one interface from SQL (embedded) or Redis (production), and left at once by a citizen
who opts out."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import update
from sqlmodel import col, select

from civic.engagement import leaderboards
from civic.engagement.boards import SqlBoards, writer_for
from civic.engagement.handlers import HANDLER_NAME
from civic.engagement.leaderboards import board_key, month_of, week_of
from civic.engagement.models import LeaderboardScore
from civic.engagement.preferences import PreferencesInput, set_preferences
from civic.engagement.reset import rebuild_leaderboards
from civic.events.envelope import Envelope
from civic.identity.models import Account
from civic.participation import consultations
from civic.participation.models import Consultation, Phase
from civic.participation.schemas import ConsultationEdit
from civic.runtime import Runtime
from tests.engagement.conftest import Town, outbox_of
from tests.engagement.test_badges import redis_leaderboards  # noqa: F401 (fixture)
from tests.factories import backdate_account

GLOBAL = board_key("global", "all")


def scores(runtime: Runtime) -> dict[tuple[str, int], int]:
    with runtime.db.transaction() as s:
        return {(r.board, r.account_id): r.score for r in s.exec(select(LeaderboardScore))}


def redis_state(runtime: Runtime) -> dict[tuple[str, int], int] | None:
    """Every Redis board, as (board, account) -> score; None in the embedded mode."""
    with runtime.db.transaction() as s:
        boards = writer_for(s)
    if boards is None:
        return None
    state = {}
    for key in boards.client.scan_iter(match=boards.prefix + "*"):
        board = key[len(boards.prefix) :]
        for member, score in boards.client.zrange(key, 0, -1, withscores=True):
            state[(board, int(member))] = int(score)
    return state


def names(runtime: Runtime, board: str) -> list[tuple[int, str, int]]:
    with runtime.db.transaction() as s:
        return [(p.rank, p.display_name, p.score) for p in leaderboards.top(s, board)]


def district_town(town: Town) -> tuple[Consultation, Consultation]:
    """Two consultations: the old town's (country-wide) and Yasamal's."""
    city = town.consultation()
    yasamal = town.consultation()
    with town.runtime.db.transaction() as s:
        consultations.edit_consultation(s, town.convener, yasamal.id, ConsultationEdit(district="Yasamal"))  # type: ignore[arg-type]
        for citizen in town.citizens:  # residents, as a registrar recorded when verifying them
            s.execute(update(Account).where(col(Account.id) == citizen.id).values(district="Yasamal"))
            citizen.district = "Yasamal"
    return city, yasamal


def opt(runtime: Runtime, account: Account, on: bool) -> None:
    with runtime.db.transaction() as s:
        set_preferences(s, account, PreferencesInput(show_badges=False, on_leaderboards=on))


def test_points_count_on_the_global_consultation_and_district_boards_of_every_window(town: Town, runtime):
    leyla, kamal, aysel, _ = town.citizens
    city, yasamal = district_town(town)
    town.submit(leyla, city)
    town.submit(kamal, yasamal)
    town.submit(aysel, yasamal, "Second idea")
    town.comment(aysel, town.submit(aysel, city, "Third idea"))

    today = leaderboards.utcnow().date()
    assert names(runtime, GLOBAL) == [(1, "Aysel", 7), (2, "Kamal", 3), (2, "Leyla", 3)]
    for window in ("all", "month", "week"):
        assert names(runtime, board_key("global", window)) == names(runtime, GLOBAL)
    assert names(runtime, board_key("consultation", "all", consultation_id=city.id)) == [
        (1, "Aysel", 4),
        (2, "Leyla", 3),
    ]
    assert names(runtime, board_key("district", "week", district="Yasamal", today=today)) == [
        (1, "Aysel", 3),
        (1, "Kamal", 3),
    ]
    with runtime.db.transaction() as s:
        assert leaderboards.place_of(s, GLOBAL, kamal.id) == (2, 3)  # type: ignore[arg-type]
        assert leaderboards.size(s, GLOBAL) == 3
        assert leaderboards.place_of(s, GLOBAL, town.convener.id) is None  # type: ignore[arg-type]


def test_a_supporters_points_count_on_global_boards_only_since_who_supported_what_is_private(
    town: Town, runtime
):
    leyla, kamal, *_ = town.citizens
    consultation = town.consultation()
    proposal = town.submit(leyla, consultation)
    town.phase(consultation, Phase.SUPPORT)
    town.support(kamal, proposal)

    board = scores(runtime)
    assert board[(GLOBAL, kamal.id)] == 1
    assert not [b for b, account in board if account == kamal.id and not b.startswith("global|")]
    assert board[(board_key("consultation", "all", consultation_id=consultation.id), leyla.id)] == 3 + 2


def test_points_of_an_earlier_month_leave_this_months_board_and_count_on_their_own(town: Town, runtime):
    leyla = town.citizens[0]
    town.submit(leyla, town.consultation())
    submitted = outbox_of(runtime, "proposal.submitted")[0]
    earlier = Envelope.from_row(submitted)
    earlier = earlier.model_copy(
        update={"id": "00000000-0000-4000-8000-000000000001", "seq": 10**9, "occurred_at": earlier.occurred_at - timedelta(days=40)}
    )  # fmt: skip
    handler = runtime.handlers.get(HANDLER_NAME)
    with runtime.db.transaction() as s:
        handler.fn(s, earlier)  # type: ignore[union-attr]

    day = earlier.occurred_at.date()
    board = scores(runtime)
    assert board[(GLOBAL, leyla.id)] == 6
    assert board[(board_key("global", "month"), leyla.id)] == 3
    assert board[(f"global|{month_of(day)}", leyla.id)] == 3
    assert board[(f"global|{week_of(day)}", leyla.id)] == 3


def test_replaying_every_event_changes_no_score_and_a_rebuild_gives_the_incremental_state(
    town: Town, runtime, rules
):
    leyla, kamal, aysel, rashad = town.citizens
    city, yasamal = district_town(town)
    proposals = [
        town.submit(leyla, city),
        town.submit(kamal, yasamal),
        town.submit(aysel, yasamal, "Idea three"),
    ]
    town.comment(rashad, proposals[1])
    town.phase(yasamal, Phase.SUPPORT)
    with town.batch():
        town.support(leyla, proposals[1])
        town.support(rashad, proposals[2])
    town.unsupport(rashad, proposals[2])
    town.withdraw(kamal, proposals[1])
    opt(runtime, aysel, False)
    incremental = (scores(runtime), redis_state(runtime))
    assert (incremental[1] is not None) == bool(runtime.settings.redis_url), "Redis in production only"
    assert (GLOBAL, kamal.id) not in incremental[0] or incremental[0][(GLOBAL, kamal.id)] < 5

    handler = runtime.handlers.get(HANDLER_NAME)
    for row in outbox_of(runtime):
        if handler is not None and row.type in handler.event_types:
            with runtime.db.transaction() as s:
                handler.fn(s, Envelope.from_row(row))
    assert (scores(runtime), redis_state(runtime)) == incremental

    with runtime.db.transaction() as s:
        rebuilt_redis = writer_for(s)
    rebuild_leaderboards(runtime.db, rules, rebuilt_redis)
    assert (scores(runtime), redis_state(runtime)) == incremental
    if incremental[1] is not None:
        assert all(account != aysel.id for _, account in incremental[1]), "opted out: not in Redis"
        assert {k: v for k, v in incremental[0].items() if k[1] != aysel.id} == incremental[1]


def test_sql_and_redis_answer_the_same(town: Town, runtime):
    citizens = town.citizens
    city, yasamal = district_town(town)
    with runtime.db.transaction() as s:  # past their first day: up to 5 proposals a day, not 2
        for citizen in citizens:
            backdate_account(s, citizen)
    for n, citizen in enumerate(citizens):
        for i in range(n + 1):
            town.submit(citizen, yasamal if i % 2 else city, f"Idea {n}.{i}")
    with runtime.db.transaction() as s:
        redis_boards = writer_for(s)
        boards = [
            GLOBAL,
            board_key("district", "month", district="Yasamal"),
            board_key("consultation", "week", consultation_id=city.id),
        ]
        for board in boards:
            from_sql = leaderboards.top(s, board, boards=SqlBoards())
            assert from_sql, board
            for citizen in citizens:
                assert leaderboards.place_of(s, board, citizen.id, SqlBoards()) == (  # type: ignore[arg-type]
                    leaderboards.place_of(s, board, citizen.id, redis_boards or SqlBoards())  # type: ignore[arg-type]
                )
            if redis_boards is not None:
                assert leaderboards.top(s, board, boards=redis_boards) == from_sql
                assert leaderboards.top(s, board, 2, 1, boards=redis_boards) == from_sql[1:3]
                assert leaderboards.size(s, board, redis_boards) == len(from_sql)
    assert [rank for rank, _, _ in names(runtime, GLOBAL)] == [1, 1, 3, 4], (
        "capped at 9 a day: the top two tie and share a rank"
    )


def test_opting_out_leaves_every_board_at_once_and_opting_in_comes_back_with_current_points(
    town: Town, runtime
):
    leyla, kamal, *_ = town.citizens
    city, yasamal = district_town(town)
    with runtime.db.transaction() as s:  # past her first day: more than 2 proposals a day
        backdate_account(s, leyla)
    town.submit(leyla, city)
    town.submit(leyla, yasamal)
    town.submit(kamal, city)

    opt(runtime, leyla, False)
    with runtime.db.transaction() as s:
        for board in {b for b, account in scores(runtime) if account == leyla.id}:
            assert leyla.id not in [p.account_id for p in leaderboards.top(s, board)], board
            assert leaderboards.place_of(s, board, leyla.id) is None  # type: ignore[arg-type]
    state = redis_state(runtime)
    assert state is None or all(account != leyla.id for _, account in state)

    town.submit(leyla, city, "While away")
    assert leyla.id not in [p.account_id for p in _top(runtime, GLOBAL)], "new points do not bring her back"
    opt(runtime, leyla, True)
    assert [(p.display_name, p.score) for p in _top(runtime, GLOBAL)] == [("Leyla", 9), ("Kamal", 3)]


def _top(runtime: Runtime, board: str) -> list[leaderboards.Place]:
    with runtime.db.transaction() as s:
        return leaderboards.top(s, board)


def test_the_rebuild_command_restores_boards_from_the_ledger(town: Town, runtime, monkeypatch):
    leyla = town.citizens[0]
    town.submit(leyla, town.consultation())
    expected = (scores(runtime), redis_state(runtime))
    with runtime.db.transaction() as s:
        s.execute(LeaderboardScore.__table__.delete())  # type: ignore[attr-defined]
        boards = writer_for(s)
        if boards is not None:
            boards.replace_all([])
    monkeypatch.setattr("civic.cli._database_ready", lambda settings: None)  # created without Alembic
    settings = runtime.settings
    env = {
        "CIVIC_DATABASE_URL": settings.effective_database_url,
        "CIVIC_REDIS_URL": settings.redis_url,
        "CIVIC_REDIS_PREFIX": settings.redis_prefix,
        "CIVIC_SECRET_KEY": settings.secret_key,
        "CIVIC_VAR_DIR": str(settings.var_dir),
        "CIVIC_ARGON2_MEMORY_KIB": "19456",
        "CIVIC_ARGON2_TIME_COST": "2",
    }
    from civic.cli import main

    result = CliRunner().invoke(main, ["engagement", "leaderboards", "rebuild"], env=env)
    assert result.exit_code == 0, result.output
    assert "leaderboard scores rebuilt from the ledger" in result.output
    assert (scores(runtime), redis_state(runtime)) == expected
