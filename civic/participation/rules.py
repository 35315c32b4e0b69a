"""Who may take part in a consultation, and what each phase allows: plain functions that return
the reason for a refusal (in words that say what to do), or None when the action is allowed."""

from __future__ import annotations

from civic.identity.models import Account, AccountKind, VerificationLevel
from civic.identity.standing import privileges
from civic.participation.models import Consultation, ConsultationStatus, Phase, ProposalStatus

COMMENT_PHASES = (Phase.PROPOSALS, Phase.SUPPORT, Phase.DELIBERATION)

RETRACTED = ProposalStatus.RETRACTED

_LEVEL_WORDS = {
    VerificationLevel.VERIFIED: "verified e-citizens (a registrar at any service centre can verify you in person)",
    VerificationLevel.ESIGNATURE: (
        "e-citizens verified with an e-signature (a registrar can record yours when you present your "
        "e-signature card)"
    ),
}


def eligibility_refusal(consultation: Consultation, account: Account) -> str | None:
    """Why `account` may not take part in `consultation`, or None."""
    if account.kind == AccountKind.OFFICIAL:
        return "Officials take part through their roles (moderating, answering), not as e-citizens."
    if account.kind in (AccountKind.BUSINESS, AccountKind.NGO) and not consultation.allow_organisations:
        return "This consultation is open to individuals only, not to businesses or NGOs."
    if account.kind == AccountKind.FOREIGN_RESIDENT and not consultation.allow_foreign_residents:
        return "This consultation is open to citizens only."
    needed = VerificationLevel(consultation.min_verification)
    if VerificationLevel(account.verification_level).rank < needed.rank:
        return f"This consultation is open to {_LEVEL_WORDS[needed]} only."
    if consultation.district and not same_district(account.district, consultation.district):
        return (
            f"This consultation is open to residents of {consultation.district} only. A registrar records your "
            "district of residence when verifying your identity."
        )
    return None


def level_refusal(consultation: Consultation, level: int) -> str | None:
    """Why a citizen at `level` may not propose in `consultation`, or None. Only proposing is
    restricted: everyone eligible may still support and comment there."""
    if level >= consultation.min_level:
        return None
    needed, current = privileges(consultation.min_level), privileges(level)
    return (
        f"Proposals in this consultation are open to participants at level {needed.level} ({needed.name}) "
        f"or above; you are at level {current.level} ({current.name}). You can still support and comment "
        "on its proposals. Levels rise with sustained taking part: proposals and comments that stand, and "
        "supports, on several days. Your profile shows what your next level needs."
    )


def phase_refusal(consultation: Consultation, allowed: tuple[Phase, ...], doing: str) -> str | None:
    if consultation.status != ConsultationStatus.PUBLISHED:
        return "This consultation is not published."
    if consultation.phase in allowed:
        return None
    when = " or ".join(p.value for p in allowed)
    return f"You can {doing} only in the {when} phase; this consultation is now in its {consultation.phase} phase."


def same_district(a: str | None, b: str | None) -> bool:
    """Districts as typed by a registrar and by a convener: "Sabail" and "sabail " are one place."""
    return (
        a is not None and b is not None and " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
    )
