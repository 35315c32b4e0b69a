"""Engagement's pages through HTTP: my profile (points history with reasons, badges with progress,
level with what it unlocks and what the next needs, the CSRF-checked preferences form), the public
profile (only what the citizen chose to show; officials are not there) and the leaderboards."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from civic.identity.models import Account
from civic.participation.models import Phase
from tests.conftest import form_token
from tests.engagement.conftest import Town
from tests.engagement.test_badges import redis_leaderboards  # noqa: F401 (fixture)
from tests.http.support import api_login


def log_in(client: TestClient, account: Account) -> str:
    """Log in; returns the CSRF token of the profile page's form."""
    assert api_login(client, account.email).status_code == 200
    return form_token(client.get("/me/profile").text)


def save(client: TestClient, token: str, **choices: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/me/profile/preferences", data={"csrf_token": token, **choices}, follow_redirects=False
    )


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def active_town(town: Town) -> None:
    """Leyla proposes twice and Kamal supports one of them."""
    leyla, kamal, *_ = town.citizens
    consultation = town.consultation()
    proposal = town.submit(leyla, consultation, "Night buses every 20 minutes")
    town.submit(leyla, consultation, "Lit bus stops at night")
    town.phase(consultation, Phase.SUPPORT)
    town.support(kamal, proposal)


def test_my_profile_needs_a_log_in(client: TestClient):
    page = client.get("/me/profile", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fme%2Fprofile"


def test_my_profile_shows_points_with_reasons_badges_with_progress_and_what_the_next_level_needs(
    client: TestClient, town: Town
):
    active_town(town)
    leyla = town.citizens[0]
    log_in(client, leyla)
    page = client.get("/me/profile")
    assert page.status_code == 200
    body = text(page.text)

    assert re.search(r'data-testid="points">8<', page.text), "3 + 3 submitted, 2 for a support received"
    assert "You submitted a proposal" in body and "Someone supported your proposal" in body
    assert "+3" in body and "+2" in body
    assert 'data-badge="proposer" data-level="1"' in page.text
    assert "Next level at 5" in body, "proposer: 2 of 5 towards level 2"
    assert 'data-badge="verified"' not in page.text, "never shown as a goal"
    assert "Level 0 (Newcomer) lets you:" in body
    assert "Up to 2 proposals and 10 comments a day" in body
    assert "Next: level 1, Participant" in body
    assert "an account at least 1 day old" in body
    assert "Kamal" not in body, "a supporter is never named"


def test_preferences_are_saved_with_csrf_and_change_the_public_profile(client: TestClient, town: Town):
    active_town(town)
    leyla = town.citizens[0]
    token = log_in(client, leyla)

    public = client.get(f"/people/{leyla.id}")
    assert public.status_code == 200
    assert "Leyla" in public.text and 'data-testid="badges"' not in public.text, "badges private by default"
    assert 'data-testid="rank"' in public.text

    refused = client.post("/me/profile/preferences", data={"show_badges": "1"}, follow_redirects=False)
    assert refused.status_code == 403, "no CSRF token, no change"

    saved = save(client, token, show_badges="1")  # leaves on_leaderboards unticked: off
    assert saved.status_code == 303 and saved.headers["location"] == "/me/profile?done=saved#preferences"
    assert "Your choices are saved." in client.get(saved.headers["location"]).text

    public = client.get(f"/people/{leyla.id}")
    assert 'data-badge="proposer"' in public.text
    assert 'data-badge="supporter"' not in public.text, "only badges earned are shown"
    assert "Next level at" not in public.text, "progress is for the citizen only"
    assert 'data-testid="rank"' not in public.text, "left the leaderboards"
    assert f'data-account="{leyla.id}"' not in client.get("/leaderboards").text


def test_the_public_profile_is_404_for_officials_and_unknown_people(client: TestClient, town: Town):
    assert client.get(f"/people/{town.convener.id}").status_code == 404
    assert client.get("/people/999999").status_code == 404
    assert client.get("/people/99999999999").status_code == 404


def test_an_official_has_no_engagement_profile(client: TestClient, town: Town):
    token = log_in(client, town.convener)
    assert "Officials hold no points" in client.get("/me/profile").text
    assert save(client, token, on_leaderboards="1").status_code == 403


def test_the_leaderboards_page_filters_by_scope_and_window_and_shows_my_rank(client: TestClient, town: Town):
    active_town(town)
    leyla, kamal, *_ = town.citizens
    page = client.get("/leaderboards")
    assert page.status_code == 200
    rows = re.findall(
        r'<tr data-account="(\d+)"><td>(\d+)</td><td><a [^>]*>([^<]+)</a></td><td>(\d+)</td>', page.text
    )
    assert rows == [(str(leyla.id), "1", "Leyla", "8"), (str(kamal.id), "2", "Kamal", "1")]

    consultation_id = re.search(r'<option value="(\d+)"', page.text.split('id="consultation"')[1]).group(1)  # type: ignore[union-attr]
    scoped = client.get(f"/leaderboards?scope=consultation&consultation={consultation_id}&window=week")
    assert f'data-account="{leyla.id}"' in scoped.text
    assert f'data-account="{kamal.id}"' not in scoped.text, "support points count on global boards only"
    assert client.get("/leaderboards?scope=consultation&consultation=424242").status_code == 404
    assert client.get("/leaderboards?scope=district&district=Nowhere").status_code == 404
    assert client.get("/leaderboards?scope=bogus&window=century&page=-3").status_code == 200

    log_in(client, kamal)
    assert "You are #2 with 1 point." in text(client.get("/leaderboards").text)
