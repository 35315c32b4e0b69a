"""Helpers for the consent tests (vault, consents, gate, receipts, aggregates, pages).

The fixtures are in tests/trust/conftest.py. Here: the test keys, officials with roles, and
helpers that run one domain action in its own committed transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from civic.clock import utcnow
from civic.identity.models import Account, AccountKind, Grant, Role
from civic.runtime import Runtime
from civic.trust import consents, requests, vault
from civic.trust.keys import TrustKeys, new_signing_key, new_vault_key
from civic.trust.models import Consent, DisclosureRequest
from civic.trust.schemas import AnswerInput, ProactiveInput, RequestInput
from tests.participation.conftest import _hash, _numbers, make_consultation, make_proposal, outbox

__all__ = ["make_consultation", "make_proposal", "outbox"]

VAULT_KEY = new_vault_key()
SIGNING_KEY = new_signing_key()


def official(runtime: Runtime, name: str, agency_id: int | None, *roles: Role) -> Account:
    """An official of the agency holding `roles` there."""
    now = utcnow()
    with runtime.db.transaction() as s:
        account = Account(
            email=f"{name.lower().replace(' ', '-')}.{next(_numbers)}@example.az",
            display_name=name,
            kind=AccountKind.OFFICIAL,
            password_hash=_hash(runtime),
            agency_id=agency_id,
            created_at=now,
        )
        s.add(account)
        s.flush()
        for role in roles:
            s.add(Grant(account_id=account.id, role=role, agency_id=agency_id, granted_at=now))
        s.flush()
        return account


def run(runtime: Runtime, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(session, *args, **kwargs)` in its own committed transaction."""
    with runtime.db.transaction() as s:
        return fn(s, *args, **kwargs)


def set_vault(runtime: Runtime, keys: TrustKeys, citizen: Account, **values: str) -> None:
    run(runtime, lambda s: vault.update_vault(s, keys.vault, s.get(Account, citizen.id), values))


def ask(runtime: Runtime, who: Account, **fields: Any) -> DisclosureRequest:
    data = {
        "purpose": "contact_about_proposal",
        "attributes": ["contact_email"],
        "retention_days": 30,
        **fields,
    }
    return run(runtime, lambda s: requests.request_data(s, s.get(Account, who.id), RequestInput(**data)))


def grant(
    runtime: Runtime, citizen: Account, request_id: int, attributes: list[str], now: datetime | None = None
) -> Consent:
    return run(
        runtime,
        lambda s: consents.grant(
            s, s.get(Account, citizen.id), request_id, AnswerInput(attributes=attributes), now=now
        ),
    )


def give(
    runtime: Runtime,
    citizen: Account,
    agency_id: int,
    purpose: str,
    attributes: list[str],
    days: int = 30,
    now: datetime | None = None,
    **extra: Any,
) -> Consent:
    data = ProactiveInput(
        agency_id=agency_id, purpose=purpose, attributes=attributes, retention_days=days, **extra
    )
    return run(runtime, lambda s: consents.grant_proactively(s, s.get(Account, citizen.id), data, now=now))


def session_account(s: Session, account: Account) -> Account:
    found = s.get(Account, account.id)
    assert found is not None
    return found
