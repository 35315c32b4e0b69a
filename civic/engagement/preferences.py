"""What a citizen chooses to show: badges on their public profile, themselves on leaderboards.

Both can change at any time. Leaving the leaderboards takes effect at once: SQL reads check the
preference, and in production the citizen is taken out of every Redis board in the same
transaction (under engagement's per-account lock, so no points update in flight puts them back).
The public display name is identity's `Account.display_name`; nothing else about anyone is shown.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from civic.clock import utcnow
from civic.engagement.leaderboards import show_or_hide
from civic.engagement.ledger import lock_accounts
from civic.engagement.models import Preference
from civic.errors import Forbidden, NotAuthenticated
from civic.i18n import _
from civic.identity.models import Account, AccountKind


class PreferencesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    show_badges: bool
    on_leaderboards: bool


def preferences_of(session: Session, account_id: int) -> Preference:
    """The citizen's choices, or the defaults (badges private, on leaderboards) when never set."""
    row = session.get(Preference, account_id)
    return row or Preference(
        account_id=account_id, show_badges=False, on_leaderboards=True, updated_at=utcnow()
    )


def check_set_preferences(session: Session, actor: Account | None) -> Account:
    if actor is None or actor.id is None:
        raise NotAuthenticated(_("Log in to choose what your profile shows."))
    if actor.kind == AccountKind.OFFICIAL:
        raise Forbidden(_("Officials have no engagement profile: they hold no points, badges or levels."))
    return actor


def do_set_preferences(session: Session, account_id: int, data: PreferencesInput) -> Preference:
    lock_accounts(session, {account_id})
    row = session.get(Preference, account_id, with_for_update=True)
    was_on = row.on_leaderboards if row is not None else True
    if row is None:
        row = Preference(account_id=account_id, updated_at=utcnow())
    row.show_badges, row.on_leaderboards, row.updated_at = data.show_badges, data.on_leaderboards, utcnow()
    session.add(row)
    session.flush()
    if was_on != data.on_leaderboards:
        show_or_hide(session, account_id, data.on_leaderboards)
    return row


def set_preferences(session: Session, actor: Account | None, data: PreferencesInput) -> Preference:
    account = check_set_preferences(session, actor)
    assert account.id is not None
    return do_set_preferences(session, account.id, data)
