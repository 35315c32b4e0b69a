"""Daily limits: how many proposals and comments a citizen may write in any 24 hours.

The limit comes with the citizen's level (`civic.identity.standing.privileges`): a new account may
write only a few on its first day, and sustained taking part raises it. The window slides (the last
24 hours, not the calendar day), so the refusal can say exactly when the next one is possible, and
there is no midnight burst. Everything the author wrote in the window counts, withdrawn, deleted or
hidden included: otherwise writing and withdrawing would get around the limit.

Officials never reach this check: they do not take part as e-citizens (`rules.eligibility_refusal`).
Demo data is written with the `do_*` actions and so is not limited.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Literal

from babel.dates import format_datetime
from sqlalchemy import func, select, text
from sqlmodel import Session, col

from civic.clock import as_utc, utcnow
from civic.errors import RateLimited
from civic.i18n import N_, _, current_locale, ngettext
from civic.i18n.formatting import BABEL_LOCALES
from civic.identity.models import Account
from civic.identity.standing import MAX_LEVEL, privileges, standing_level
from civic.participation.models import Comment, Proposal
from civic.ratelimit import take_for

WINDOW = timedelta(hours=24)
POSTING_TOO_FAST = N_("You are posting very quickly. Wait a minute, then try again.")
LOCK_NAMESPACE = 0x706C6D  # "plm": per author, while counting and writing

Kind = Literal["proposal", "comment"]
_TABLES = {"proposal": Proposal, "comment": Comment}


def check_daily_limit(session: Session, author: Account, kind: Kind, *, now: datetime | None = None) -> None:
    """Raise RateLimited (429, with Retry-After) when `author` already wrote their level's number
    of `kind`s in the last 24 hours. On PostgreSQL an advisory lock per author, held until the
    caller's transaction ends, makes two submissions racing each other count one another (SQLite's
    BEGIN IMMEDIATE already runs one writer at a time)."""
    assert author.id is not None
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :account)"),
            {"namespace": LOCK_NAMESPACE, "account": author.id},
        )
    now = now or utcnow()
    level = standing_level(session, author.id)
    granted = privileges(level)
    limit = granted.proposals_per_day if kind == "proposal" else granted.comments_per_day
    table = _TABLES[kind]
    mine = (col(table.author_id) == author.id, col(table.created_at) > now - WINDOW)
    written = session.execute(select(func.count()).select_from(table).where(*mine)).scalar_one()
    if written < limit:
        # Within the day's allowance, still no bursts (a script, a stuck key): the posting pace
        # (CIVIC_POSTING_LIMIT, counted in Redis in production) covers proposals and comments.
        take_for(session, "posting", f"account:{author.id}", _(POSTING_TOO_FAST))
        return
    # The next one is possible once enough of the window's items have aged out of it.
    freeing = session.execute(
        select(table.created_at).where(*mine).order_by(col(table.created_at)).offset(written - limit).limit(1)
    ).scalar_one()
    at = as_utc(freeing) + WINDOW
    raise RateLimited(
        limit_message(kind, limit, level, at, now), retry_after=max(1, math.ceil((at - now).total_seconds()))
    )


def limit_message(kind: Kind, limit: int, level: int, at: datetime, now: datetime) -> str:
    """The refusal in words, in the reader's language: the limit, when it lifts, and how to raise it."""
    name = _(privileges(level).name)
    if kind == "proposal":
        reached = ngettext(
            "You have reached your limit of %(num)d proposal in 24 hours, the limit of level %(level)d "
            "(%(name)s).",
            "You have reached your limit of %(num)d proposals in 24 hours, the limit of level %(level)d "
            "(%(name)s).",
            limit,
            level=level,
            name=name,
        )
    else:
        reached = ngettext(
            "You have reached your limit of %(num)d comment in 24 hours, the limit of level %(level)d "
            "(%(name)s).",
            "You have reached your limit of %(num)d comments in 24 hours, the limit of level %(level)d "
            "(%(name)s).",
            limit,
            level=level,
            name=name,
        )
    time = at.astimezone(UTC).strftime("%H:%M")
    if at.date() == now.date():
        next_one = _(
            "You can write the next one in %(duration)s, at %(time)s UTC.",
            duration=_duration(at - now),
            time=time,
        )
    else:
        next_one = _(
            "You can write the next one in %(duration)s, at %(time)s UTC on %(day)s.",
            duration=_duration(at - now),
            time=time,
            day=format_datetime(
                at, "dd MMMM", tzinfo=UTC, locale=BABEL_LOCALES.get(current_locale(), "en_GB")
            ),
        )
    message = f"{reached} {next_one}"
    if level < MAX_LEVEL:
        message += " " + _(
            "Taking part more raises your level and this limit: proposals and comments that stand, "
            "and supports, on several days. Your profile shows what the next level needs."
        )
    return message


def _duration(span: timedelta) -> str:
    minutes = max(1, math.ceil(span.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return _("%(minutes)d min", minutes=minutes)
    if minutes:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    return _("%(hours)d h", hours=hours)
