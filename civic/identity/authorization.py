"""The one permission check. Every page, API endpoint and WebSocket subscription asks `authorize`.

Permissions are named verbs; each is granted by a set of roles (adhocracy+'s rules, as a table
that can be tested as a grid). A grant counts when it is active now and its scope covers the
target: its agency is the target's agency or an ancestor of it, or it names the target's
consultation. A check without a target (verifying a citizen's identity) accepts any active grant
of a qualifying role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, or_, select

from civic.clock import as_utc, utcnow
from civic.errors import Forbidden, NotAuthenticated
from civic.i18n import _
from civic.identity import labels
from civic.identity.models import Account, AccountKind, Agency, Grant, Role


class Permission(StrEnum):
    VERIFY_IDENTITY = "identity.verify"
    MANAGE_GRANTS = "grants.manage"
    MANAGE_CONSULTATIONS = "consultations.manage"
    VIEW_DRAFTS = "consultations.view_drafts"
    MODERATE = "moderation.decide"
    ANSWER_PROPOSALS = "proposals.answer"
    REQUEST_DATA = "data.request"
    VIEW_AGGREGATES = "aggregates.view"
    VIEW_DASHBOARD = "dashboard.view"


RULES: dict[Permission, frozenset[Role]] = {
    Permission.VERIFY_IDENTITY: frozenset({Role.REGISTRAR}),
    Permission.MANAGE_GRANTS: frozenset({Role.ADMINISTRATOR}),
    Permission.MANAGE_CONSULTATIONS: frozenset({Role.CONVENER}),
    Permission.VIEW_DRAFTS: frozenset({Role.CONVENER, Role.MODERATOR, Role.RESPONDER, Role.ADMINISTRATOR}),
    Permission.MODERATE: frozenset({Role.MODERATOR}),
    Permission.ANSWER_PROPOSALS: frozenset({Role.RESPONDER}),
    Permission.REQUEST_DATA: frozenset({Role.CONVENER, Role.ANALYST}),
    Permission.VIEW_AGGREGATES: frozenset({Role.ANALYST}),
    Permission.VIEW_DASHBOARD: frozenset(
        {Role.MODERATOR, Role.CONVENER, Role.RESPONDER, Role.ADMINISTRATOR, Role.ANALYST}
    ),
}


@dataclass(frozen=True)
class Target:
    """What the action is on: an agency (and so its subtree), and possibly one consultation."""

    agency_id: int | None = None
    consultation_id: int | None = None


ANYWHERE = Target()


def agency_lineage(session: Session, agency_id: int) -> list[int]:
    """The agency and its ancestors up to the ministry."""
    lineage: list[int] = []
    current: int | None = agency_id
    while current is not None and current not in lineage:
        lineage.append(current)
        agency = session.get(Agency, current)
        current = agency.parent_id if agency else None
    return lineage


def agency_subtree(session: Session, agency_id: int) -> list[int]:
    """The agency and every unit below it, breadth first: what a grant on the agency covers (the
    inverse of `agency_lineage`). One query for the whole tree, which is small."""
    children: dict[int | None, list[int]] = {}
    for aid, parent in session.exec(select(Agency.id, Agency.parent_id).order_by(col(Agency.id))).all():
        if aid is not None:
            children.setdefault(parent, []).append(aid)
    found = [agency_id]
    for current in found:  # grows while iterating: breadth first
        found.extend(a for a in children.get(current, []) if a not in found)
    return found


def active_grants(session: Session, account_id: int, at: datetime | None = None) -> list[Grant]:
    now = at or utcnow()
    grants = session.exec(
        select(Grant).where(
            Grant.account_id == account_id,
            col(Grant.revoked_at).is_(None),
            or_(col(Grant.ends_at).is_(None), col(Grant.ends_at) > now),
        )
    ).all()
    return list(grants)


def _covers(grant: Grant, target: Target, lineage: list[int]) -> bool:
    if target.agency_id is None and target.consultation_id is None:
        return True
    if grant.consultation_id is not None:
        return grant.consultation_id == target.consultation_id
    return grant.agency_id is not None and grant.agency_id in lineage


def is_allowed(
    session: Session, actor: Account | None, permission: Permission, target: Target = ANYWHERE
) -> bool:
    try:
        authorize(session, actor, permission, target)
    except (Forbidden, NotAuthenticated):
        return False
    return True


def authorize(
    session: Session, actor: Account | None, permission: Permission, target: Target = ANYWHERE
) -> Account:
    """Return the actor if some active grant allows `permission` on `target`; raise otherwise.

    The message names what is missing, so an official who is refused knows whom to ask.
    """
    if actor is None or actor.id is None:
        raise NotAuthenticated(_("Log in to do this."))
    roles = RULES[permission]
    if actor.kind != AccountKind.OFFICIAL or not actor.is_active:
        raise Forbidden(
            _(
                "Only officials holding the %(roles)s role may do this (%(permission)s).",
                roles=labels.roles(roles),
                permission=str(permission),
            )
        )
    lineage = agency_lineage(session, target.agency_id) if target.agency_id is not None else []
    for grant in active_grants(session, actor.id):
        if grant.role in roles and _covers(grant, target, lineage):
            return actor
    raise Forbidden(_missing_grant(labels.roles(roles), str(permission), target))


def _missing_grant(roles: str, permission: str, target: Target) -> str:
    """The refusal, naming the grant that would allow it, so the official knows whom to ask."""
    params = {"roles": roles, "permission": permission, "agency": target.agency_id}
    if target.agency_id is not None and target.consultation_id is not None:
        return _(
            "This needs an active %(roles)s grant for agency %(agency)s / consultation %(consultation)s "
            "(%(permission)s); you have none that covers it.",
            consultation=target.consultation_id,
            **params,
        )
    if target.agency_id is not None:
        return _(
            "This needs an active %(roles)s grant for agency %(agency)s (%(permission)s); "
            "you have none that covers it.",
            **params,
        )
    if target.consultation_id is not None:
        return _(
            "This needs an active %(roles)s grant / consultation %(consultation)s (%(permission)s); "
            "you have none that covers it.",
            roles=roles,
            permission=permission,
            consultation=target.consultation_id,
        )
    return _(
        "This needs an active %(roles)s grant (%(permission)s); you have none that covers it.",
        roles=roles,
        permission=permission,
    )


def grant_is_active(grant: Grant, at: datetime | None = None) -> bool:
    now = at or utcnow()
    return grant.revoked_at is None and (grant.ends_at is None or as_utc(grant.ends_at) > now)
