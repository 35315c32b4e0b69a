"""Every state change of identity: `check_*` validates and authorizes, `do_*` writes and emits.

Nothing else writes identity's tables.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from civic.clock import as_utc, utcnow
from civic.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from civic.events.envelope import emit
from civic.i18n import N_, _
from civic.identity import labels
from civic.identity.authorization import Permission, Target, authorize, grant_is_active
from civic.identity.events import (
    ACCOUNT_REGISTERED,
    ACCOUNT_VERIFIED,
    ROLE_GRANTED,
    ROLE_REVOKED,
    AccountRegistered,
    AccountVerified,
    RoleGranted,
    RoleRevoked,
)
from civic.identity.models import Account, AccountKind, Grant, Role, VerificationLevel, VerificationRecord
from civic.identity.passwords import Passwords
from civic.identity.schemas import Registration, VerificationRequest
from civic.ratelimit import RateLimits

DUPLICATE_EMAIL = N_("An account with this e-mail address already exists. Log in, or use another address.")
BAD_CREDENTIALS = N_("The e-mail address or the password is wrong.")


def check_register(session: Session, data: Registration) -> None:
    if session.exec(select(Account.id).where(Account.email == data.email)).first() is not None:
        raise Conflict(_(DUPLICATE_EMAIL), code="duplicate_email")


def do_register(
    session: Session,
    data: Registration,
    password_hash: str,
    *,
    kind: str | None = None,
    agency_id: int | None = None,
) -> Account:
    """Create the account and emit `account.registered`. A concurrent duplicate is a Conflict."""
    account = Account(
        email=data.email,
        display_name=data.display_name,
        kind=kind or data.kind,
        password_hash=password_hash,
        agency_id=agency_id,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(_(DUPLICATE_EMAIL), code="duplicate_email") from exc
    assert account.id is not None
    emit(
        session,
        ACCOUNT_REGISTERED,
        AccountRegistered(account_id=account.id, kind=account.kind),
        actor_id=account.id,
    )
    return account


def register(
    session: Session, passwords: Passwords, limits: RateLimits, data: Registration, client: str
) -> Account:
    """Register a new e-citizen. Every attempt counts against the client's limit, refused ones
    too: a 409 says the address exists, so unlimited attempts would enumerate our users."""
    limits.check(
        "registration", client, _("Too many registrations from your network; please try again later.")
    )
    limits.hit("registration", client)
    check_register(session, data)
    return do_register(session, data, passwords.hash(data.password))


def authenticate(
    session: Session, passwords: Passwords, limits: RateLimits, email: str, password: str, client: str
) -> Account:
    """Return the account if the password is right. Unknown e-mail and wrong password look the
    same; repeated failures for one address, or from one client, are refused for a while."""
    email = email.strip().lower()
    wait = _("Too many failed log-in attempts; wait a few minutes and try again.")
    limits.check("login_failure", email, wait)
    limits.check("login_failure_ip", client, wait)
    account = session.exec(select(Account).where(Account.email == email)).first()
    ok = passwords.verify(account.password_hash if account else None, password)
    if account is None or not ok or not account.is_active:
        limits.hit("login_failure", email)
        limits.hit("login_failure_ip", client)
        raise NotAuthenticated(_(BAD_CREDENTIALS), code="bad_credentials")
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash(password)
        session.add(account)
    limits.clear("login_failure", email)
    return account


def check_verify(
    session: Session, actor: Account | None, account_id: int, data: VerificationRequest
) -> Account:
    authorize(session, actor, Permission.VERIFY_IDENTITY)
    target = session.get(Account, account_id)
    if target is None:
        raise NotFound(_("There is no account %(id)s.", id=account_id))
    if target.kind == AccountKind.OFFICIAL:
        raise InvalidInput(_("Officials are not e-citizens; their identity is managed by their agency."))
    if VerificationLevel(target.verification_level).rank >= VerificationLevel(data.level).rank:
        raise Conflict(
            _(
                "This account is already at verification level %(level)s.",
                level=labels.level(target.verification_level),
            )
        )
    return target


def do_verify(
    session: Session, actor: Account, target: Account, data: VerificationRequest
) -> VerificationRecord:
    """Raise the account's verification level, record who did it and how, emit `account.verified`."""
    assert actor.id is not None and target.id is not None
    record = VerificationRecord(
        account_id=target.id,
        level=data.level,
        method=data.method,
        verified_by_id=actor.id,
        note=data.note,
        created_at=utcnow(),
    )
    target.verification_level = data.level
    if data.district:
        target.district = data.district.strip()
    session.add(record)
    session.add(target)
    session.flush()
    emit(
        session,
        ACCOUNT_VERIFIED,
        AccountVerified(account_id=target.id, level=data.level, verified_by_id=actor.id),
        actor_id=actor.id,
    )
    return record


