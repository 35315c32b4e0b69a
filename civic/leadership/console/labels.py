"""The words the console's pages use for stored codes (a consultation's status and phase, the
lowest verification level it asks for), marked for the catalogs and translated where shown.

Lowercase in English, as the codes read; phases are the words leadership's messages use too.
"""

from __future__ import annotations

from civic.i18n import N_
from civic.identity.labels import agency_name, level, role, word
from civic.leadership.labels import PHASE_WORDS

STATUS_WORDS = {
    "draft": N_("draft"),
    "published": N_("published"),
}


def status(code: str | None) -> str:
    return word(STATUS_WORDS, code)


def phase(code: str | None) -> str:
    return word(PHASE_WORDS, code)


__all__ = ["agency_name", "level", "phase", "role", "status"]
