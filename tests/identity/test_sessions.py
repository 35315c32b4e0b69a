"""Server-side sessions: what the cookie holds, how it is set, and every way a session ends."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from civic.clock import as_utc, utcnow
from civic.identity.models import Account, AuthSession
from tests.conftest import csrf_token, form_token
from tests.factories import make_account
from tests.http.support import api_login, cookie_header_for, count, form_login, set_cookie_headers

COOKIE = "civic_session"


@pytest.fixture
def leyla(runtime):
    with runtime.db.transaction() as session:
        return make_account(runtime, session, email="leyla@example.az", name="Leyla")


def with_cookie(client: TestClient, token: str, name: str = COOKIE) -> TestClient:
    """Another browser presenting `token`: replays a cookie the user no longer has."""
    return TestClient(client.app, base_url=str(client.base_url), cookies={name: token})


def another_browser(client: TestClient) -> TestClient:
    return TestClient(client.app, base_url=str(client.base_url))


def sessions_of(runtime, account_id: int) -> list[AuthSession]:
    with runtime.db.transaction() as session:
        return list(session.exec(select(AuthSession).where(AuthSession.account_id == account_id)).all())


def move_session(runtime, account_id: int, **fields) -> None:
    """Age the account's sessions by rewriting their timestamps, as time passing would."""
    with runtime.db.transaction() as session:
        for row in session.exec(select(AuthSession).where(AuthSession.account_id == account_id)).all():
            for name, value in fields.items():
                setattr(row, name, value)
            session.add(row)


def test_cookie_holds_a_random_token_and_the_database_only_its_sha256(client, runtime, leyla):
    api_login(client, "leyla@example.az")
    token = client.cookies.get(COOKIE)

    rows = sessions_of(runtime, leyla.id)

    assert token and len(token) >= 43  # 32 random bytes, url-safe base64
    assert str(leyla.id) != token and "leyla" not in token
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in {r.token_hash for r in rows}


def test_two_logins_get_unrelated_tokens(client, runtime, leyla):
    api_login(client, "leyla@example.az")
    other = another_browser(client)
    api_login(other, "leyla@example.az")

    assert client.cookies.get(COOKIE) != other.cookies.get(COOKIE)
    assert len(sessions_of(runtime, leyla.id)) == 2


def test_session_cookie_is_httponly_samesite_lax_for_the_whole_site(client, leyla):
    header = cookie_header_for(api_login(client, "leyla@example.az"), COOKIE).lower()

    assert "httponly" in header
    assert "samesite=lax" in header
    assert "path=/" in header
    assert "domain=" not in header
    assert "max-age=43200" in header  # the absolute lifetime, 12 hours
    assert "secure" not in header  # the test settings serve plain http


def test_secure_cookies_use_the_host_prefix_and_secure_flag(make_client):
    client, runtime = make_client(secure_cookies=True, base_url="https://testserver")
    with runtime.db.transaction() as session:
        make_account(runtime, session, email="leyla@example.az")

    response = api_login(client, "leyla@example.az")

    assert response.status_code == 200, response.text
    session_cookie = cookie_header_for(response, "__Host-civic_session").lower()
    for attribute in ("secure", "httponly", "samesite=lax", "path=/"):
        assert attribute in session_cookie
    assert "domain=" not in session_cookie
    assert not [h for h in set_cookie_headers(response) if h.startswith(COOKIE + "=")]
    assert client.get("/api/me").status_code == 200
    assert "max-age=" in response.headers["strict-transport-security"]


def test_secure_csrf_cookie_uses_the_host_prefix_too(make_client):
    client, _runtime = make_client(secure_cookies=True, base_url="https://testserver")

    header = cookie_header_for(client.get("/login"), "__Host-civic_csrf").lower()

    assert "secure" in header and "httponly" in header and "path=/" in header


def test_login_replaces_the_previous_session(client, runtime, leyla):
    api_login(client, "leyla@example.az")
    before = client.cookies.get(COOKIE)

    api_login(client, "leyla@example.az")

    after = client.cookies.get(COOKIE)
    assert after != before
    assert with_cookie(client, before).get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 200
    assert len(sessions_of(runtime, leyla.id)) == 1


def test_form_login_replaces_the_previous_session_too(client, runtime, leyla):
    form_login(client, "leyla@example.az")
    before = client.cookies.get(COOKIE)

    form_login(client, "leyla@example.az")

    assert client.cookies.get(COOKIE) != before
    assert with_cookie(client, before).get("/api/me").status_code == 401
    assert len(sessions_of(runtime, leyla.id)) == 1


def test_a_planted_session_cookie_is_not_adopted_at_login(client, runtime, leyla):
    """Session fixation: an attacker who sets the victim's cookie must not share the login."""
    planted = "attacker-chosen-value-0123456789abcdefghijklmnop"
    client.cookies.set(COOKIE, planted)

    response = api_login(client, "leyla@example.az")

    issued = cookie_header_for(response, COOKIE).split(";")[0].split("=", 1)[1]
    assert issued != planted
    assert with_cookie(client, planted).get("/api/me").status_code == 401
    assert with_cookie(client, issued).get("/api/me").status_code == 200


