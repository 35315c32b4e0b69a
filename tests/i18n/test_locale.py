"""The language machinery itself: negotiation, gettext over the context, CLDR formatting."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from civic.http.locale import accepted_languages, negotiate
from civic.i18n import _, current_locale, ngettext, set_locale, using
from civic.i18n.catalogs import translations
from civic.i18n.formatting import format_date, format_datetime, format_number, format_share, iso


def test_accept_language_ranks_by_quality_then_order():
    assert accepted_languages("en;q=0.5, az-AZ, ru;q=0.8") == ["az-az", "ru", "en"]
    assert accepted_languages("fr;q=0, de;q=oops, az") == ["az"]
    assert accepted_languages("") == []


def test_the_choice_beats_the_browser_which_beats_the_default():
    assert negotiate("az", "en-GB,en") == "az"
    assert negotiate(None, "ru, az-AZ;q=0.9, en;q=0.8") == "az"
    assert negotiate(None, "ru, de") == "en"
    assert negotiate("xx", "az") == "az", "an unknown cookie value is ignored"


def test_gettext_follows_the_context_and_falls_back_to_english():
    with using("az"):
        assert current_locale() == "az"
        assert _("Log in") == translations("az").gettext("Log in") != "Log in"
        assert _("A sentence nobody has translated.") == "A sentence nobody has translated."
        with using("en"):
            assert _("Log in") == "Log in"
        assert current_locale() == "az"
    assert current_locale() == "en"
    with using("xx"):
        assert current_locale() == "en"


def test_placeholders_are_filled_after_translation():
    assert _("%(who)s said %(what)s", who="A", what="B") == "A said B"
    assert _("100%") == "100%", "no params: the text is not %-formatted"
    assert ngettext("%(num)s item", "%(num)s items", 1) == "1 item"
    assert ngettext("%(num)s item", "%(num)s items", 3) == "3 items"


def test_each_task_has_its_own_language():
    async def speak(locale: str) -> str:
        set_locale(locale)
        await asyncio.sleep(0.01)
        return current_locale()

    async def both() -> list[str]:
        return list(await asyncio.gather(speak("az"), speak("en"), speak("az")))

    assert asyncio.run(both()) == ["az", "en", "az"]


def test_dates_and_numbers_in_each_language():
    moment = datetime(2026, 12, 2, 21, 5, tzinfo=UTC)  # 01:05 on 3 December in Baku
    with using("en"):
        assert format_date(moment) == "3 December 2026"
        assert format_datetime(moment) == "3 Dec 2026, 01:05"
        assert format_number(1234567.5) == "1,234,567.5"
        assert format_share(0.875) == "88%"
    with using("az"):
        assert format_date(moment) == "3 dekabr 2026"
        assert format_datetime(moment, "long") == "3 dekabr 2026, 01:05"
        assert format_number(1234567.5) == "1.234.567,5"
        assert format_date(date(2026, 1, 1)) == "1 yanvar 2026"
    assert iso(moment) == "2026-12-02T21:05:00Z"
    assert iso(datetime(2026, 12, 2, 21, 5)) == "2026-12-02T21:05:00Z", "naive values are UTC"
    assert format_date(None) == format_datetime(None) == format_number(None) == ""
