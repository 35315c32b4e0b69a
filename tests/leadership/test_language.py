"""Leadership's pages in Azerbaijani: with the language cookie set, every page a citizen, a
moderator or a responder opens shows the catalog's Azerbaijani and none of the English sentences
leadership's catalog translates (only people's own words, names and titles stay as written)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from babel.messages.pofile import read_po

from civic.clock import utcnow
from civic.http.locale import LANGUAGE_COOKIE
from civic.i18n import using
from civic.i18n.catalogs import LOCALE_DIR
from civic.i18n.formatting import format_datetime
from civic.identity.models import Account, Role
from civic.runtime import Runtime
from tests.leadership._answers_support import settled
from tests.leadership.conftest import Scene, comment, official, proposal, report
from tests.leadership.test_pages import submit, text
from tests.participation.conftest import Browser, OpenBrowser


def english_sentences() -> list[str]:
    """Leadership's English msgids that read as text on a page (no placeholders, a few words)."""
    with (LOCALE_DIR / "az" / "LC_MESSAGES" / "leadership.po").open("rb") as handle:
        catalog = read_po(handle, locale="az")
    found = []
    for message in catalog:
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        if msgid and "%" not in msgid and len(msgid.split()) >= 3:
            found.append(msgid)
    return found


ENGLISH = english_sentences()


def in_azerbaijani(b: Browser) -> Browser:
    b.client.cookies.set(LANGUAGE_COOKIE, "az")
    return b


def words(page: Any) -> str:
    """The page's visible text, entities decoded."""
    return html.unescape(text(page))


def english_left(page: Any) -> list[str]:
    shown = words(page)
    return [sentence for sentence in ENGLISH if sentence in shown]


@pytest.fixture
def busy(runtime: Runtime, scene: Scene, browser: OpenBrowser) -> dict[str, Any]:
    """A reported comment hidden by a moderator (its author reads Azerbaijani), an answered proposal."""
    w = scene.world
    with runtime.db.transaction() as s:  # what the language switcher stores for a logged-in account
        kamal = s.get(Account, w.kamal.id)
        assert kamal is not None
        kamal.language = "az"
        s.add(kamal)
    p = proposal(runtime, w.leyla, scene.consultation)
    c = comment(runtime, w.kamal, p.id)
    report(runtime, w.rashad, "comment", c.id)
    with runtime.db.transaction() as s:
        responder = official(s, runtime, "Rena Responder", w.agency.id, Role.RESPONDER)
    answered = submit(
        browser(responder), f"/proposals/{p.id}/answer", status="under_review", text="We will look."
    )
    assert answered.status_code == 303
    moderator = browser(scene.moderator)
    case_id = int(moderator.client.get("/api/moderation/cases").json()["items"][0]["id"])
    decided = submit(moderator, f"/moderation/cases/{case_id}", decision="hide", reason="An advert.")
    assert decided.status_code == 303
    settled(runtime)
    return {"proposal": p, "comment": c, "case_id": case_id, "responder": responder}


def test_moderators_pages_in_azerbaijani(runtime: Runtime, scene: Scene, browser: OpenBrowser, busy) -> None:
    w = scene.world
    moderator = in_azerbaijani(browser(scene.moderator))
    pages = {
        "/moderation?state=all": "Moderasiya növbəsi",
        f"/moderation/cases/{busy['case_id']}": "Yazılan mətn",
        f"/moderation/items/proposal/{busy['proposal'].id}": "Bu təklifi moderasiya edin",
        "/moderation/appeals": "Apellyasiyalar",
        "/moderation/blocks": "Bloklanmış hesablar",
        f"/moderation/accounts/{w.kamal.id}/block": "Hesabı blokla",
        f"/moderation/dashboard?agency={w.agency.id}": "Canlı lent",
    }
    for url, phrase in pages.items():
        page = moderator.client.get(url)
        assert page.status_code == 200, url
        assert phrase in words(page), url
        assert english_left(page) == [], url
    english = browser(scene.moderator).client.get("/moderation?state=all")
    assert english_left(english)  # the net does catch English
    case = words(moderator.client.get(f"/moderation/cases/{busy['case_id']}"))
    assert "Gizlədilib" in case and "An advert." in case  # the moderator's own words stay as written
    with using("az"):
        month = format_datetime(utcnow()).split()[1]  # "dek": dates are written the Azerbaijani way
    assert f" {month} " in case and " UTC" not in case


def test_citizens_and_officials_pages_in_azerbaijani(
    runtime: Runtime, scene: Scene, browser: OpenBrowser, busy
) -> None:
    w = scene.world
    kamal = in_azerbaijani(browser(w.kamal))
    for url, phrase in {
        "/notifications": 'Sizin "This is spam, buy now." şərhiniz moderator tərəfindən gizlədildi',
        "/notifications/preferences": "Bildiriş tənzimləmələri",
    }.items():
        page = kamal.client.get(url)
        assert page.status_code == 200 and phrase in words(page), url
        assert english_left(page) == [], url
    report_form = in_azerbaijani(browser(w.aysel)).client.get(f"/report/proposal/{busy['proposal'].id}")
    assert "Təklifdən şikayət" in words(report_form) and english_left(report_form) == []

    responder = in_azerbaijani(browser(busy["responder"]))
    for url, phrase in {
        f"/proposals/{busy['proposal'].id}/answer": "Cavabı yeniləyin",
        "/console/scorecard": "Daxil olan təkliflər",
        "/transparency": "İctimai fəaliyyət jurnalı",
    }.items():
        page = responder.client.get(url)
        assert page.status_code == 200 and phrase in words(page), url
        assert english_left(page) == [], url


def test_errors_in_azerbaijani(runtime: Runtime, scene: Scene, browser: OpenBrowser, busy) -> None:
    leyla = in_azerbaijani(browser(scene.world.leyla))
    response = leyla.client.get("/api/scorecards/me")
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Göstərici kartı yalnız vəzifəli şəxslərdə olur."
    hidden = busy["comment"].id  # hidden by the moderator: as if it did not exist
    again = in_azerbaijani(browser(scene.world.aysel)).client.get(f"/report/comment/{hidden}")
    assert again.status_code == 404 and f"{hidden} nömrəli şərh yoxdur." in words(again)
