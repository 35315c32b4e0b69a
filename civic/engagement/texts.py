"""The words of the packaged badges and point rules, marked for the translation catalogs.

`badges.toml` and `rules.toml` are written in English, the source language. Their texts are
listed here with `N_()` so `civic i18n update` extracts them and `civic i18n check` fails until
each has its Azerbaijani translation; the pages show them through `_()`.

The badges loader refuses, at start, a badge whose title or description is not listed here (it
could never be shown translated). Rule reasons are checked by the test suite instead: a rule's
reason is also stored in the ledger, and one not listed here simply shows in English.
"""

from __future__ import annotations

from civic.i18n import N_, _

BADGE_TEXTS = frozenset(
    {
        N_("Proposer"),
        N_("published proposals"),
        N_("Supporter"),
        N_("proposals of others you support"),
        N_("Commenter"),
        N_("published comments"),
        N_("Taking part"),
        N_("consultations you took part in"),
        N_("Steady"),
        N_("consecutive months with participation (your longest run)"),
        N_("Verified e-citizen"),
        N_("months as a verified e-citizen"),
        N_("Heard"),
        N_("proposals that received an official answer"),
        N_("Changemaker"),
        N_("proposals accepted, partially accepted or implemented"),
        N_("Reliable reporter"),
        N_("reports that moderators upheld"),
    }
)

REASON_TEXTS = frozenset(
    {
        N_("You submitted a proposal"),
        N_("You supported a proposal"),
        N_("You took part in a discussion"),
        N_("Someone supported your proposal"),
        N_("Your proposal reached its support threshold"),
        N_("Officials accepted your proposal"),
        N_("Officials partially accepted your proposal"),
        N_("Officials implemented your proposal"),
        N_("A support was withdrawn"),
        N_("The proposal was withdrawn"),
        N_("The comment was deleted"),
        N_("The proposal was removed by moderation"),
        N_("The proposal was rejected by moderation"),
        N_("The comment was removed by moderation"),
    }
)


def shown(text: str) -> str:
    """A badge's or a rule's English text in the reader's language (as is when it is not listed)."""
    return _(text) if text in BADGE_TEXTS or text in REASON_TEXTS else text


def badge_titles() -> dict[str, str]:
    """English text → the reader's, for the badge toast (live events carry the English title)."""
    return {text: _(text) for text in sorted(BADGE_TEXTS)}
