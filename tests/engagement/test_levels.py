"""Citizen levels 0-4: earned by sustained taking part, lowered by moderation strikes, restored when
an appeal overturns the strike or it ages out; written to identity's standing so participation and
leadership can read it without importing engagement; never raised by verification."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from civic.clock import utcnow
from civic.engagement import levels
from civic.engagement.badges import load_badges
from civic.engagement.measures import Activity, longest_month_run
from civic.engagement.reset import reset
from civic.i18n import using
from civic.identity.models import Account, Role
from civic.identity.standing import LEVELS, AccountStanding, do_set_standing, privileges, standing_level
from civic.leadership import appeals, moderation
from civic.leadership.schemas import AppealDecisionInput, AppealInput, ItemDecisionInput
from civic.participation.models import Phase, Proposal
from civic.runtime import Runtime
from tests.engagement.conftest import Town, outbox_of
from tests.engagement.test_badges import official, redis_leaderboards  # noqa: F401 (fixture)


def level(runtime: Runtime, account: Account) -> int:
    with runtime.db.transaction() as s:
        return standing_level(s, account.id)  # type: ignore[arg-type]


def age(runtime: Runtime, account: Account, days: int) -> None:
    """Make the account `days` old (time travel on source data)."""
    with runtime.db.transaction() as s:
        s.execute(
            update(Account)
            .where(col(Account.id) == account.id)
            .values(created_at=utcnow() - timedelta(days=days))
        )


def spread(runtime: Runtime, proposals: list[Proposal]) -> None:
    """Put each proposal on its own earlier day, so the author was active on that many days."""
    with runtime.db.transaction() as s:
        for n, proposal in enumerate(proposals, 1):
            s.execute(
                update(Proposal)
                .where(col(Proposal.id) == proposal.id)
                .values(created_at=utcnow() - timedelta(days=n))
            )


def member_in_good_standing(town: Town) -> tuple[Account, list[Proposal]]:
    """Leyla: a 10-day-old account, six proposals on six days, one of them past its threshold."""
    leyla, kamal, *_ = town.citizens
    age(town.runtime, leyla, 10)
    consultation = town.consultation(threshold=1)
    proposals: list[Proposal] = []
    for n in range(6):  # each on its own day, so no day's limit is reached
        proposals.append(town.submit(leyla, consultation, f"Idea {n}"))
        spread(town.runtime, proposals)
    town.phase(consultation, Phase.SUPPORT)
    town.support(kamal, proposals[0])  # threshold reached: 25 points for Leyla
    return leyla, proposals


def test_a_new_account_is_a_newcomer_with_day_one_limits(town: Town, runtime):
    leyla = town.citizens[0]
    town.submit(leyla, town.consultation())
    assert level(runtime, leyla) == 0, "an account less than a day old stays at level 0"
    newcomer = privileges(0)
    assert (newcomer.name, newcomer.proposals_per_day, newcomer.comments_per_day) == ("Newcomer", 2, 10)
    assert not newcomer.skips_pre_moderation and newcomer.report_weight_bonus == 0


def test_a_day_old_account_with_a_contribution_reaches_level_one_and_is_told(town: Town, runtime):
    leyla, kamal, *_ = town.citizens
    age(runtime, leyla, 2)
    town.submit(leyla, town.consultation())

    assert level(runtime, leyla) == 1
    changed = [e for e in outbox_of(runtime, "level.changed") if e.data["account_id"] == leyla.id]
    assert [(e.data["level"], e.data["previous_level"], e.data["name"], e.topics) for e in changed] == [
        (1, 0, "Participant", [f"user:{leyla.id}"])
    ]
    assert level(runtime, kamal) == 0


def test_sustained_participation_reaches_level_two_and_a_strike_lowers_it_until_an_appeal_overturns_it(
    town: Town, runtime
):
    leyla, proposals = member_in_good_standing(town)
    assert level(runtime, leyla) == 2, levels.REQUIREMENTS[2]
    first, second = official(town, Role.MODERATOR), official(town, Role.MODERATOR)

    with runtime.db.transaction() as s:
        data = ItemDecisionInput(
            item_kind="proposal", item_id=proposals[5].id, decision="hide", reason="Off topic."
        )  # type: ignore[arg-type]
        case = moderation.moderate_item(s, first, data)
    town.settle()
    assert level(runtime, leyla) == 1, "content removed by moderation in the last 90 days holds a level back"

    with runtime.db.transaction() as s:
        appeal = appeals.file_appeal(
            s, leyla, case.id, AppealInput(text="It is about the buses, please look again.")
        )  # type: ignore[arg-type]
    with runtime.db.transaction() as s:
        appeals.decide_appeal(
            s, second, appeal.id, AppealDecisionInput(outcome="overturned", reason="On topic.")
        )  # type: ignore[arg-type]
    town.settle()
    assert level(runtime, leyla) == 2, "an overturned decision is no strike"


def test_a_strike_ages_out_after_ninety_days_which_the_reset_catches(town: Town, runtime):
    leyla, proposals = member_in_good_standing(town)
    moderator = official(town, Role.MODERATOR)
    with runtime.db.transaction() as s:
        data = ItemDecisionInput(
            item_kind="proposal", item_id=proposals[5].id, decision="hide", reason="Off topic."
        )  # type: ignore[arg-type]
        moderation.moderate_item(s, moderator, data)
    town.settle()
    assert level(runtime, leyla) == 1

    reset(runtime.db, load_badges(), now=utcnow() + timedelta(days=89))
    assert level(runtime, leyla) == 1
    reset(runtime.db, load_badges(), now=utcnow() + timedelta(days=91))
    assert level(runtime, leyla) == 2


def test_verification_never_raises_a_level(town: Town, runtime):
    leyla = town.citizens[0]
    base = Activity(account_id=1, now=utcnow(), account_days=10, days_active=5, contributions=5, points=25)
    assert levels.level_for(base) == 2
    assert levels.level_for(Activity(account_id=1, now=utcnow(), counts={"verified": 24})) == 0
    assert level(runtime, leyla) == 0


@pytest.mark.parametrize(
    ("activity", "expected"),
    [
        ({}, 0),
        ({"account_days": 1, "days_active": 1, "contributions": 1}, 1),
        ({"account_days": 1, "days_active": 1, "contributions": 1, "recent_strikes": 2}, 0),
        ({"account_days": 7, "days_active": 5, "contributions": 5, "points": 25}, 2),
        ({"account_days": 7, "days_active": 5, "contributions": 5, "points": 25, "dismissed_reports": 4}, 1),
        ({"account_days": 7, "days_active": 5, "contributions": 5, "points": 25, "recent_strikes": 1}, 1),
        ({"account_days": 30, "days_active": 15, "contributions": 20, "points": 100}, 3),
        ({"account_days": 30, "days_active": 15, "contributions": 20, "points": 100, "dismissed_reports": 1}, 2),
        ({"account_days": 90, "days_active": 40, "contributions": 50, "points": 400}, 3),
        ({"account_days": 90, "days_active": 40, "contributions": 50, "points": 400, "counts": {"changemaker": 1}}, 4),
        ({"account_days": 900, "days_active": 400, "contributions": 500, "points": 9000, "counts": {"changemaker": 9},
          "upheld_reports": 9, "recent_strikes": 1}, 1),
    ],
)  # fmt: skip
def test_each_level_needs_its_own_requirements_and_those_of_every_level_below(activity, expected):
    assert levels.level_for(Activity(account_id=1, now=utcnow(), **activity)) == expected


def test_the_profile_description_says_what_the_level_unlocks_and_what_the_next_one_needs():
    activity = Activity(account_id=1, now=utcnow(), account_days=3, days_active=2, contributions=3, points=10)
    view = levels.describe(activity, 1)
    assert (view.name, view.next_level, view.next_name) == ("Participant", 2, "Member")
    assert view.unlocks == ["Up to 5 proposals and 30 comments a day"]
    assert "Your reports weigh +0.25 more with moderators" in view.next_unlocks
    assert view.next_needs == [
        "take part on 3 more days",
        "2 more published proposals or comments",
        "15 more points",
        "an account at least 7 days old",
    ]
    with using("az"):
        translated = levels.describe(activity, 1)
    assert (translated.name, translated.next_name) == ("İştirakçı", "Üzv")
    assert translated.next_needs[0] == "daha 3 gün iştirak etmək"
    assert translated.unlocks == ["Gündə 5 təklifə və 30 şərhə qədər"]
    top = levels.describe(activity, 4)
    assert top.next_level is None and "Your proposals skip pre-moderation" in top.unlocks


def test_privileges_grow_with_each_level_and_report_weight_never_reaches_the_hiding_threshold():
    assert [p.level for p in LEVELS] == [0, 1, 2, 3, 4]
    for lower, higher in zip(LEVELS, LEVELS[1:], strict=False):
        assert higher.proposals_per_day > lower.proposals_per_day
        assert higher.comments_per_day > lower.comments_per_day
        assert higher.report_weight_bonus >= lower.report_weight_bonus
    assert max(p.report_weight_bonus for p in LEVELS) < 1.0
    assert [p.skips_pre_moderation for p in LEVELS] == [False, False, False, True, True]
    assert privileges(99).level == 4 and privileges(-1).level == 0


def test_identity_stores_the_standing_and_refuses_impossible_levels(runtime):
    with runtime.db.transaction() as s:
        assert standing_level(s, 12345) == 0
        do_set_standing(s, 12345, 3, "set by a test")
        assert standing_level(s, 12345) == 3
        assert s.get(AccountStanding, 12345).reason == "set by a test"  # type: ignore[union-attr]
        with pytest.raises(ValueError, match="0-4"):
            do_set_standing(s, 12345, 5, "no")


def test_a_streak_is_the_longest_run_of_consecutive_months():
    from datetime import date

    days = {date(2025, 11, 3), date(2025, 12, 31), date(2026, 1, 1), date(2026, 3, 5), date(2026, 3, 9)}
    assert longest_month_run(days) == 3
    assert longest_month_run(set()) == 0
