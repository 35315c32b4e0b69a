"""Server-side login sessions: the cookie carries a random token and nothing else.

Sessions end after `session_idle_minutes` without a request and `session_absolute_hours` after
login, whichever comes first; a new token is issued at every login (the pre-login one is
discarded), and a citizen can end all their sessions at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, delete
from sqlmodel import Session, col, select

from civic.clock import as_utc, utcnow
from civic.identity.models import Account, AuthSession
from civic.settings import Settings

# Refresh last_seen_at at most this often: an idle timeout needs minutes, not every request.
_TOUCH_EVERY = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session,
    settings: Settings,
    account: Account,
    *,
    user_agent: str = "",
    replacing: str | None = None,
) -> str:
    """Create a session for `account` and return its token; `replacing` (the old token) is ended."""
    assert account.id is not None
    if replacing:
        end_session(session, replacing)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AuthSession(
            token_hash=_hash(token),
            account_id=account.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_absolute_hours),
            user_agent=user_agent[:200],
        )
    )
    session.flush()
    return token


# Built once: constructing a statement and its cache key costs more CPU than running it.
_SESSION_WITH_ACCOUNT = (
    select(AuthSession, Account)
    .outerjoin(Account, col(Account.id) == col(AuthSession.account_id))
    .where(col(AuthSession.token_hash) == bindparam("token_hash"))
)


def resolve_session(session: Session, settings: Settings, token: str) -> Account | None:
    """The account logged in with `token`, or None if the session is unknown, idle or expired."""
    # The session and its account in one query: every logged-in request starts here.
    found = session.execute(_SESSION_WITH_ACCOUNT, {"token_hash": _hash(token)}).first()
    if found is None:
        return None
    row, account = found
    now = utcnow()
    idle_deadline = as_utc(row.last_seen_at) + timedelta(minutes=settings.session_idle_minutes)
    if now >= as_utc(row.expires_at) or now >= idle_deadline:
        session.delete(row)
        return None
    if account is None or not account.is_active:
        session.delete(row)
        return None
    if now - as_utc(row.last_seen_at) >= _TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return account


def end_session(session: Session, token: str) -> None:
    session.execute(delete(AuthSession).where(AuthSession.token_hash == _hash(token)))  # type: ignore[arg-type]


def end_all_sessions(session: Session, account_id: int) -> int:
    result = session.execute(delete(AuthSession).where(AuthSession.account_id == account_id))  # type: ignore[arg-type]
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
