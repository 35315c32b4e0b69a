"""Keep the catalogs in step with the code: extract every marked string, add the new ones to the
right area's `.po` file, drop the ones nobody uses, and report what is still untranslated.

`civic i18n check` (and the test suite) fails when a string shown to people is missing from a
catalog, untranslated, fuzzy, or translated with different `%(placeholders)s`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from civic.i18n.catalogs import LOCALE_DIR, catalog_files, read_catalog

ROOT = LOCALE_DIR.parents[1]
SOURCES = {"civic": ROOT / "civic", "web/templates": ROOT / "web" / "templates"}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHOD_MAP = [("**.py", "python"), ("**.html", "jinja2"), ("**.txt", "jinja2")]
OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n"}, "**.txt": {"extensions": "jinja2.ext.i18n"}}
AREAS = ("participation", "leadership", "trust", "engagement", "identity")
HOME_PAGES = {"web/templates/home.html", "web/templates/dashboard.html", "web/templates/_charts.html"}
TRANSLATED_LOCALES = ("az",)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


@dataclass
class Extracted:
    """One msgid (or singular/plural pair) and where it is used."""

    msgid: str | tuple[str, str]
    locations: list[tuple[str, int]] = field(default_factory=list)


def area_of(path: str) -> str:
    """Which `.po` file a new string goes to: the area of the first file that uses it."""
    if path in HOME_PAGES:
        return "home"
    parts = Path(path).parts
    if "console" in parts[:4]:
        return "console"
    if parts[:3] == ("web", "templates", "charts"):
        return "home"
    for part in parts[:3]:
        if part in AREAS:
            return part
    return "core"


def extract() -> dict[str, Extracted]:
    found: dict[str, Extracted] = {}
    for prefix, directory in SOURCES.items():
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(directory), METHOD_MAP, OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
        ):
            if prefix == "civic" and filename.startswith(("i18n/", "locale/")):
                continue
            key = message[0] if isinstance(message, tuple) else message
            if not key:
                continue
            entry = found.setdefault(key, Extracted(msgid=message))
            entry.locations.append((f"{prefix}/{filename}", lineno))
    return found


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems(
    locale: str, extracted: dict[str, Extracted] | None = None, area: str | None = None
) -> Iterator[str]:
    """Every reason the `locale` catalogs are not complete, one line each (only `area`'s if given)."""
    extracted = extract() if extracted is None else extracted
    if area is not None:
        extracted = {k: v for k, v in extracted.items() if area_of(v.locations[0][0]) == area}
    seen: dict[str, tuple[Path, object]] = {}
    for path in catalog_files(locale):
        for message in read_catalog(path, locale):
            if not message.id:
                continue
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            seen.setdefault(key, (path, message))
    for key, entry in sorted(extracted.items()):
        where = "{}:{}".format(*entry.locations[0])
        if key not in seen:
            yield f"missing: {key!r} ({where})"
            continue
        path, message = seen[key]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)  # type: ignore[attr-defined]
        if message.fuzzy or not all(strings):  # type: ignore[attr-defined]
            yield f"untranslated: {key!r} in {path.name} ({where})"
            continue
        wanted = _placeholders(key)
        for text in strings:
            if _placeholders(text) != wanted:
                yield f"placeholders differ: {key!r} → {text!r} in {path.name} ({where})"
    for key, (path, _message) in sorted(seen.items()):
        if key not in extracted and (area is None or path.stem == area):
            yield f"unused: {key!r} in {path.name} (run `civic i18n update`)"


def _new_catalog(locale: str) -> Catalog:
    return Catalog(
        locale=locale,
        project="civic",
        version="0.1",
        copyright_holder="civic contributors",
        msgid_bugs_address="",
        fuzzy=False,
        header_comment="# Azerbaijani translations of civic's interface (area: see the file name).",
    )


def update(locale: str, area: str | None = None) -> dict[str, int]:
    """Add new strings (empty, to translate) to their area's file; remove unused ones.

    With `area`, only that area's file is written (people translating different areas at once
    do not overwrite each other)."""
    extracted = extract()
    catalogs: dict[str, Catalog] = {}
    for path in catalog_files(locale):
        catalogs[path.stem] = read_catalog(path, locale)
    known = {m.id if isinstance(m.id, str) else m.id[0] for c in catalogs.values() for m in c if m.id}
    added = removed = 0
    for key, entry in extracted.items():
        locations = entry.locations
        if key in known:
            continue
        home = area_of(locations[0][0])
        if area is not None and home != area:
            continue
        catalog = catalogs.setdefault(home, _new_catalog(locale))
        catalog.add(
            entry.msgid, string=("", "") if isinstance(entry.msgid, tuple) else "", locations=locations[:3]
        )
        added += 1
    for name, catalog in catalogs.items():
        if area is not None and name != area:
            continue
        for message in list(catalog):
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            if key not in extracted:
                del catalog[message.id]
                removed += 1
            else:
                message.locations = extracted[key].locations[:3]
    directory = LOCALE_DIR / locale / "LC_MESSAGES"
    directory.mkdir(parents=True, exist_ok=True)
    for name, catalog in catalogs.items():
        if area is not None and name != area:
            continue
        with (directory / f"{name}.po").open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True, include_previous=False, omit_header=False)
    return {"added": added, "removed": removed}
