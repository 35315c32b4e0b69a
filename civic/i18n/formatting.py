"""Dates, times and numbers the way the reader's language writes them (CLDR data through Babel).

Times are stored in UTC and shown in the platform's time zone (Asia/Baku by default: the people
using it live there), with the zone named so nobody has to guess.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_timezone
from babel.numbers import format_decimal, format_percent

from civic.i18n import current_locale

# English as written in the UK (3 December 2026, like GOV.UK), Azerbaijani as CLDR has it.
BABEL_LOCALES = {"en": "en_GB", "az": "az"}


def _locale() -> str:
    return BABEL_LOCALES.get(current_locale(), "en_GB")


DISPLAY_TIMEZONE = get_timezone("Asia/Baku")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def format_date(value: date | datetime | None, style: str = "long") -> str:
    """`2 December 2026` / `2 dekabr 2026`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _aware(value).astimezone(DISPLAY_TIMEZONE).date()
    return babel_format_date(value, format=style, locale=_locale())


def format_datetime(value: datetime | None, style: str = "medium") -> str:
    """`2 Dec 2026, 18:05` / `2 dek 2026 18:05` in Baku time."""
    if value is None:
        return ""
    pattern = {"medium": "d MMM y, HH:mm", "long": "d MMMM y, HH:mm", "short": "dd.MM.y HH:mm"}[style]
    return babel_format_datetime(_aware(value), pattern, tzinfo=DISPLAY_TIMEZONE, locale=_locale())


def iso(value: datetime | None) -> str:
    """Machine-readable time for `<time datetime>`."""
    return "" if value is None else _aware(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_number(value: float | int | None, digits: int | None = None) -> str:
    """`1,234` / `1.234`."""
    if value is None:
        return ""
    if digits is not None:
        return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0", locale=_locale())
    return format_decimal(value, locale=_locale())


def format_share(value: float | None) -> str:
    """A share 0–1 as a percentage: `87%` / `%87`."""
    return "" if value is None else format_percent(value, locale=_locale())
