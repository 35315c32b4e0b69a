"""Consent receipts: one JSON document per consent that anyone can check offline.

The fields follow ISO/IEC TS 27560:2023 (consent record information structure) and the Kantara
Initiative Consent Receipt Specification v1.1, written in snake_case: who the controller is, the
purposes with their data categories and legal basis, the consent type, the timestamps, the expiry
and how to withdraw. The `ledger` part (built by ledger.receipt_evidence) carries the entry that
records the consent, the record and salt that recompute its leaf, the inclusion proof and a signed
tree head with the ledger's public key: `civic ledger check-receipt FILE` (receipts_verify.py)
checks it without a database. A head covering the entry is signed on demand when the latest one
predates it.

The receipt holds no attribute value: only their names, which the citizen chose to share.

Its machine fields (names, codes, times, the ledger part) are the same in every language; the
sentences meant for people (`collection_method`, `service`, `purpose`, the data categories'
labels, `termination`, `withdrawal.how`) follow the reader's language, which `language` names.
Nothing in those sentences is signed or hashed: the ledger record holds ids, codes and times
only, so a receipt downloaded in Azerbaijani checks exactly as the English one does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from civic.clock import as_utc, utcnow
from civic.errors import Conflict
from civic.i18n import _, current_locale
from civic.identity.models import Account, Agency
from civic.trust import ledger
from civic.trust.consents import effective_state, own_consent
from civic.trust.models import Consent, ConsentState
from civic.trust.purposes import ATTRIBUTES, LEGAL_BASIS, PURPOSES
from civic.trust.treeheads import latest_tree_head, sign_tree_head

SCHEMA = "civic-consent-receipt/1"
CONFORMS_TO = ["ISO/IEC TS 27560:2023", "Kantara Consent Receipt Specification v1.1"]


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def _proof(session: Session, signer: Ed25519PrivateKey, index: int) -> dict[str, object]:
    head = latest_tree_head(session)
    if head is None or head.size <= index:
        head = sign_tree_head(session, signer)
    return ledger.receipt_evidence(session, index, head)


def build_receipt(
    session: Session,
    signer: Ed25519PrivateKey,
    consent: Consent,
    *,
    base_url: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The receipt of `consent` as it stands `now` (its state may have changed since it was given)."""
    if consent.ledger_index is None:
        raise Conflict(_("This consent has no ledger entry yet."), code="not_recorded")
    agency = session.get(Agency, consent.agency_id)
    assert agency is not None and consent.id is not None
    purpose = PURPOSES[consent.purpose]
    state = effective_state(consent, now or utcnow())
    centre = f"{base_url.rstrip('/')}/me/consents"
    answer = "consent.refused" if consent.state == ConsentState.REFUSED else "consent.granted"
    events = [
        {"event_type": answer, "event_time": _iso(consent.decided_at), "ledger_index": consent.ledger_index}
    ]
    if consent.end_ledger_index is not None:
        kind = "consent.revoked" if consent.state == ConsentState.WITHDRAWN else "consent.expired"
        events.append(
            {
                "event_type": kind,
                "event_time": _iso(consent.ended_at),
                "ledger_index": consent.end_ledger_index,
            }
        )
    return {
        "schema": SCHEMA,
        "conforms_to": CONFORMS_TO,
        "version": "KI-CR-v1.1.0",
        "receipt_id": f"urn:civic:consent:{consent.id}",
        "record_id": consent.id,
        "language": current_locale(),
        "jurisdiction": "AZ",
        "consent_timestamp": _iso(consent.decided_at),
        "collection_method": _("In answer to a disclosure request, in the civic consent centre")
        if consent.request_id
        else _("Given unprompted, in the civic consent centre"),
        "pii_principal_id": f"account:{consent.citizen_id}",
        "pii_controllers": [
            {
                "pii_controller": agency.name,
                "pii_controller_az": agency.name_az,
                "agency_id": agency.id,
                "on_behalf": False,
                "contact": f"{base_url.rstrip('/')}/transparency",
            }
        ],
        "policy_url": centre,
        "services": [
            {
                "service": _("civic — consultations and voluntary data disclosure"),
                "purposes": [
                    {
                        "purpose_id": purpose.id,
                        "purpose": purpose.local_text,
                        "purpose_az": purpose.text_az,
                        "purpose_category": [purpose.dpv],
                        "consent_type": "EXPLICIT",
                        "lawful_basis": LEGAL_BASIS,
                        "pii_category": [
                            {"attribute": a, "label": ATTRIBUTES[a].local_label, "dpv": ATTRIBUTES[a].dpv}
                            for a in consent.attributes
                        ],
                        "primary_purpose": True,
                        "termination": _(
                            "Ends after %(days)d days, or when withdrawn.", days=consent.retention_days
                        ),
                        "retention_days": consent.retention_days,
                        "third_party_disclosure": False,
                        "consultation_id": consent.consultation_id,
                    }
                ],
            }
        ],
        "sensitive": False,
        "spi_cat": [],
        "state": state.value,
        "state_dpv": f"https://w3id.org/dpv#Consent{state.value.capitalize()}",
        "request_id": consent.request_id,
        "expiry": _iso(consent.expires_at),
        "ended_at": _iso(consent.ended_at),
        "events": events,
        "withdrawal": {
            "how": _(
                "One action: press 'Withdraw' next to this consent in your consent centre. "
                "It takes effect at once, and costs you nothing."
            ),
            "url": centre,
            "api": f"POST {base_url.rstrip('/')}/api/me/consents/{consent.id}/withdrawal",
        },
        "ledger": _proof(session, signer, consent.ledger_index),
    }


def my_receipt(
    session: Session, signer: Ed25519PrivateKey, actor: Account | None, consent_id: int, *, base_url: str
) -> dict[str, Any]:
    return build_receipt(session, signer, own_consent(session, actor, consent_id), base_url=base_url)
