"""The journeys' language: tests name the English msgids, `T()` turns them into what the page shows.

A journey runs once per language (`@both_languages`). Its `lang` fixture (tests/browser/conftest.py)
calls `use(lang)`, so every `T("Log in")` in the test, and every browser context it opens, speak
that language: the context sends the browser's Accept-Language and nothing else (no cookie), which
also proves the site's default follows the browser.

`T` reads the same catalogs the server does (civic.i18n.catalogs), so an untranslated msgid gives
English on both sides and still matches; what fails is a page that shows English where the
catalog has Azerbaijani (a string not marked for translation, or marked under another msgid).
"""

from __future__ import annotations

import re
import warnings

import pytest

from civic.i18n.catalogs import translations

LANGUAGES = ("en", "az")
BROWSER_LOCALE = {"en": "en-GB", "az": "az-AZ"}
ACCEPT_LANGUAGE = {"en": "en-GB,en;q=0.9", "az": "az-AZ,az;q=0.9"}

# Runs the test once in each language, through conftest's `lang` fixture (indirect, so the fixture
# sets the language before the test's other fixtures open pages).
both_languages = pytest.mark.parametrize("lang", LANGUAGES, indirect=True)

_current = "en"


def use(lang: str) -> None:
    """Speak `lang` from now on (the `lang` fixture sets it, and sets English back afterwards)."""
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown test language {lang!r}")
    _current = lang


def current() -> str:
    return _current


def in_language(english: str, azerbaijani: str) -> str:
    """For text that carries its own translation instead of a msgid (purposes, data fields, agencies)."""
    return azerbaijani if _current == "az" else english


def _translated(text: str, msgid: str | tuple[str, int]) -> str:
    catalog = getattr(translations(_current), "_catalog", {})
    if _current != "en" and msgid not in catalog:
        # Not an error here: English on the page matches English in the test. Listed so a report
        # can tell a missing translation from a broken page.
        shown = msgid if isinstance(msgid, str) else msgid[0]
        warnings.warn(f"no {_current} translation for msgid {shown!r}", UntranslatedWarning, stacklevel=3)
    return text


def T(msgid: str, /, **params: object) -> str:  # noqa: N802 - short on purpose: it is in every selector
    """`msgid` as the page shows it in the journey's language, `%(name)s` placeholders filled."""
    text = msgid if _current == "en" else translations(_current).gettext(msgid)
    text = _translated(text, msgid)
    return text % params if params else text


def NT(singular: str, plural: str, n: int, /, **params: object) -> str:  # noqa: N802
    """The plural-aware `T`: `NT("%(num)s comment", "%(num)s comments", 2)`; `%(num)s` is `n`."""
    if _current == "en":
        text = singular if n == 1 else plural
    else:
        text = translations(_current).ngettext(singular, plural, n)
        _translated(text, (singular, 0))
    return text % {"num": n, **params}


def _pattern(text: str, params: dict[str, object]) -> re.Pattern[str]:
    """`text % params` as a pattern; a parameter given as a pattern (e.g. `ANY`) matches as one."""
    markers = {key: f"\x00{key}\x00" for key, value in params.items() if isinstance(value, re.Pattern)}
    filled = text % {**params, **markers}
    escaped = re.escape(filled)
    for key, marker in markers.items():
        escaped = escaped.replace(re.escape(marker), f"(?:{params[key].pattern})")  # type: ignore[union-attr]
    return re.compile(escaped)


ANY = re.compile(r"\S+?")  # a placeholder whose value the test does not know (a rank, a date)


def T_re(msgid: str, /, **params: object) -> re.Pattern[str]:  # noqa: N802
    """`T(...)` as a pattern found anywhere in a text; parameters may be patterns (`ANY`)."""
    text = msgid if _current == "en" else translations(_current).gettext(msgid)
    return _pattern(_translated(text, msgid), params)


def NT_re(singular: str, plural: str, n: int, /, **params: object) -> re.Pattern[str]:  # noqa: N802
    """`NT(...)` as a pattern; parameters may be patterns (`ANY`)."""
    if _current == "en":
        text = singular if n == 1 else plural
    else:
        text = _translated(translations(_current).ngettext(singular, plural, n), (singular, 0))
    return _pattern(text, {"num": n, **params})


class UntranslatedWarning(UserWarning):
    """A journey named a msgid the catalog has no translation for (yet)."""


__all__ = [
    "ANY",
    "LANGUAGES",
    "NT",
    "NT_re",
    "T",
    "T_re",
    "UntranslatedWarning",
    "both_languages",
    "current",
    "use",
]