def verify(
    session: Session, actor: Account | None, account_id: int, data: VerificationRequest
) -> VerificationRecord:
    target = check_verify(session, actor, account_id, data)
    assert actor is not None
    return do_verify(session, actor, target, data)


def require_login(actor: Account | None) -> Account:
    if actor is None:
        raise NotAuthenticated(_("Log in to continue."))
    return actor


def do_grant_role(
    session: Session,
    official: Account,
    role: Role,
    *,
    agency_id: int | None = None,
    consultation_id: int | None = None,
    granted_by: Account | None = None,
    ends_at: datetime | None = None,
    reason: str = "",
) -> Grant:
    """Record the grant and emit `role.granted`. `granted_by` None means the command line did it."""
    assert official.id is not None
    grant = Grant(
        account_id=official.id,
        role=role,
        agency_id=agency_id,
        consultation_id=consultation_id,
        granted_by_id=granted_by.id if granted_by else None,
        granted_at=utcnow(),
        ends_at=ends_at,
    )
    session.add(grant)
    session.flush()
    assert grant.id is not None
    emit(
        session,
        ROLE_GRANTED,
        RoleGranted(
            grant_id=grant.id,
            account_id=official.id,
            role=role,
            agency_id=agency_id,
            consultation_id=consultation_id,
            granted_by_id=grant.granted_by_id,
            reason=reason,
            ends_at=as_utc(ends_at).astimezone(UTC).isoformat() if ends_at else None,
        ),
        actor_id=grant.granted_by_id,
    )
    return grant


def check_revoke_role(session: Session, actor: Account | None, grant_id: int, scope: Target) -> Grant:
    """Administrators revoke grants within their own scope only; an ended grant stays as it ended.

    `scope` is where the grant reaches, resolved by the caller: for a grant on one consultation,
    that consultation within its agency (identity does not read consultations). The grant row is
    locked, so two administrators revoking it at once get one revocation and one 409.
    """
    authorize(session, actor, Permission.MANAGE_GRANTS, scope)
    # Locked and re-read: another transaction may have revoked it since the caller first read it.
    grant = session.get(Grant, grant_id, with_for_update=True, populate_existing=True)
    if grant is None:
        raise NotFound(_("There is no grant %(id)s.", id=grant_id))
    if grant.revoked_at is not None:
        raise Conflict(_("This grant was already revoked."), code="already_revoked")
    if not grant_is_active(grant):
        raise Conflict(_("This grant has already ended."), code="already_ended")
    return grant


def do_revoke_role(session: Session, actor: Account | None, grant: Grant, reason: str) -> Grant:
    """End the grant now, recording who and when (the row is kept), and emit `role.revoked`."""
    assert grant.id is not None
    grant.revoked_at = utcnow()
    grant.revoked_by_id = actor.id if actor else None
    session.add(grant)
    session.flush()
    emit(
        session,
        ROLE_REVOKED,
        RoleRevoked(
            grant_id=grant.id,
            account_id=grant.account_id,
            role=grant.role,
            agency_id=grant.agency_id,
            consultation_id=grant.consultation_id,
            revoked_by_id=grant.revoked_by_id,
            reason=reason,
        ),
        actor_id=grant.revoked_by_id,
    )
    return grant
