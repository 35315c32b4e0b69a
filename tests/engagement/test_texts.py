"""The badges' and point rules' words are in the catalogs, translated, and shown in the reader's
language; a badge whose words the catalogs cannot translate stops the start."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from civic.engagement.badges import BadgesError, load_badges, parse_badges
from civic.engagement.rules import DEFAULT_RULES_PATH
from civic.engagement.texts import BADGE_TEXTS, REASON_TEXTS, shown
from civic.i18n import _, using
from tests.engagement.conftest import Town
from tests.engagement.test_profile_pages import active_town, log_in, text

AZ = {"Accept-Language": "az"}


def test_every_packaged_badge_text_is_marked_for_the_catalogs():
    for badge in load_badges().badges:
        assert badge.title in BADGE_TEXTS and badge.description in BADGE_TEXTS


def test_every_packaged_rule_reason_is_marked_for_the_catalogs():
    document = tomllib.loads(Path(DEFAULT_RULES_PATH).read_text(encoding="utf-8"))
    reasons = {table["reason"] for kind in ("rule", "reversal") for table in document.get(kind, [])}
    assert reasons, "the rules file has reasons"
    assert reasons <= REASON_TEXTS, f"list these in civic/engagement/texts.py: {reasons - REASON_TEXTS}"


@pytest.mark.parametrize("words", sorted(BADGE_TEXTS | REASON_TEXTS))
def test_every_badge_and_reason_has_its_azerbaijani_translation(words: str):
    with using("az"):
        assert _(words) != words, f"{words!r} is not translated in civic/locale/az"
        assert shown(words) == _(words)


def test_a_badge_with_words_the_catalogs_do_not_know_stops_the_start():
    source = '[[badge]]\nname = "proposer"\ntitle = "Ideas person"\ndescription = "published proposals"\n'
    source += "thresholds = [1, 2, 3, 4, 5]\n"
    with pytest.raises(BadgesError, match=r"<badges>:3: .*'title' 'Ideas person' has no translation"):
        parse_badges(source)


def test_the_profile_shows_badges_reasons_and_levels_in_azerbaijani(client: TestClient, town: Town):
    active_town(town)
    log_in(client, town.citizens[0])

    page = client.get("/me/profile", headers=AZ)

    assert page.status_code == 200
    body = text(page.text)
    assert "Təklif verdiniz" in body and "You submitted a proposal" not in body
    assert "Təklif müəllifi" in body and "dərc edilmiş təklif" in body  # the proposer badge
    assert re.search(r"Səviyyə 0 \(Yeni gələn\)", body)
    assert "Növbəti səviyyə: 5" in body
