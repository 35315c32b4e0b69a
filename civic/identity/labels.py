"""The words pages and messages use for identity's stored codes (an account's kind, a verification
level or method, a role), marked for the catalogs and translated where they are shown.

Roles and levels stay lowercase in English, as the codes read (they sit inside sentences: "already
at verification level verified", "an active moderator grant"); `word` falls back to the code for a
value this list does not know, so a new code still shows, untranslated.
"""

from __future__ import annotations

from civic.i18n import N_, _, current_locale

ACCOUNT_KINDS = {
    "citizen": N_("Citizen"),
    "foreign_resident": N_("Foreign resident"),
    "business": N_("Business"),
    "ngo": N_("Non-governmental organisation"),
    "official": N_("Official"),
}

VERIFICATION_LEVELS = {
    "unverified": N_("unverified"),
    "verified": N_("verified"),
    "esignature": N_("esignature"),
}

# How an account's identity was confirmed (the account page's history).
VERIFICATION_METHODS = {
    "in_person": N_("in person"),
    "esignature": N_("with an e-signature"),
}

ROLES = {
    "administrator": N_("administrator"),
    "convener": N_("convener"),
    "moderator": N_("moderator"),
    "responder": N_("responder"),
    "registrar": N_("registrar"),
    "analyst": N_("analyst"),
}


def word(words: dict[str, str], code: str | None) -> str:
    """The code's word in the current language (the code itself when it has none)."""
    if not code:
        return ""
    return _(words[code]) if code in words else code


def kind(code: str | None) -> str:
    return word(ACCOUNT_KINDS, code)


def level(code: str | None) -> str:
    return word(VERIFICATION_LEVELS, code)


def method(code: str | None) -> str:
    return word(VERIFICATION_METHODS, code)


def role(code: str | None) -> str:
    return word(ROLES, code)


def roles(codes: object) -> str:
    """Several roles as one phrase, in alphabetical order of their codes: "convener or moderator"."""
    names = [role(str(code)) for code in sorted(codes)]  # type: ignore[call-overload]
    if not names:
        return ""
    phrase = names[0]
    for name in names[1:]:
        phrase = _("%(first)s or %(second)s", first=phrase, second=name)
    return phrase


def agency_name(agency: object | None) -> str:
    """An agency's name in the reader's language: agencies carry an official Azerbaijani name."""
    if agency is None:
        return ""
    local = getattr(agency, "name_az", "") if current_locale() == "az" else ""
    return local or getattr(agency, "name", "")
