"""The home page and the charts: what a newcomer sees comes from the records (open consultations,
today's public activity, a feed that names nobody) in both languages, and every chart is inline
SVG with its numbers in a table, so it works without JavaScript."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from civic.identity.models import Account
from civic.leadership import scorecard
from civic.leadership.scorecard_chart import answer_bars
from civic.participation import actions, consultations
from civic.participation.models import Support
from civic.participation.schemas import PhaseChange
from civic.participation.support_curve import support_curve
from tests.factories import make_account
from tests.http.support import Page, api_login
from tests.http.test_pages import Participation, seed_participation

LANG_COOKIE = "civic_lang"


@pytest.fixture
def data(runtime) -> Participation:
    return seed_participation(runtime)


def supported_by_three(runtime, data: Participation) -> list[int]:
    """Move the first consultation to its support phase and have three citizens support the
    discussed proposal; returns their support ids."""
    with runtime.db.transaction() as session:
        convener = session.exec(select(Account).where(Account.email == "convener@gov.az")).one()
        consultations.change_phase(session, convener, data.consultation, PhaseChange(phase="support"))
        ids = []
        for n in range(3):
            citizen = make_account(runtime, session, email=f"supporter{n}@example.az", name=f"Supporter {n}")
            actions.support_proposal(session, citizen, data.proposal)
            support = session.exec(
                select(Support).where(Support.account_id == citizen.id, Support.proposal_id == data.proposal)
            ).one()
            ids.append(support.id)
        return ids


def counter(html: str, key: str) -> int:
    match = re.search(rf'data-counter="{key}"[^>]*>([^<]+)<', html)
    assert match, f"no counter {key}"
    return int(match.group(1).replace(",", "").replace(".", "").strip())


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_the_home_page_shows_the_open_consultations_and_todays_counts(client, runtime, data):
    supported_by_three(runtime, data)

    page = client.get("/")

    assert page.status_code == 200
    html = page.text
    assert "Better buses for Baku" in html and "Night trains" in html
    assert f'href="/consultations/{data.consultation}"' in html
    assert "Collecting supports" in html and "Collecting proposals" in html
    assert "2 proposals · 3 supports" in html
    assert counter(html, "proposals") == 2 and counter(html, "supports") == 3
    assert counter(html, "comments") == 3  # four posted, one deleted by its author
    assert counter(html, "participants") == 5  # Leyla, Rashad and the three supporters
    # One primary action for a newcomer, the feed without anyone's name.
    assert 'href="/register"' in html and "Create an account" in html
    feed = html.split('data-testid="public-feed"')[1].split("</ol>")[0]
    assert "A proposal was supported in Better buses for Baku" in feed
    assert f'href="/proposals/{data.proposal}"' in feed
    for private in ("Leyla", "Rashad", "Supporter", "Good idea", "Night bus to the airport"):
        assert private not in feed
    # Live without JavaScript's help: the page names the topics it follows and can be refetched.
    assert f"consultation:{data.consultation}" in html and "dashboard.js" in html
    assert page.headers["cache-control"] == "no-store"


def test_the_home_page_in_azerbaijani(client, runtime, data):
    supported_by_three(runtime, data)
    client.cookies.set(LANG_COOKIE, "az")

    html = client.get("/").text

    assert '<html lang="az">' in html
    assert "Hesab yaradın" in html  # Create an account
    assert "Açıq ictimai müzakirələr" in html  # Open consultations
    assert "Better buses for Baku" in html
    assert counter(html, "supports") == 3 and counter(html, "proposals") == 2
    assert "Create an account" not in html and "Open consultations" not in html


def test_a_logged_in_citizen_is_sent_to_find_a_consultation(client, data):
    api_login(client, "rashad@example.az")

    html = client.get("/").text

    assert "Find a consultation" in html and "Create an account" not in html


def test_the_home_page_fits_one_page_without_errors_and_has_one_h1(client, data):
    page = Page(client.get("/").text)

    assert page.h1_count == 1
    assert len(page.ids) == len(set(page.ids))
    assert not any("style" in attrs for _, attrs in page.tags)  # the CSP allows no inline styles
    assert not any(tag == "script" and "src" not in attrs for tag, attrs in page.tags)


def test_the_support_curve_counts_supports_per_day(runtime, data):
    ids = supported_by_three(runtime, data)
    today = date(2026, 12, 10)
    days = [datetime(2026, 12, 7, 9, tzinfo=UTC), datetime(2026, 12, 7, 18, tzinfo=UTC)]
    days.append(datetime(2026, 12, 9, 23, 30, tzinfo=UTC))
    with runtime.db.transaction() as session:
        for support_id, at in zip(ids, days, strict=True):
            session.get(Support, support_id).created_at = at

    with runtime.db.transaction() as session:
        curve = support_curve(session, data.proposal, today=today)

    assert [(d.day, d.count, d.total) for d in curve] == [
        (date(2026, 12, 7), 2, 2),
        (date(2026, 12, 8), 0, 2),
        (date(2026, 12, 9), 1, 3),
        (date(2026, 12, 10), 0, 3),
    ]
    with runtime.db.transaction() as session:
        assert support_curve(session, data.fresh, today=today) == []
        # Supports long ago: the curve ends on the last one's day, earlier ones in its total.
        old = support_curve(session, data.proposal, today=today + timedelta(days=200), max_days=2)
    assert [(d.day, d.count, d.total) for d in old] == [(date(2026, 12, 8), 0, 2), (date(2026, 12, 9), 1, 3)]


def test_the_proposal_page_draws_the_support_curve_with_its_table(client, runtime, data):
    supported_by_three(runtime, data)

    html = client.get(f"/proposals/{data.proposal}").text

    figure = html.split('id="support-curve-figure"')[1].split("</figure>")[0]
    assert 'role="img"' in figure and 'aria-labelledby="support-curve-title support-curve-summary"' in figure
    assert "<polyline" in figure and "Supports in all: 3." in figure
    table = figure.split("<table")[1].split("</table>")[0]
    assert "<caption" in table and "<td>3</td><td>3</td>" in table  # three today, three in all
    assert "charts.css" in html
    # No supports, no chart.
    assert "support-curve" not in client.get(f"/proposals/{data.fresh}").text


def test_the_transparency_page_draws_answer_times_against_the_promise(client, runtime, data):
    with runtime.db.transaction() as session:
        cards = scorecard.agency_scorecards(session)
    bars = answer_bars(cards)
    assert [(b.name, b.median_hours, b.promise_hours) for b in bars] == [(cards[0].name, None, 14 * 24.0)]

    html = client.get("/transparency").text

    figure = html.split('id="answer-times-figure"')[1].split("</figure>")[0]
    assert cards[0].name in figure and "no answer yet" in figure and "promise: 14.0 d" in figure
    assert 'class="hbar-target"' in figure and "<table" in figure and "<caption" in figure


def test_the_public_dashboard_draws_activity_per_minute_and_per_day(client, runtime, data):
    supported_by_three(runtime, data)

    html = client.get("/dashboard").text

    minutes = html.split('id="minutes-figure"')[1].split("</figure>")[0]
    assert 'role="img"' in minutes and "<rect" in minutes and "<table" in minutes
    days = html.split('id="days-figure"')[1].split("</figure>")[0]
    assert "supports: 3" in visible_text(days) and days.count("<polyline") == 3
    today = datetime.now(UTC).date().isoformat()
    assert f'<time datetime="{today}">' in days
    row = days.split(f'<time datetime="{today}">')[1].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", row) == ["2", "3", "3"]  # proposals, supports, comments


def test_an_officials_scorecard_draws_their_time_beside_their_agencys(client, data):
    api_login(client, "convener@gov.az")

    html = client.get("/console/scorecard").text

    figure = html.split('id="own-answer-times-figure"')[1].split("</figure>")[0]
    assert "You" in figure and "Transport agency" in figure and "promise: 14.0 d" in figure
    assert "<table" in figure and 'class="hbar-target"' in figure
