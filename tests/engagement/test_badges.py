"""Badges with five levels, counted from source data: earned through real actions, announced once on
the citizen's own topic, lowered when moderation removes what they counted, and recomputed by the
reset command to exactly what live handling gives under a changed badges file.

Helpers used by the other engagement test files (moderator actions, snapshots) live here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete
from sqlmodel import col, select

from civic.engagement import progress
from civic.engagement.badges import BadgesError, load_badges, parse_badges
from civic.engagement.boards import attach
from civic.engagement.handlers import HANDLER_NAME, engagement_handlers
from civic.engagement.models import BadgeLevel
from civic.engagement.reset import reset
from civic.events.envelope import Envelope
from civic.events.models import OutboxEvent
from civic.identity import actions as identity_actions
from civic.identity.models import Account, Agency, Role
from civic.identity.schemas import VerificationRequest
from civic.identity.standing import AccountStanding
from civic.leadership import moderation, reports
from civic.leadership.schemas import DecisionInput, ReportInput
from civic.participation import moderation as participation_moderation
from civic.participation.models import AnswerStatus, Phase, Proposal
from civic.runtime import Runtime
from tests.engagement.conftest import Town, outbox_of
from tests.factories import make_official

# ---- helpers shared with test_levels, test_leaderboards, test_profile_pages ---------------------


@pytest.fixture(autouse=True)
def redis_leaderboards(runtime: Runtime) -> Iterator[None]:
    """What build_runtime is asked to do (see the report): tell engagement where Redis is."""
    attach(runtime.db.engine, runtime.settings)
    yield


def official(town: Town, *roles: Role) -> Account:
    with town.runtime.db.transaction() as s:
        agency = s.get(Agency, town.convener.agency_id)
        assert agency is not None
        return make_official(town.runtime, s, agency, *roles)


def answer(town: Town, proposal: Proposal, status: AnswerStatus) -> None:
    assert proposal.id is not None
    with town.runtime.db.transaction() as s:
        participation_moderation.do_record_answer(
            s,
            proposal.id,
            status=status,
            text="We have decided on it.",
            official=town.convener,
            role="responder",
        )
    town.settle()


def report(town: Town, reporter: Account, kind: str, item_id: int) -> int:
    """File a report through leadership; returns its case id."""
    with town.runtime.db.transaction() as s:
        filed = reports.file_report(s, reporter, kind, item_id, ReportInput(reason="spam"))
        case_id = filed.case_id
    town.settle()
    return case_id


def decide(town: Town, moderator: Account, case_id: int, decision: str) -> None:
    with town.runtime.db.transaction() as s:
        moderation.decide(
            s, moderator, case_id, DecisionInput(decision=decision, reason="Checked the reports.")
        )
    town.settle()


def badge_rows(runtime: Runtime) -> dict[tuple[int, str], tuple[int, int]]:
    """Every (account, badge) -> (level, count)."""
    with runtime.db.transaction() as s:
        return {(r.account_id, r.badge): (r.level, r.count) for r in s.exec(select(BadgeLevel))}


def levels_of(runtime: Runtime) -> dict[int, int]:
    with runtime.db.transaction() as s:
        return {r.account_id: r.level for r in s.exec(select(AccountStanding))}


def earned_events(runtime: Runtime) -> list[dict]:
    return [row.data | {"topics": row.topics} for row in outbox_of(runtime, "badge.earned")]


# ---- earning ------------------------------------------------------------------------------------


def test_a_first_proposal_earns_proposer_level_one_announced_once_to_the_author_only(town: Town, runtime):
    leyla, kamal, *_ = town.citizens
    consultation = town.consultation()
    town.submit(leyla, consultation)

    assert badge_rows(runtime)[(leyla.id, "proposer")] == (1, 1)
    assert badge_rows(runtime)[(leyla.id, "first_consultation")] == (1, 1)
    earned = [e for e in earned_events(runtime) if e["badge"] == "proposer"]
    assert earned == [
        {"account_id": leyla.id, "badge": "proposer", "title": "Proposer", "level": 1, "count": 1,
         "topics": [f"user:{leyla.id}"]}
    ]  # fmt: skip

    # Every delivery of the handler run again: nothing new is announced or stored.
    before = (badge_rows(runtime), len(earned_events(runtime)))
    handler = runtime.handlers.get(HANDLER_NAME)
    assert handler is not None
    for row in outbox_of(runtime):
        if row.type in handler.event_types:
            with runtime.db.transaction() as s:
                handler.fn(s, Envelope.from_row(row))
    assert (badge_rows(runtime), len(earned_events(runtime))) == before


def test_supporting_five_proposals_reaches_supporter_level_one_and_a_withdrawn_support_stops_counting(
    town: Town, runtime
):
    leyla, kamal, aysel, rashad = town.citizens
    consultation = town.consultation()
    others = [
        town.submit(author, consultation, f"Idea {n}") for n, author in enumerate((kamal, aysel, rashad) * 2)
    ]
    town.phase(consultation, Phase.SUPPORT)
    with town.batch():
        for proposal in others[:4]:
            town.support(leyla, proposal)
    assert badge_rows(runtime)[(leyla.id, "supporter")] == (0, 4), "5 supports for level 1"

    town.support(leyla, others[4])
    assert badge_rows(runtime)[(leyla.id, "supporter")] == (1, 5)
    town.unsupport(leyla, others[4])
    assert badge_rows(runtime)[(leyla.id, "supporter")] == (0, 4)
    town.support(leyla, others[5])
    assert badge_rows(runtime)[(leyla.id, "supporter")] == (1, 5)
    assert [e["level"] for e in earned_events(runtime) if e["badge"] == "supporter"] == [1], (
        "a level reached again is not announced again"
    )


def test_an_official_answer_makes_the_author_heard_and_acceptance_a_changemaker(town: Town, runtime):
    leyla = town.citizens[0]
    proposal = town.submit(leyla, town.consultation())
    answer(town, proposal, AnswerStatus.UNDER_REVIEW)
    assert badge_rows(runtime)[(leyla.id, "heard")] == (1, 1)
    assert (leyla.id, "changemaker") not in badge_rows(runtime)

    answer(town, proposal, AnswerStatus.ACCEPTED)
    assert badge_rows(runtime)[(leyla.id, "changemaker")] == (1, 1)
    answer(town, proposal, AnswerStatus.UNDER_REVIEW)
    assert badge_rows(runtime)[(leyla.id, "changemaker")] == (0, 0), "it counts what officials decide now"
    answer(town, proposal, AnswerStatus.IMPLEMENTED)
    assert badge_rows(runtime)[(leyla.id, "changemaker")] == (1, 1)
    assert badge_rows(runtime).get((town.convener.id, "heard")) is None, "officials hold no badges"


def test_moderation_removing_content_lowers_the_badge_and_restoring_does_not_announce_it_again(
    town: Town, runtime
):
    leyla, kamal, *_ = town.citizens
    proposal = town.submit(leyla, town.consultation())
    comment = town.comment(kamal, proposal)
    assert badge_rows(runtime)[(kamal.id, "commenter")] == (1, 1)
    moderator = official(town, Role.MODERATOR)
    assert comment.id is not None

    case_id = report(town, leyla, "comment", comment.id)
    decide(town, moderator, case_id, "hide")
    assert badge_rows(runtime)[(kamal.id, "commenter")] == (0, 0)

    with runtime.db.transaction() as s:
        participation_moderation.do_moderate_comment(
            s, comment.id, "restore", actor_id=moderator.id, reason="Fine."
        )
    town.settle()
    assert badge_rows(runtime)[(kamal.id, "commenter")] == (1, 1)
    assert [e["level"] for e in earned_events(runtime) if e["badge"] == "commenter"] == [1]


def test_reports_that_moderators_uphold_make_a_reliable_reporter_and_dismissed_ones_do_not(
    town: Town, runtime
):
    leyla, kamal, aysel, _ = town.citizens
    consultation = town.consultation()
    spam = town.submit(kamal, consultation, "Buy cheap watches")
    fine = town.submit(aysel, consultation, "Benches at the stops")
    moderator = official(town, Role.MODERATOR)
    assert spam.id is not None and fine.id is not None

    kept = report(town, leyla, "proposal", fine.id)
    decide(town, moderator, kept, "keep")
    assert (leyla.id, "reliable_reporter") not in badge_rows(runtime)

    hidden = report(town, leyla, "proposal", spam.id)
    assert (leyla.id, "reliable_reporter") not in badge_rows(runtime), "upheld only once decided"
    decide(town, moderator, hidden, "hide")
    assert badge_rows(runtime)[(leyla.id, "reliable_reporter")] == (1, 1)
    assert badge_rows(runtime)[(kamal.id, "proposer")] == (0, 0)
    # The reporter stays private: the announcement goes to the reporter's own topic only.
    announced = [e for e in earned_events(runtime) if e["badge"] == "reliable_reporter"]
    assert [e["topics"] for e in announced] == [[f"user:{leyla.id}"]]


def test_the_verified_badge_is_never_shown_as_a_goal_and_counts_months_once_verified(town: Town, runtime):
    leyla = town.citizens[0]
    badges = load_badges()
    with runtime.db.transaction() as s:
        assert "verified" not in [b.name for b in progress.badge_views(s, badges, leyla.id)]  # type: ignore[arg-type]
        registrar = make_official(runtime, s, s.get(Agency, town.convener.agency_id), Role.REGISTRAR)  # type: ignore[arg-type]
        identity_actions.verify(s, registrar, leyla.id, VerificationRequest(level="verified"))  # type: ignore[arg-type]
    town.settle()

    assert badge_rows(runtime)[(leyla.id, "verified")] == (1, 1)
    assert levels_of(runtime).get(leyla.id, 0) == 0, "verifying never raises a level"
    with runtime.db.transaction() as s:
        assert "verified" in [b.name for b in progress.badge_views(s, badges, leyla.id)]  # type: ignore[arg-type]


# ---- the badges file ------------------------------------------------------------------------------


GOOD = """
[[badge]]
name = "proposer"
title = "Proposer"
description = "published proposals"
thresholds = [1, 2, 3, 4, 5]
"""


def test_the_packaged_badges_file_defines_every_badge_with_five_increasing_thresholds():
    badges = load_badges()
    assert set(badges.names) == {
        "proposer", "supporter", "commenter", "first_consultation", "streak", "verified", "heard",
        "changemaker", "reliable_reporter",
    }  # fmt: skip
    assert badges.get("proposer").thresholds == (1, 5, 10, 30, 60)  # type: ignore[union-attr]
    assert badges.get("supporter").thresholds == (5, 15, 50, 100, 500)  # type: ignore[union-attr]
    assert badges.get("changemaker").thresholds == (1, 5, 15, 30, 50)  # type: ignore[union-attr]
    assert parse_badges(GOOD).get("proposer").level_for(3) == 3  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (('name = "proposer"', 'name = "influencer"'), 3, "unknown badge 'influencer'"),
        (("[1, 2, 3, 4, 5]", "[1, 2, 3, 4]"), 6, "must be 5 whole numbers"),
        (("[1, 2, 3, 4, 5]", "[1, 2, 2, 4, 5]"), 6, "above zero and increasing"),
        (("[1, 2, 3, 4, 5]", "[0, 2, 3, 4, 5]"), 6, "above zero and increasing"),
        (("[1, 2, 3, 4, 5]", '[1, 2, 3, 4, "5"]'), 6, "must be 5 whole numbers"),
        (('title = "Proposer"', 'titel = "Proposer"'), 4, "unknown key 'titel'"),
        (("[[badge]]", "[[badges]]"), 2, "unknown key 'badges'"),
        (('title = "Proposer"', 'title = "Proposer'), 4, "not valid TOML"),
    ],
)
def test_a_broken_badges_file_stops_the_start_naming_file_and_line(tmp_path: Path, change, line, message):
    path = tmp_path / "badges.toml"
    path.write_text(GOOD.replace(*change), encoding="utf-8")
    with pytest.raises(BadgesError) as caught:
        load_badges(path)
    assert str(caught.value).startswith(f"{path}:{line}: "), str(caught.value)
    assert message in str(caught.value)


def test_a_badge_defined_twice_is_refused_at_its_second_definition():
    with pytest.raises(BadgesError, match=r"<badges>:9: .*defined twice"):
        parse_badges(GOOD + GOOD)


# ---- reset ------------------------------------------------------------------------------------------

LOWER = load_badges().badges


def _lower_thresholds() -> str:
    """The packaged badges with every threshold lowered: a rule change that moves levels."""
    text = Path(load_badges().source).read_text(encoding="utf-8")
    for badge in LOWER:
        old = ", ".join(str(t) for t in badge.thresholds)
        new = ", ".join(str(max(1, t // 5) + i) for i, t in enumerate(badge.thresholds))
        text = text.replace(f"[{old}]", f"[{new}]", 1)
    return text


def test_reset_after_a_badges_change_gives_what_live_handling_under_the_new_file_gives(
    town: Town, runtime, rules
):
    leyla, kamal, aysel, rashad = town.citizens
    consultation = town.consultation(threshold=2)
    proposals = [
        town.submit(author, consultation, f"Idea {n}") for n, author in enumerate((leyla, kamal, leyla))
    ]
    town.comment(aysel, proposals[0])
    town.comment(rashad, proposals[1])
    town.phase(consultation, Phase.SUPPORT)
    with town.batch():
        for supporter in (kamal, aysel, rashad):
            town.support(supporter, proposals[0])
        town.support(aysel, proposals[1])
    answer(town, proposals[0], AnswerStatus.ACCEPTED)
    moderator = official(town, Role.MODERATOR)
    assert proposals[2].id is not None
    decide(town, moderator, report(town, aysel, "proposal", proposals[2].id), "hide")
    under_old = badge_rows(runtime)

    changed = parse_badges(_lower_thresholds(), "changed.toml")
    reset(runtime.db, changed)
    after_reset = (badge_rows(runtime), levels_of(runtime))
    assert after_reset[0] != under_old, "the change moved some levels"

    # Live handling under the new file: the handler run on every event, in order, from nothing.
    with runtime.db.transaction() as s:
        for model in (BadgeLevel, AccountStanding):
            s.execute(delete(model))
    handler = engagement_handlers(rules, changed)[0]
    with runtime.db.transaction() as s:
        rows = list(s.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq))))
    for row in rows:
        if row.type in handler.event_types:
            with runtime.db.transaction() as s:
                handler.fn(s, Envelope.from_row(row))
    assert (badge_rows(runtime), levels_of(runtime)) == after_reset


def test_the_reset_command_recounts_everyone_with_a_progress_bar(town: Town, runtime, monkeypatch):
    leyla = town.citizens[0]
    town.submit(leyla, town.consultation())
    with runtime.db.transaction() as s:
        s.execute(delete(BadgeLevel))
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

    result = CliRunner().invoke(main, ["engagement", "reset"], env=env)
    assert result.exit_code == 0, result.output
    assert "Recounting citizens" in result.output
    assert "Done: 4 e-citizens recounted" in result.output
    assert badge_rows(runtime)[(leyla.id, "proposer")] == (1, 1)
