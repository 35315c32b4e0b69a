"""Browsing proposals: filters, sorts, a stable random order per visitor, and pages."""

from __future__ import annotations

import pytest

from civic.participation import actions
from civic.participation.api import visitor_seed
from civic.participation.models import Phase
from civic.participation.queries import PER_PAGE
from tests.factories import raise_standing
from tests.participation.conftest import error, make_consultation, make_proposal, set_phase


@pytest.fixture
def catalogue(runtime, world):
    """Five proposals chosen so each filter picks a known few; one is withdrawn, one pending
    elsewhere (a pre-moderated consultation) to show lists never leak across consultations."""
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, categories=["transport", "safety"])
        made = {
            "tram": make_proposal(
                s,
                world.leyla,
                c,
                "Tram to the airport",
                "A tram line from the centre.",
                category="transport",
                district="Sabail",
            ),
            "crossings": make_proposal(
                s,
                world.kamal,
                c,
                "Safer crossings",
                "Raised crossings near schools; TRAM stops too.",
                category="safety",
                district="Nasimi",
            ),
            "electric": make_proposal(
                s,
                world.rashad,
                c,
                "100% electric buses",
                "Replace the diesel fleet.",
                category="transport",
                district="Sabail",
            ),
            "lane": make_proposal(
                s, world.aysel, c, "bus_lane on Nizami", "Paint a lane, red.", category="transport"
            ),
            "withdrawn": make_proposal(
                s, world.foreigner, c, "An idea taken back", "Withdrawn by its author.", category="safety"
            ),
        }
        actions.withdraw_proposal(s, world.foreigner, made["withdrawn"].id)
        other = make_consultation(s, world.convener, moderation="pre")
        make_proposal(s, world.leyla, other, "Tram pending elsewhere", "Waiting for a moderator.")
    return c, {name: p.id for name, p in made.items()}


def ids(response):
    assert response.status_code == 200, response.text
    return {p["id"] for p in response.json()["items"]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"tram", "crossings", "electric", "lane", "withdrawn"}),
        ({"status": "published"}, {"tram", "crossings", "electric", "lane"}),
        ({"status": "withdrawn"}, {"withdrawn"}),
        ({"category": "transport"}, {"tram", "electric", "lane"}),
        ({"category": "safety"}, {"crossings", "withdrawn"}),
        ({"district": "Sabail"}, {"tram", "electric"}),
        ({"q": "tram"}, {"tram", "crossings"}),  # title, and body in capitals
        ({"q": "TrAm"}, {"tram", "crossings"}),
        ({"q": "  tram  "}, {"tram", "crossings"}),
        ({"q": "%"}, {"electric"}),  # a literal per cent sign, not a wildcard
        ({"q": "_"}, {"lane"}),  # a literal underscore
        ({"q": "0%"}, {"electric"}),
        ({"q": "t_a"}, set()),  # "_" would match any character if it were a wildcard ("Paint a lane")
        ({"q": "%%"}, set()),
        ({"q": "\\"}, set()),
        ({"q": "bus"}, {"electric", "lane"}),
        ({"q": "taken back"}, {"withdrawn"}),
        ({"category": "transport", "district": "Sabail", "q": "tram"}, {"tram"}),
        ({"category": "parks"}, set()),
    ],
)
def test_filters_pick_the_right_proposals(runtime, world, browser, catalogue, params, expected):
    c, made = catalogue
    response = browser().get(f"/api/consultations/{c.id}/proposals", **params)
    assert ids(response) == {made[name] for name in expected}
    assert response.json()["total"] == len(expected)


def test_an_unknown_status_or_sort_is_refused(runtime, world, browser, catalogue):
    c, _ = catalogue
    b = browser()
    assert (
        "Choose one of"
        in error(b.get(f"/api/consultations/{c.id}/proposals", status="pending"), 422)["fields"]["status"]
    )
    assert (
        "Choose one of"
        in error(b.get(f"/api/consultations/{c.id}/proposals", sort="oldest"), 422)["fields"]["sort"]
    )
    assert error(b.get(f"/api/consultations/{c.id}/proposals", page="0"), 422)["fields"]["page"]


def test_most_supported_first_then_newest(runtime, world, browser, catalogue):
    c, made = catalogue
    set_phase(runtime, world.convener, c.id, Phase.SUPPORT)
    with runtime.db.transaction() as s:
        for supporter in (world.kamal, world.rashad, world.aysel):
            actions.support_proposal(s, supporter, made["tram"])
        actions.support_proposal(s, world.leyla, made["lane"])
    b = browser()

    supported = b.get(f"/api/consultations/{c.id}/proposals", sort="supported").json()["items"]
    newest = b.get(f"/api/consultations/{c.id}/proposals", sort="newest").json()["items"]

    assert [p["id"] for p in supported][:2] == [made["tram"], made["lane"]]
    assert [p["support_count"] for p in supported] == [3, 1, 0, 0, 0]
    assert [p["id"] for p in newest] == sorted(made.values(), reverse=True)


