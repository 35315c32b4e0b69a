"""Citizen levels 0-4: what each needs, in the spirit of Discourse's trust levels.

A level is earned by sustained, constructive taking part: days active, contributions that stand
(published proposals and comments), points (which weigh outcomes most) and the age of the account;
it is held back by a poor moderation record: content moderators hid or rejected within the last
`STRIKE_DAYS` (a *strike*) and reports that moderators mostly dismissed. Verification, badges and
anything about personal data count for nothing here: a level must never reward disclosure.

What a level unlocks is identity's (`civic.identity.standing.LEVELS`), so participation and
leadership can read it without importing engagement.
"""

from __future__ import annotations

from dataclasses import dataclass

from civic.engagement.measures import STRIKE_DAYS, Activity
from civic.i18n import _, ngettext
from civic.identity.standing import privileges


@dataclass(frozen=True)
class Requirement:
    level: int
    days_active: int
    contributions: int
    points: int
    account_days: int
    max_recent_strikes: int
    # Dismissed reports may exceed upheld ones by at most this much (None: no condition).
    report_margin: int | None
    outcomes: int = 0  # proposals accepted or implemented (the changemaker count)

    def unmet(self, a: Activity) -> list[str]:
        """What `a` still lacks for this level, in words the citizen is shown (in their language)."""
        missing = []
        if a.days_active < self.days_active:
            missing.append(
                ngettext(
                    "take part on %(num)s more day",
                    "take part on %(num)s more days",
                    self.days_active - a.days_active,
                )
            )
        if a.contributions < self.contributions:
            missing.append(
                ngettext(
                    "%(num)s more published proposal or comment",
                    "%(num)s more published proposals or comments",
                    self.contributions - a.contributions,
                )
            )
        if a.points < self.points:
            missing.append(ngettext("%(num)s more point", "%(num)s more points", self.points - a.points))
        if a.account_days < self.account_days:
            missing.append(
                ngettext(
                    "an account at least %(num)s day old",
                    "an account at least %(num)s days old",
                    self.account_days,
                )
            )
        if a.recent_strikes > self.max_recent_strikes:
            missing.append(
                ngettext(
                    "no more than %(num)s item removed by moderation in %(days)s days",
                    "no more than %(num)s items removed by moderation in %(days)s days",
                    self.max_recent_strikes,
                    days=STRIKE_DAYS,
                )
            )
        if self.report_margin is not None and a.dismissed_reports > a.upheld_reports + self.report_margin:
            missing.append(_("more of your reports upheld by moderators than dismissed"))
        if a.counts.get("changemaker", 0) < self.outcomes:
            missing.append(
                ngettext(
                    "%(num)s proposal accepted or implemented by officials",
                    "%(num)s proposals accepted or implemented by officials",
                    self.outcomes,
                )
            )
        return missing


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(0, 0, 0, 0, 0, max_recent_strikes=10**9, report_margin=None),
    Requirement(1, 1, 1, 0, 1, max_recent_strikes=1, report_margin=None),
    Requirement(2, 5, 5, 25, 7, max_recent_strikes=0, report_margin=3),
    Requirement(3, 15, 20, 100, 30, max_recent_strikes=0, report_margin=0),
    Requirement(4, 40, 50, 400, 90, max_recent_strikes=0, report_margin=0, outcomes=1),
)


def level_for(activity: Activity) -> int:
    """The highest level whose requirements, and those of every level below, are all met."""
    level = 0
    for requirement in REQUIREMENTS[1:]:
        if requirement.unmet(activity):
            break
        level = requirement.level
    return level


def reason_for(activity: Activity) -> str:
    a = activity
    return (
        f"{a.days_active} active days, {a.contributions} contributions, {a.points} points, "
        f"{a.recent_strikes} removed by moderation in {STRIKE_DAYS} days, "
        f"reports {a.upheld_reports} upheld / {a.dismissed_reports} dismissed"
    )


@dataclass(frozen=True)
class LevelView:
    """A level as the profile page shows it: what it unlocks and what the next one needs."""

    level: int
    name: str
    unlocks: list[str]
    next_level: int | None
    next_name: str | None
    next_unlocks: list[str]
    next_needs: list[str]


def describe(activity: Activity, level: int) -> LevelView:
    current = privileges(level)
    if level + 1 >= len(REQUIREMENTS):
        return LevelView(level, current.local_name, current.describe(), None, None, [], [])
    following = privileges(level + 1)
    return LevelView(
        level=level,
        name=current.local_name,
        unlocks=current.describe(),
        next_level=level + 1,
        next_name=following.local_name,
        next_unlocks=following.describe(),
        next_needs=REQUIREMENTS[level + 1].unmet(activity),
    )
