"""Load the `.po` catalogs straight from the source tree (no compiled `.mo` files to keep in step).

Each language's directory may hold several `.po` files (one per area of the code, so people can
translate in parallel); they are merged into one `Translations` at first use and cached.
"""

from __future__ import annotations

import functools
import gettext as stdlib_gettext
import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"


def catalog_files(locale: str) -> list[Path]:
    return sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po"))


def read_catalog(path: Path, locale: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def merged_catalog(locale: str) -> Catalog:
    """Every area's entries in one catalog; fuzzy and empty entries are left out (English shows)."""
    merged = Catalog(locale=locale)
    for path in catalog_files(locale):
        for message in read_catalog(path, locale):
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.id and all(strings) and not message.fuzzy and message.id not in merged:
                merged.add(message.id, message.string)
    return merged


@functools.cache
def translations(locale: str) -> stdlib_gettext.NullTranslations:
    files = catalog_files(locale)
    if not files:
        return stdlib_gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, merged_catalog(locale))
    buffer.seek(0)
    return Translations(fp=buffer)