def test_registering_while_logged_in_ends_the_old_session(client, runtime, leyla):
    api_login(client, "leyla@example.az")
    before = client.cookies.get(COOKIE)
    page = client.get("/register")

    client.post(
        "/register",
        data={
            "csrf_token": form_token(page.text),
            "email": "new@example.az",
            "display_name": "New",
            "password": "a long enough password",
            "kind": "citizen",
        },
        follow_redirects=False,
    )

    assert client.cookies.get(COOKIE) != before
    assert sessions_of(runtime, leyla.id) == []


def test_a_session_idle_longer_than_the_limit_ends(client, runtime, leyla):
    api_login(client, "leyla@example.az")
    move_session(runtime, leyla.id, last_seen_at=utcnow() - timedelta(minutes=31))

    assert client.get("/api/me").status_code == 401
    assert sessions_of(runtime, leyla.id) == []


def test_activity_within_the_idle_limit_keeps_the_session_and_refreshes_it(client, runtime, leyla):
    api_login(client, "leyla@example.az")
    seen = utcnow() - timedelta(minutes=29)
    move_session(runtime, leyla.id, last_seen_at=seen)

    assert client.get("/api/me").status_code == 200

    (row,) = sessions_of(runtime, leyla.id)
    assert as_utc(row.last_seen_at) > seen + timedelta(minutes=28)


def test_a_session_past_its_absolute_lifetime_ends_even_if_active(client, runtime, leyla):
    api_login(client, "leyla@example.az")
    (row,) = sessions_of(runtime, leyla.id)
    assert as_utc(row.expires_at) - as_utc(row.created_at) == timedelta(hours=12)
    move_session(runtime, leyla.id, expires_at=utcnow() - timedelta(seconds=1), last_seen_at=utcnow())

    assert client.get("/api/me").status_code == 401
    assert sessions_of(runtime, leyla.id) == []


def test_timeouts_follow_the_settings(make_client):
    client, runtime = make_client(session_idle_minutes=5, session_absolute_hours=1)
    with runtime.db.transaction() as session:
        account = make_account(runtime, session, email="leyla@example.az")
    header = cookie_header_for(api_login(client, "leyla@example.az"), COOKIE).lower()
    assert "max-age=3600" in header
    move_session(runtime, account.id, last_seen_at=utcnow() - timedelta(minutes=6))

    assert client.get("/api/me").status_code == 401


def test_logout_ends_the_session_and_clears_the_cookie(client, runtime, leyla):
    form_login(client, "leyla@example.az")
    token = client.cookies.get(COOKIE)
    page = client.get("/account")

    response = client.post("/logout", data={"csrf_token": form_token(page.text)}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/?logged_out=1"
    cleared = cookie_header_for(response, COOKIE).lower()
    assert "max-age=0" in cleared or "expires=thu, 01 jan 1970" in cleared
    assert sessions_of(runtime, leyla.id) == []
    assert with_cookie(client, token).get("/api/me").status_code == 401
    assert "You are logged out." in client.get("/?logged_out=1").text


def test_api_logout_ends_the_session(client, runtime, leyla):
    api_login(client, "leyla@example.az")
    token = client.cookies.get(COOKIE)

    response = client.delete("/api/session", headers={"X-CSRF-Token": csrf_token(client)})

    assert response.status_code == 204
    assert sessions_of(runtime, leyla.id) == []
    assert with_cookie(client, token).get("/api/me").status_code == 401


def test_log_out_everywhere_ends_all_of_the_accounts_sessions_and_only_theirs(client, runtime, leyla):
    with runtime.db.transaction() as session:
        make_account(runtime, session, email="other@example.az")
    form_login(client, "leyla@example.az")
    laptop = another_browser(client)
    api_login(laptop, "leyla@example.az")
    bystander = another_browser(client)
    api_login(bystander, "other@example.az")
    page = client.get("/account")
    assert "logged in on 2 devices or browsers" in page.text

    client.post("/logout", data={"csrf_token": form_token(page.text), "everywhere": "1"})

    assert sessions_of(runtime, leyla.id) == []
    assert laptop.get("/api/me").status_code == 401
    assert client.get("/api/me").status_code == 401
    assert bystander.get("/api/me").status_code == 200
    assert count(runtime, AuthSession) == 1


def test_deactivating_an_account_ends_its_sessions(client, runtime, leyla):
    api_login(client, "leyla@example.az")
    with runtime.db.transaction() as session:
        account = session.get(Account, leyla.id)
        account.is_active = False
        session.add(account)

    assert client.get("/api/me").status_code == 401
    assert sessions_of(runtime, leyla.id) == []


def test_account_page_sends_visitors_without_a_session_to_log_in(client):
    response = client.get("/account", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account"
