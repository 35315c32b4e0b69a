"""Every state-changing route refuses a request that does not carry this browser's CSRF token."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from civic.app import create_app
from civic.http.guard import csrf_token_for
from civic.identity.models import Account
from tests.conftest import csrf_token
from tests.factories import make_account
from tests.http.support import cookie_header_for, count

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
KNOWN = {
    ("POST", "/register"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/registrar"),
    ("POST", "/api/accounts"),
    ("POST", "/api/session"),
    ("DELETE", "/api/session"),
    ("POST", "/api/accounts/{account_id:int}/verification"),
    ("POST", "/api/consultations"),
    ("POST", "/api/consultations/{consultation_id:int}/publication"),
    ("PUT", "/api/consultations/{consultation_id:int}/phase"),
    ("POST", "/api/consultations/{consultation_id:int}/proposals"),
    ("PUT", "/api/proposals/{proposal_id:int}"),
    ("POST", "/api/proposals/{proposal_id:int}/withdrawal"),
    ("PUT", "/api/proposals/{proposal_id:int}/support"),
    ("DELETE", "/api/proposals/{proposal_id:int}/support"),
    ("POST", "/api/proposals/{proposal_id:int}/comments"),
    ("PUT", "/api/comments/{comment_id:int}"),
    ("DELETE", "/api/comments/{comment_id:int}"),
    ("POST", "/consultations/{consultation_id:int}/proposals/new"),
    ("POST", "/proposals/{proposal_id:int}/edit"),
    ("POST", "/proposals/{proposal_id:int}/withdraw"),
    ("POST", "/proposals/{proposal_id:int}/support"),
    ("POST", "/proposals/{proposal_id:int}/unsupport"),
    ("POST", "/proposals/{proposal_id:int}/comments"),
    ("POST", "/comments/{comment_id:int}/edit"),
    ("POST", "/comments/{comment_id:int}/delete"),
    ("PATCH", "/api/consultations/{consultation_id:int}"),
    ("POST", "/api/accounts/{account_id:int}/block"),
    ("POST", "/api/accounts/{account_id:int}/unblock"),
    ("POST", "/api/consultations/{consultation_id:int}/close"),
    ("POST", "/api/grants"),
    ("POST", "/api/grants/{grant_id:int}/revoke"),
    ("POST", "/api/moderation/appeals/{appeal_id:int}/decision"),
    ("POST", "/api/moderation/cases/{case_id:int}/appeal"),
    ("POST", "/api/moderation/cases/{case_id:int}/decision"),
    ("POST", "/api/moderation/decisions"),
    ("POST", "/api/moderation/items"),
    ("POST", "/api/notifications/read"),
    ("POST", "/api/proposals/{proposal_id:int}/answers"),
    ("POST", "/api/reports"),
    ("POST", "/appeal/{kind:str}/{item_id:int}"),
    ("POST", "/console/consultations/new"),
    ("POST", "/console/consultations/{consultation_id:int}/close"),
    ("POST", "/console/consultations/{consultation_id:int}/edit"),
    ("POST", "/console/consultations/{consultation_id:int}/phase"),
    ("POST", "/console/consultations/{consultation_id:int}/publish"),
    ("POST", "/console/grants"),
    ("POST", "/console/grants/{grant_id:int}/revoke"),
    ("POST", "/me/profile/preferences"),
    ("POST", "/moderation/accounts/{account_id:int}/block"),
    ("POST", "/moderation/accounts/{account_id:int}/unblock"),
    ("POST", "/moderation/appeals/{appeal_id:int}"),
    ("POST", "/moderation/bulk"),
    ("POST", "/moderation/cases/{case_id:int}"),
    ("POST", "/moderation/items/{kind:str}/{item_id:int}"),
    ("POST", "/notifications/read"),
    ("POST", "/notifications/preferences"),
    ("POST", "/proposals/{proposal_id:int}/answer"),
    ("POST", "/report/{kind:str}/{item_id:int}"),
    ("PUT", "/api/me/vault"),
    ("POST", "/api/me/consents"),
    ("POST", "/api/me/requests/{request_id:int}/consent"),
    ("POST", "/api/me/requests/{request_id:int}/refusal"),
    ("POST", "/api/me/consents/{consent_id:int}/withdrawal"),
    ("POST", "/api/data-requests"),
    ("POST", "/api/data/reads"),
    ("POST", "/api/data/consultations/{consultation_id:int}/profile"),
    ("POST", "/me/data"),
    ("POST", "/me/consents/new"),
    ("POST", "/me/consents/requests/{request_id:int}"),
    ("POST", "/me/consents/{consent_id:int}/withdraw"),
    ("POST", "/data/requests"),
    ("POST", "/data/read"),
    ("POST", "/data/consultations/{consultation_id:int}/profile"),
}


def unsafe_routes(app) -> list[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if isinstance(route, Route):
            for method in (route.methods or set()) & UNSAFE:
                found.add((method, route.path))
    return sorted(found)


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)(?::(\w+))?}", lambda m: "1" if m.group(2) == "int" else "x", path)


def send(client: TestClient, method: str, path: str, token: str | None, *, via: str = "header"):
    """A request as a browser form (field) or an API client (header) would send it."""
    url = concrete(path)
    headers = {"X-CSRF-Token": token} if token is not None and via == "header" else {}
    if path.startswith("/api/"):
        return client.request(method, url, json={}, headers=headers, follow_redirects=False)
    data = {"csrf_token": token} if token is not None and via == "field" else {}
    return client.request(method, url, data=data, headers=headers, follow_redirects=False)


def refused_for_csrf(response) -> bool:
    if response.status_code != 403:
        return False
    if response.headers["content-type"].startswith("application/json"):
        return response.json()["error"]["code"] == "csrf_failed"
    return "security token is missing or out of date" in response.text


@pytest.fixture(params=sorted(KNOWN), ids=lambda r: f"{r[0]} {r[1]}")
def route(request, app):
    # Parametrized from KNOWN for readable ids; test_every_unsafe_route_is_enumerated_by_this_suite
    # fails as soon as app.routes holds an unsafe route that KNOWN lacks, so none goes unchecked.
    assert request.param in unsafe_routes(app)
    return request.param


def test_every_unsafe_route_is_enumerated_by_this_suite(app):
    assert set(unsafe_routes(app)) == KNOWN, "a new state-changing route: add it to KNOWN"


def test_a_missing_wrong_or_foreign_token_is_refused(client, app, route):
    with TestClient(app) as attacker:
        their_token = csrf_token(attacker)  # valid, but for the attacker's own cookie
    client.get("/")  # the victim's browser has its CSRF cookie

    attempts = {
        "no token": send(client, *route, None),
        "wrong token in header": send(client, *route, "0" * 64),
        "wrong token in field": send(client, *route, "0" * 64, via="field"),
        "empty token": send(client, *route, ""),
        "another browser's token": send(client, *route, their_token),
    }

    assert [name for name, response in attempts.items() if not refused_for_csrf(response)] == []


def test_a_token_without_its_cookie_is_refused(client, route):
    token = csrf_token(client)
    client.cookies.clear()

    assert refused_for_csrf(send(client, *route, token))


def test_the_right_token_passes_the_guard(client, route):
    response = send(client, *route, csrf_token(client))

    assert not refused_for_csrf(response)
    assert response.status_code < 500


@pytest.mark.parametrize("route", sorted(r for r in KNOWN if not r[1].startswith("/api/")), ids=str)
def test_the_right_token_in_a_form_field_passes_the_guard(client, route):
    response = send(client, *route, csrf_token(client), via="field")

    assert not refused_for_csrf(response)
    assert response.status_code < 500


def test_urlencoded_form_field_is_accepted_for_a_real_login(client):
    token = csrf_token(client)

    response = client.post(
        "/login", data={"csrf_token": token, "email": "a@b.az", "password": "x"}, follow_redirects=False
    )

    assert response.status_code == 401  # reached the log-in logic: the guard let it through


def test_multipart_form_field_is_accepted(client):
    token = csrf_token(client)

    response = client.post(
        "/login",
        data={"csrf_token": token, "email": "a@b.az", "password": "x"},
        files={"unused": ("a.txt", b"hello", "text/plain")},
        follow_redirects=False,
    )

    assert response.status_code == 401


def test_header_token_works_on_a_form_post(client):
    token = csrf_token(client)

    response = client.post(
        "/login", data={"email": "a@b.az", "password": "x"}, headers={"X-CSRF-Token": token}
    )

    assert response.status_code == 401


def test_json_with_the_header_is_accepted_but_a_token_inside_the_json_is_not(client):
    token = csrf_token(client)
    body = {"email": "a@b.az", "password": "x"}

    with_header = client.post("/api/session", json=body, headers={"X-CSRF-Token": token})
    in_body = client.post("/api/session", json={**body, "csrf_token": token})

    assert with_header.status_code == 401
    assert refused_for_csrf(in_body)


def test_the_token_on_the_page_matches_the_cookie_it_is_bound_to(client, runtime):
    page = client.get("/login")
    cookie = client.cookies.get("civic_csrf")

    assert f'name="csrf_token" value="{csrf_token_for(runtime.secret_key, cookie)}"' in page.text
    assert f'<meta name="csrf-token" content="{csrf_token_for(runtime.secret_key, cookie)}">' in page.text


def test_the_csrf_cookie_is_httponly_samesite_lax_and_set_once(client):
    first = client.get("/")
    header = cookie_header_for(first, "civic_csrf").lower()

    assert "httponly" in header and "samesite=lax" in header and "path=/" in header
    assert "civic_csrf" not in (client.get("/").headers.get("set-cookie") or "")


def test_a_token_stays_valid_across_requests_of_one_browser(client):
    token = csrf_token(client)
    client.get("/login")

    assert csrf_token(client) == token


def test_a_different_secret_key_makes_old_tokens_invalid(client, make_client):
    """A rotated secret key (or another deployment) must not accept our tokens."""
    token = csrf_token(client)
    cookie = client.cookies.get("civic_csrf")
    other, _ = make_client(secret_key="another-secret-key-for-this-test")
    other.cookies.set("civic_csrf", cookie)

    response = other.post(
        "/api/session", json={"email": "a@b.az", "password": "x"}, headers={"X-CSRF-Token": token}
    )

    assert refused_for_csrf(response)


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_safe_methods_need_no_token(client, method):
    assert client.request(method, "/login").status_code in (200, 405)


def test_csrf_refusal_is_html_for_pages_and_json_for_the_api(client):
    client.get("/")

    page = client.post("/login", data={"email": "a"})
    api = client.post("/api/session", json={})

    assert page.headers["content-type"].startswith("text/html")
    assert "Go back, reload the page and try again." in page.text
    assert api.json()["error"] == {
        "code": "csrf_failed",
        "message": "The form's security token is missing or out of date. Go back, reload the page and try again.",
        "fields": {},
    }


def test_create_app_builds_a_fresh_guard_per_app(runtime):
    """Two apps from one runtime share the secret key, so their tokens agree (two web processes)."""
    with TestClient(create_app(runtime=runtime)) as a, TestClient(create_app(runtime=runtime)) as b:
        token = csrf_token(a)
        b.cookies.set("civic_csrf", a.cookies.get("civic_csrf"))
        response = b.post(
            "/api/session", json={"email": "a@b.az", "password": "x"}, headers={"X-CSRF-Token": token}
        )
    assert response.status_code == 401


def test_head_with_a_form_body_neither_registers_nor_logs_in(client, runtime):
    """HEAD is 'safe', so the guard lets it pass without a token: the routes must not act on it."""
    with runtime.db.transaction() as session:
        make_account(runtime, session, email="leyla@example.az")
    form = {"email": "new@example.az", "display_name": "New", "password": "a long enough password"}

    registered = client.request("HEAD", "/register", data=form, follow_redirects=False)
    logged_in = client.request(
        "HEAD",
        "/login",
        data={"email": "leyla@example.az", "password": "correct horse battery staple"},
        follow_redirects=False,
    )

    assert registered.status_code == logged_in.status_code == 200
    assert count(runtime, Account) == 1
    assert "civic_session" not in (logged_in.headers.get("set-cookie") or "")
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize("neighbour", ['analytics={"a": 1}', "consent=yes please", 'broken="quote'])
def test_another_sites_odd_cookie_does_not_hide_the_csrf_cookie(client, neighbour):
    """Cookies set by other software on the domain are often not RFC 6265-clean."""
    token = csrf_token(client)
    cookie = client.cookies.get("civic_csrf")
    browser = TestClient(client.app, base_url=str(client.base_url))

    response = browser.post(
        "/api/session",
        json={"email": "a@b.az", "password": "x"},
        headers={"X-CSRF-Token": token, "Cookie": f"{neighbour}; civic_csrf={cookie}"},
    )

    assert response.status_code == 401
    assert "civic_csrf" not in (response.headers.get("set-cookie") or "")  # no new cookie either


def test_a_non_ascii_token_is_refused_like_any_wrong_token(client):
    csrf_token(client)

    as_field = client.post("/login", data={"csrf_token": "é" * 64, "email": "a"})
    as_header = client.post("/api/session", json={}, headers={"X-CSRF-Token": "é".encode("latin-1")})

    assert refused_for_csrf(as_field)
    assert refused_for_csrf(as_header)
