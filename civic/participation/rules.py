"""Who may take part in a consultation, and what each phase allows: plain functions that return
the reason for a refusal (in words that say what to do, in the reader's language), or None when
the action is allowed."""

from __future__ import annotations

from typing import Literal

from civic.i18n import N_, _
from civic.identity.models import Account, AccountKind, VerificationLevel
from civic.identity.standing import privileges
from civic.participation.models import Consultation, ConsultationStatus, Phase, ProposalStatus

COMMENT_PHASES = (Phase.PROPOSALS, Phase.SUPPORT, Phase.DELIBERATION)

RETRACTED = ProposalStatus.RETRACTED

_LEVEL_REFUSALS = {
    VerificationLevel.VERIFIED: N_(
        "This consultation is open to verified e-citizens (a registrar at any service centre can verify "
        "you in person) only."
    ),
    VerificationLevel.ESIGNATURE: N_(
        "This consultation is open to e-citizens verified with an e-signature (a registrar can record "
        "yours when you present your e-signature card) only."
    ),
}

# A phase as a sentence names it ("only in the support phase"); the pages' badges have their own names.
PHASE_WORDS = {
    Phase.INFORMATION: N_("information"),
    Phase.PROPOSALS: N_("proposals"),
    Phase.SUPPORT: N_("support"),
    Phase.DELIBERATION: N_("deliberation"),
    Phase.ANSWERED: N_("answered"),
    Phase.CLOSED: N_("closed"),
}

# Proposal and comment statuses as a sentence names them ("This proposal is withdrawn; …").
STATUS_WORDS = {
    ProposalStatus.PENDING: N_("pending"),
    ProposalStatus.PUBLISHED: N_("published"),
    ProposalStatus.REJECTED: N_("rejected"),
    ProposalStatus.HIDDEN: N_("hidden"),
    ProposalStatus.WITHDRAWN: N_("withdrawn"),
    ProposalStatus.RETRACTED: N_("retracted"),
    "deleted": N_("deleted"),
}

Doing = Literal["comment", "edit comments", "submit proposals", "support proposals", "withdraw a support"]

# One whole sentence per action (each action has its phases), so each language can build it its
# own way; only the consultation's current phase is filled in.
_PHASE_REFUSALS: dict[str, str] = {
    "comment": N_(
        "You can comment only in the proposals or support or deliberation phase; this consultation is "
        "now in its %(phase)s phase."
    ),
    "edit comments": N_(
        "You can edit comments only in the proposals or support or deliberation phase; this "
        "consultation is now in its %(phase)s phase."
    ),
    "submit proposals": N_(
        "You can submit proposals only in the proposals phase; this consultation is now in its %(phase)s phase."
    ),
    "support proposals": N_(
        "You can support proposals only in the support phase; this consultation is now in its %(phase)s phase."
    ),
    "withdraw a support": N_(
        "You can withdraw a support only in the support phase; this consultation is now in its %(phase)s "
        "phase."
    ),
}
# The phases each sentence above names.
_PHASES_NAMED: dict[str, tuple[Phase, ...]] = {
    "comment": COMMENT_PHASES,
    "edit comments": COMMENT_PHASES,
    "submit proposals": (Phase.PROPOSALS,),
    "support proposals": (Phase.SUPPORT,),
    "withdraw a support": (Phase.SUPPORT,),
}


def status_word(status: str) -> str:
    """A proposal's or comment's status as a sentence says it, in the reader's language."""
    word = STATUS_WORDS.get(status)
    return _(word) if word else status


def phase_word(phase: str) -> str:
    word = PHASE_WORDS.get(phase)  # type: ignore[call-overload]
    return _(word) if word else phase


def eligibility_refusal(consultation: Consultation, account: Account) -> str | None:
    """Why `account` may not take part in `consultation`, or None."""
    if account.kind == AccountKind.OFFICIAL:
        return _("Officials take part through their roles (moderating, answering), not as e-citizens.")
    if account.kind in (AccountKind.BUSINESS, AccountKind.NGO) and not consultation.allow_organisations:
        return _("This consultation is open to individuals only, not to businesses or NGOs.")
    if account.kind == AccountKind.FOREIGN_RESIDENT and not consultation.allow_foreign_residents:
        return _("This consultation is open to citizens only.")
    needed = VerificationLevel(consultation.min_verification)
    if VerificationLevel(account.verification_level).rank < needed.rank:
        return _(_LEVEL_REFUSALS[needed])
    if consultation.district and not same_district(account.district, consultation.district):
        return _(
            "This consultation is open to residents of %(district)s only. A registrar records your "
            "district of residence when verifying your identity.",
            district=consultation.district,
        )
    return None


def level_refusal(consultation: Consultation, level: int) -> str | None:
    """Why a citizen at `level` may not propose in `consultation`, or None. Only proposing is
    restricted: everyone eligible may still support and comment there."""
    if level >= consultation.min_level:
        return None
    needed, current = privileges(consultation.min_level), privileges(level)
    return _(
        "Proposals in this consultation are open to participants at level %(needed)d (%(needed_name)s) "
        "or above; you are at level %(level)d (%(name)s). You can still support and comment on its "
        "proposals. Levels rise with sustained taking part: proposals and comments that stand, and "
        "supports, on several days. Your profile shows what your next level needs.",
        needed=needed.level,
        needed_name=_(needed.name),
        level=current.level,
        name=_(current.name),
    )


def phase_refusal(consultation: Consultation, allowed: tuple[Phase, ...], doing: Doing) -> str | None:
    """Why `doing` is refused in the consultation's current phase (`allowed` are its phases), or None."""
    if consultation.status != ConsultationStatus.PUBLISHED:
        return _("This consultation is not published.")
    if consultation.phase in allowed:
        return None
    assert tuple(allowed) == _PHASES_NAMED[doing], "the sentence names the phases it is allowed in"
    return _(_PHASE_REFUSALS[doing], phase=phase_word(consultation.phase))


def same_district(a: str | None, b: str | None) -> bool:
    """Districts as typed by a registrar and by a convener: "Sabail" and "sabail " are one place."""
    return (
        a is not None and b is not None and " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
    )
