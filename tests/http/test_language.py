"""Which language a page or an API error is written in: the switcher's cookie, else the browser's
Accept-Language, else English; the switcher remembers a logged-in account's choice."""

from __future__ import annotations

import pytest
from sqlmodel import select

from civic.http.locale import LANGUAGE_COOKIE
from civic.identity.models import Account
from tests.conftest import csrf_token
from tests.factories import make_account
from tests.http.support import api_login, cookie_header_for

AZ = {"Accept-Language": "az-AZ,az;q=0.9,en;q=0.5"}


@pytest.fixture
def leyla(runtime):
    with runtime.db.transaction() as session:
        return make_account(runtime, session, email="leyla@example.az", name="Leyla")


def test_english_is_the_default(client):
    response = client.get("/login")

    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert response.headers["content-language"] == "en"
    assert "Skip to main content" in response.text


def test_accept_language_az_gives_the_azerbaijani_page(client):
    response = client.get("/login", headers=AZ)

    assert response.status_code == 200
    assert '<html lang="az">' in response.text
    assert response.headers["content-language"] == "az"
    assert "Accept-Language" in response.headers["vary"]
    assert "Əsas məzmuna keç" in response.text  # Skip to main content
    assert "Şifrə" in response.text  # Password
    assert "Skip to main content" not in response.text


def test_the_switchers_cookie_beats_accept_language(client):
    client.cookies.set(LANGUAGE_COOKIE, "en")
    english = client.get("/login", headers=AZ)
    assert '<html lang="en">' in english.text and english.headers["content-language"] == "en"

    client.cookies.set(LANGUAGE_COOKIE, "az")
    azerbaijani = client.get("/login", headers={"Accept-Language": "en"})
    assert '<html lang="az">' in azerbaijani.text and azerbaijani.headers["content-language"] == "az"


def test_an_unknown_cookie_value_falls_back_to_accept_language(client):
    client.cookies.set(LANGUAGE_COOKIE, "fr")

    assert '<html lang="az">' in client.get("/login", headers=AZ).text


def test_the_switcher_sets_the_cookie_and_goes_back_to_a_local_page(client):
    response = client.get(
        "/language/az", params={"next": "/leaderboards?window=week"}, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/leaderboards?window=week"
    cookie = cookie_header_for(response, LANGUAGE_COOKIE)
    assert cookie.startswith(f"{LANGUAGE_COOKIE}=az;")
    assert "Path=/" in cookie and "samesite=lax" in cookie.lower()
    assert '<html lang="az">' in client.get("/login").text


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil.example", "/\tx", ""],
)
def test_the_switcher_never_sends_anyone_to_another_site(client, target):
    response = client.get("/language/az", params={"next": target}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_the_switcher_offers_every_language_in_the_header(client):
    page = client.get("/login?x=1").text

    assert 'href="/language/az?next=%2Flogin%3Fx%3D1"' in page
    assert 'lang="az"' in page and "Azərbaycanca" in page


def test_an_unknown_language_is_a_404_that_says_so(client):
    response = client.get("/language/xx", follow_redirects=False)

    assert response.status_code == 404
    assert "There is no xx version of the site." in response.text
    assert LANGUAGE_COOKIE not in response.headers.get("set-cookie", "")

    in_azerbaijani = client.get("/language/xx", headers=AZ, follow_redirects=False)
    assert in_azerbaijani.status_code == 404
    assert "Saytın xx versiyası yoxdur." in in_azerbaijani.text


def test_an_api_error_speaks_the_readers_language_and_keeps_its_code(client):
    english = client.get("/api/me")
    azerbaijani = client.get("/api/me", headers=AZ)

    assert english.status_code == azerbaijani.status_code == 401
    assert english.json()["error"]["message"] == "Log in to use this endpoint."
    assert azerbaijani.json()["error"]["code"] == english.json()["error"]["code"] == "not_authenticated"
    assert azerbaijani.json()["error"]["message"] == "Bu API ünvanından istifadə etmək üçün daxil olun."
    assert azerbaijani.headers["content-language"] == "az"


def test_field_messages_are_translated_too(client):
    body = {"email": "leyla@example.az", "display_name": "L", "password": "short"}
    headers = {"X-CSRF-Token": csrf_token(client)}

    english = client.post("/api/accounts", json=body, headers=headers)
    azerbaijani = client.post("/api/accounts", json=body, headers={**headers, **AZ})

    assert english.status_code == azerbaijani.status_code == 422
    en, az = english.json()["error"], azerbaijani.json()["error"]
    assert en["code"] == az["code"] == "invalid_input"
    assert en["fields"]["display_name"] == "Use at least 2 characters."
    assert az["fields"]["display_name"] == "Ən azı 2 simvol istifadə edin."
    assert az["message"] == "Bəzi sahələrə diqqət yetirmək lazımdır."


def test_the_csrf_refusal_is_translated(client):
    response = client.post("/api/session", json={}, headers=AZ)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert response.json()["error"]["message"].startswith("Formanın təhlükəsizlik açarı")


def test_a_logged_in_switch_is_remembered_on_the_account(client, runtime, leyla):
    assert api_login(client, "leyla@example.az").status_code == 200

    response = client.get("/language/az", params={"next": "/account"}, follow_redirects=False)
    assert response.status_code == 303

    with runtime.db.transaction() as session:
        stored = session.exec(select(Account).where(Account.id == leyla.id)).one()
        assert stored.language == "az"
    page = client.get("/account")
    assert "Hesabım" in page.text  # My account
    assert 'data-testid="language-choice"' in page.text


def test_the_account_page_offers_the_language_choice(client, leyla):
    api_login(client, "leyla@example.az")

    page = client.get("/account").text

    assert 'href="/language/az?next=/account%23language"' in page
    assert "(your choice)" in page  # English, the stored default
