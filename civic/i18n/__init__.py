"""Translations: the language of the current request (or e-mail, or job) and gettext over it.

The language lives in a context variable, set once per request by `civic.http.locale` (and by
jobs for the account they write to), so domain code can say `_("Proposal not found.")` without
knowing about HTTP, and every message comes out in the reader's language. Catalogs are the
Babel `.po` files under `civic/locale/<lang>/LC_MESSAGES/`; English is the source language.

Module-level constants are marked with `N_()` (extracted, not translated) and translated where
they are shown, because a constant is evaluated once, before any request has a language.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from civic.i18n.catalogs import translations

DEFAULT_LOCALE = "en"
LOCALES: dict[str, str] = {"en": "English", "az": "Azərbaycanca"}

_current: ContextVar[str] = ContextVar("civic_locale", default=DEFAULT_LOCALE)


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    """Set the language for the rest of this context (a request's task, a job)."""
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


@contextlib.contextmanager
def using(locale: str | None) -> Iterator[None]:
    """Speak `locale` inside the block, e.g. while writing one account's e-mail."""
    token = _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str, /, **params: object) -> str:
    """`message` in the current language; `%(name)s` placeholders filled from `params`."""
    text = translations(_current.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, /, **params: object) -> str:
    """The singular or plural form for `n` in the current language; `%(num)s` is `n`."""
    text = translations(_current.get()).ngettext(singular, plural, n)
    return text % {"num": n, **params}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a string for the catalogs without translating it now (see the module docstring)."""
    return message


_ = gettext

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "N_",
    "_",
    "current_locale",
    "gettext",
    "ngettext",
    "set_locale",
    "using",
]
