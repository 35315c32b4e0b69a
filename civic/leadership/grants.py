"""Roles as grants: administrators list, grant and revoke the roles of officials in their scope.

A grant covers an agency and every unit below it, or one consultation. An administrator acts only
inside its own scope: granting or revoking needs MANAGE_GRANTS on where the grant reaches (for a
grant on one consultation, that consultation, so its agency's administrators or an administrator
of that very consultation). Grants and revocations are kept forever; a revocation is written on
the row.

Nothing here writes the action log. Identity emits `role.granted` (carrying `granted_by_id`, the
reason and the end date) and `role.revoked` (carrying `revoked_by_id` and the reason), and
leadership's action-log handler records each of those events once, keyed by the event id. Writing
an entry here as well would log every grant twice.
"""

from __future__ import annotations

from datetime import UTC

from sqlmodel import Session, col, or_, select

from civic.clock import as_utc, utcnow
from civic.errors import Forbidden, InvalidInput, NotFound
from civic.i18n import _
from civic.identity import actions as identity_actions
from civic.identity.authorization import Permission, Target, agency_subtree, authorize
from civic.identity.models import Account, AccountKind, Agency, Grant, Role
from civic.leadership.schemas import GrantInput, ReasonInput
from civic.participation.consultations import consultation_target
from civic.participation.models import Consultation


def _agency(session: Session, agency_id: int) -> Agency:
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(_("There is no agency %(id)s.", id=agency_id))
    return agency


def grant_scope(session: Session, grant: Grant) -> Target:
    """Where a grant reaches, as the target an administrator must cover to manage it."""
    if grant.consultation_id is not None:
        consultation = session.get(Consultation, grant.consultation_id)
        if consultation is None:  # a grant on a consultation that never existed: only its agency's admins
            return Target(agency_id=grant.agency_id, consultation_id=grant.consultation_id)
        return consultation_target(consultation)
    if grant.agency_id is not None:
        return Target(agency_id=grant.agency_id)
    raise Forbidden(_("This grant has no scope (it reaches everywhere); only the command line manages it."))


def list_grants(session: Session, actor: Account | None, agency_id: int) -> list[Grant]:
    """Every grant in the agency's subtree (on its units or their consultations), newest first,
    revoked and ended ones included: the history of who could do what."""
    _agency(session, agency_id)
    authorize(session, actor, Permission.MANAGE_GRANTS, Target(agency_id=agency_id))
    agencies = agency_subtree(session, agency_id)
    consultations = select(Consultation.id).where(col(Consultation.agency_id).in_(agencies))
    rows = session.exec(
        select(Grant)
        .where(
            or_(
                col(Grant.agency_id).in_(agencies),
                col(Grant.consultation_id).in_(consultations),
            )
        )
        .order_by(col(Grant.granted_at).desc(), col(Grant.id).desc())
    ).all()
    return list(rows)


def check_grant_role(session: Session, actor: Account | None, data: GrantInput) -> tuple[Account, Target]:
    """Validate the grant and authorize the administrator on its scope; return the grantee."""
    identity_actions.require_login(actor)
    if (data.agency_id is None) == (data.consultation_id is None):
        field = "agency_id" if data.agency_id is None else "consultation_id"
        raise InvalidInput(
            _("A grant covers either an agency (and the units below it) or one consultation."),
            {field: _("Choose an agency or a consultation, not both and not neither.")},
        )
    if data.consultation_id is not None:
        consultation = session.get(Consultation, data.consultation_id)
        if consultation is None:
            raise NotFound(_("There is no consultation %(id)s.", id=data.consultation_id))
        target = consultation_target(consultation)
    else:
        assert data.agency_id is not None
        _agency(session, data.agency_id)
        target = Target(agency_id=data.agency_id)
    authorize(session, actor, Permission.MANAGE_GRANTS, target)
    if data.ends_at is not None and as_utc(data.ends_at) <= utcnow():
        raise InvalidInput(
            _("A grant must end in the future."), {"ends_at": _("Choose a date in the future.")}
        )
    grantee = session.get(Account, data.account_id)
    if grantee is None:
        raise NotFound(_("There is no account %(id)s.", id=data.account_id))
    if grantee.kind != AccountKind.OFFICIAL or not grantee.is_active:
        raise InvalidInput(
            _("Roles are held by officials only."),
            {"account_id": _("This is not an active official's account.")},
        )
    return grantee, target


def grant_role(session: Session, actor: Account | None, data: GrantInput) -> Grant:
    """Grant a role; identity emits `role.granted`, which the action-log handler records."""
    grantee, _target = check_grant_role(session, actor, data)
    assert actor is not None
    return identity_actions.do_grant_role(
        session,
        grantee,
        Role(data.role),
        agency_id=data.agency_id,
        consultation_id=data.consultation_id,
        granted_by=actor,
        ends_at=as_utc(data.ends_at).astimezone(UTC) if data.ends_at else None,
        reason=data.reason,
    )


def revoke_role(session: Session, actor: Account | None, grant_id: int, data: ReasonInput) -> Grant:
    """End a grant now (409 if it already was); the row is kept with who revoked it and when.
    Identity emits `role.revoked`, which the action-log handler records."""
    identity_actions.require_login(actor)
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(_("There is no grant %(id)s.", id=grant_id))
    grant = identity_actions.check_revoke_role(session, actor, grant_id, grant_scope(session, grant))
    return identity_actions.do_revoke_role(session, actor, grant, data.reason)