@pytest.fixture
def crowded(runtime, world):
    """A consultation with 2½ pages of proposals."""
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener)
        authors = [world.leyla, world.kamal, world.rashad, world.aysel]
        for author in authors:  # Leaders (30 proposals a day): each writes a dozen here
            raise_standing(s, author)
        made = [
            make_proposal(s, authors[i % 4], c, f"Proposal number {i}", f"Text of proposal {i}.").id
            for i in range(2 * PER_PAGE + 5)
        ]
    return c, made


def every_page(b, consultation_id, **params):
    first = b.get(f"/api/consultations/{consultation_id}/proposals", **params).json()
    pages = [first] + [
        b.get(f"/api/consultations/{consultation_id}/proposals", page=n, **params).json()
        for n in range(2, first["pages"] + 1)
    ]
    return [p["id"] for page in pages for p in page["items"]], pages


def test_pages_have_totals_and_the_last_page_holds_the_rest(runtime, world, browser, crowded):
    c, made = crowded
    b = browser()

    order, pages = every_page(b, c.id, sort="newest")

    assert [(p["page"], p["pages"], p["total"], len(p["items"])) for p in pages] == [
        (1, 3, 45, PER_PAGE),
        (2, 3, 45, PER_PAGE),
        (3, 3, 45, 5),
    ]
    assert order == sorted(made, reverse=True)
    beyond = b.get(f"/api/consultations/{c.id}/proposals", sort="newest", page=99).json()
    assert (beyond["page"], [p["id"] for p in beyond["items"]]) == (
        3,
        order[-5:],
    )  # past the end: the last page


def test_random_order_is_stable_per_seed_and_never_repeats_across_pages(runtime, world, browser, crowded):
    c, made = crowded
    b = browser()

    order, _ = every_page(b, c.id, sort="random", seed=12345)
    again, _ = every_page(browser(), c.id, sort="random", seed=12345)

    assert order == again  # the same seed, the same order, whoever asks
    assert len(order) == len(set(order)) == len(made)  # every proposal once across all pages
    assert sorted(order) == sorted(made)
    assert order not in (sorted(made), sorted(made, reverse=True))


@pytest.mark.parametrize(("one", "other"), [(1, 2), (0, 1), (12345, 12346), (7, 2**31)])
def test_different_seeds_give_different_orders(runtime, world, browser, crowded, one, other):
    c, _ = crowded
    b = browser()
    first, _ = every_page(b, c.id, sort="random", seed=one)
    second, _ = every_page(b, c.id, sort="random", seed=other)
    assert first != second
    assert sorted(first) == sorted(second)
    # Not merely the same cycle started elsewhere (what a seed added to a fixed hash gives).
    start = second.index(first[0])
    assert first != second[start:] + second[:start]


def test_random_is_the_default_with_a_seed_per_visitor(runtime, world, browser, crowded):
    c, _ = crowded
    b = browser()

    default, _ = every_page(b, c.id)
    seeded, _ = every_page(b, c.id, sort="random", seed=visitor_seed(b.token))

    assert default == seeded  # a visitor paging on keeps their shuffle


def test_visitor_seed_reads_the_csrf_tokens_hex_prefix():
    assert visitor_seed("0000002a" + "f" * 56) == 42
    assert visitor_seed("ffffffff") == 2**32 - 1
    assert visitor_seed("not-hex!") == 0
    assert visitor_seed("") == 0


def test_a_draft_or_unknown_consultation_lists_nothing(runtime, world, browser):
    with runtime.db.transaction() as s:
        draft = make_consultation(s, world.convener, publish=False)
    b = browser(world.leyla)
    assert (
        error(b.get(f"/api/consultations/{draft.id}/proposals"), 404)["message"]
        == f"There is no consultation {draft.id}."
    )
    assert browser(world.convener).get(f"/api/consultations/{draft.id}/proposals").status_code == 200


def test_search_ignores_case_beyond_ascii(runtime, world, browser):
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener)
        p = make_proposal(s, world.leyla, c, "ŞƏHƏR parkları", "Yeni parklar lazımdır.")
    assert ids(browser().get(f"/api/consultations/{c.id}/proposals", q="şəhər")) == {p.id}
