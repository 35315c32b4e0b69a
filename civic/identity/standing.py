"""A citizen's standing: the level (0-4) engagement computes, and what each level unlocks.

Engagement decides levels from activity, points and moderation record and writes them here with
`do_set_standing`; participation and leadership read them with `standing_level` and `privileges`
without importing engagement (modules never import each other; identity is below them all).
The privileges table lives here too, so the module that grants a privilege and the page that
explains it read one definition.

No foreign key to `account`: like engagement's ledger, a standing is a derived fact that can be
recomputed at any time (`civic engagement reset`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, String
from sqlmodel import Field, Session, SQLModel

from civic.clock import utcnow
from civic.i18n import N_, _

MAX_LEVEL = 4


class AccountStanding(SQLModel, table=True):
    __tablename__ = "account_standing"

    account_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    level: int = 0
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # Why this level, in words the citizen is shown ("12 active days, 8 contributions, …").
    reason: str = Field(default="", sa_column=Column(String(300), nullable=False))


@dataclass(frozen=True)
class Privileges:
    """What one level unlocks. Report weight is a bonus added to leadership's reviewable score,
    which stays capped below the auto-hide threshold: no level lets one account hide content alone."""

    level: int
    name: str  # English, marked with N_: show it as `_(p.name)` (or `p.local_name`)
    report_weight_bonus: float
    skips_pre_moderation: bool  # proposals go public at once in pre-moderated consultations
    proposals_per_day: int
    comments_per_day: int
    # May propose in consultations that ask for a minimum level up to this one.
    restricted_consultations: bool

    @property
    def local_name(self) -> str:
        """The level's name in the reader's language."""
        return _(self.name)

    def describe(self) -> list[str]:
        """The privileges in plain words (in the reader's language), for the profile page."""
        lines = [
            _(
                "Up to %(proposals)s proposals and %(comments)s comments a day",
                proposals=self.proposals_per_day,
                comments=self.comments_per_day,
            ),
        ]
        if self.report_weight_bonus:
            bonus = f"{self.report_weight_bonus:+.2f}"
            lines.append(_("Your reports weigh %(bonus)s more with moderators", bonus=bonus))
        if self.skips_pre_moderation:
            lines.append(_("Your proposals skip pre-moderation"))
        if self.restricted_consultations:
            lines.append(_("You may propose in consultations restricted to experienced participants"))
        return lines


LEVELS: tuple[Privileges, ...] = (
    Privileges(0, N_("Newcomer"), 0.0, False, 2, 10, False),
    Privileges(1, N_("Participant"), 0.0, False, 5, 30, False),
    Privileges(2, N_("Member"), 0.25, False, 10, 60, True),
    Privileges(3, N_("Regular"), 0.5, True, 20, 100, True),
    Privileges(4, N_("Leader"), 0.75, True, 30, 200, True),
)


def privileges(level: int) -> Privileges:
    return LEVELS[min(max(level, 0), MAX_LEVEL)]


def standing_level(session: Session, account_id: int) -> int:
    """The account's level; 0 when none was ever computed (a new account)."""
    row = session.get(AccountStanding, account_id)
    return row.level if row is not None else 0


def do_set_standing(session: Session, account_id: int, level: int, reason: str) -> AccountStanding:
    """Record the level engagement computed (in the caller's transaction). Levels outside 0-4
    are a programming error, not user input."""
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"a standing level is 0-{MAX_LEVEL}, not {level}")
    row = session.get(AccountStanding, account_id)
    if row is None:
        row = AccountStanding(account_id=account_id, level=level, updated_at=utcnow(), reason=reason[:300])
    else:
        row.level, row.reason, row.updated_at = level, reason[:300], utcnow()
    session.add(row)
    session.flush()
    return row
