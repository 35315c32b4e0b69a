"""The words leadership's messages use for stored codes (an answer's status, a decision, a report's
reason), marked for the catalogs and translated where a message is written.

They are lowercase because they sit inside sentences ("… was answered: under review"); the pages
have their own capitalised names in web/templates/leadership/_macros.html. `word` falls back to
the code itself for a value this list does not know yet, so a new code shows, untranslated.
"""

from __future__ import annotations

from civic.i18n import N_, _

ANSWER_WORDS = {
    "under_review": N_("under review"),
    "accepted": N_("accepted"),
    "partially_accepted": N_("partially accepted"),
    "rejected": N_("rejected"),
    "implemented": N_("implemented"),
}

DECISION_WORDS = {
    "approve": N_("approve"),
    "reject": N_("reject"),
    "hide": N_("hide"),
    "restore": N_("restore"),
    "keep": N_("keep"),
}

APPEAL_STATE_WORDS = {
    "open": N_("open"),
    "upheld": N_("upheld"),
    "overturned": N_("overturned"),
}

REASON_WORDS = {
    "spam": N_("spam"),
    "offensive": N_("offensive"),
    "off_topic": N_("off topic"),
    "personal_data": N_("personal data"),
}

PHASE_WORDS = {
    "information": N_("information"),
    "proposals": N_("proposals"),
    "support": N_("support"),
    "deliberation": N_("deliberation"),
    "answered": N_("answered"),
    "closed": N_("closed"),
}


def word(words: dict[str, str], code: str | None) -> str:
    """The code's word in the current language (the code itself when it has none)."""
    if not code:
        return ""
    return _(words[code]) if code in words else code
