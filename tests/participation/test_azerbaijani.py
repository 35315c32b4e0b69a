"""Participation in Azerbaijani: the pages, the refusals and the dates follow the reader's
language (the `civic_lang` cookie), and English stays the source text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from civic.i18n import using
from civic.participation.limits import limit_message
from civic.participation.models import Phase
from tests.participation.conftest import error, make_comment, make_consultation, make_proposal, set_phase


@pytest.fixture
def discussed(runtime, world):
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, support_threshold=1500)
        p = make_proposal(s, world.leyla, c)
        make_comment(s, world.kamal, p.id)
    return c.id, p.id


def _in_azerbaijani(browser, account=None):
    b = browser(account)
    b.client.cookies.set("civic_lang", "az")
    return b


def test_a_consultation_page_reads_in_azerbaijani(world, browser, discussed):
    consultation_id, _proposal_id = discussed
    page = _in_azerbaijani(browser).get(f"/consultations/{consultation_id}").text
    for text in (
        "Təkliflərin toplanması",  # the phase badge
        "Kimlər iştirak edə bilər",
        "1.500 dəstək: bu həddə çatan təklif",  # the threshold, a plural, with the number as az writes it
        "1 təklif",
        "1 şərh",
        "Təklifləri göstər",
    ):
        assert text in page, text
    assert "Who can take part" not in page and "Show proposals" not in page


def test_a_proposal_page_writes_its_dates_the_azerbaijani_way(runtime, world, browser, discussed):
    _consultation_id, proposal_id = discussed
    page = _in_azerbaijani(browser).get(f"/proposals/{proposal_id}").text
    assert "Dəstəklər:" in page and "(tələb olunan: 1.500)" in page
    month = ["yan", "fev", "mar", "apr", "may", "iyn", "iyl", "avq", "sen", "okt", "noy", "dek"]
    assert any(f" {m} " in page for m in month), "a date with an Azerbaijani month"
    assert 'datetime="20' in page and 'Z">' in page, "the machine-readable time stays ISO, in UTC"
    english = browser().get(f"/proposals/{proposal_id}").text
    assert "Supports: <span" in english and "of 1,500 needed" in english


def test_refusals_come_in_the_readers_language(runtime, world, browser, discussed):
    consultation_id, proposal_id = discussed
    set_phase(runtime, world.convener, consultation_id, Phase.CLOSED)
    leyla_az = _in_azerbaijani(browser, world.kamal)
    refused = error(leyla_az.put(f"/api/proposals/{proposal_id}/support"), 409)
    assert refused["message"].startswith("Təklifləri dəstəkləmək yalnız dəstəklərin toplanması mərhələsində")
    assert refused["code"] == "wrong_phase"
    english = error(browser(world.kamal).put(f"/api/proposals/{proposal_id}/support"), 409)
    assert english["message"] == (
        "You can support proposals only in the support phase; this consultation is now in its closed phase."
    )


def test_the_daily_limit_names_the_day_in_the_readers_language():
    now = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
    at = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)
    english = limit_message("comment", 10, 0, at, now)
    assert "your limit of 10 comments in 24 hours" in english
    assert "in 11 h 30 min, at 09:30 UTC on 04 December." in english
    with using("az"):
        azerbaijani = limit_message("comment", 10, 0, at, now)
    assert (
        "10 şərh limitinə" in azerbaijani and "04 dekabr" in azerbaijani and "11 saat 30 dəq" in azerbaijani
    )
