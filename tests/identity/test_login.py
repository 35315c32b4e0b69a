"""Logging in: one answer for every wrong credential, and a brake on guessing."""

from __future__ import annotations

import pytest
import redis
from sqlmodel import select

from civic.identity.actions import BAD_CREDENTIALS
from civic.identity.models import Account
from tests.conftest import REDIS_URL, csrf_token
from tests.factories import PASSWORD, make_account
from tests.http.support import api_login, form_login


@pytest.fixture
def leyla(runtime):
    with runtime.db.transaction() as session:
        return make_account(runtime, session, email="leyla@example.az", name="Leyla")


def test_api_login_returns_the_account_and_a_csrf_token_and_logs_in(client, leyla):
    response = api_login(client, "leyla@example.az")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["account"]["id"] == leyla.id
    assert body["csrf_token"] == csrf_token(client)
    assert client.get("/api/me").json()["display_name"] == "Leyla"


def test_form_login_redirects_to_the_account_page(client, leyla):
    response = form_login(client, "leyla@example.az")

    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    assert "Leyla" in client.get("/account").text


def test_email_is_matched_without_case_or_surrounding_spaces(client, leyla):
    assert api_login(client, "  LEYLA@Example.AZ ").status_code == 200


def test_wrong_password_and_unknown_account_look_the_same_over_api(client, leyla):
    wrong = api_login(client, "leyla@example.az", "not the password")
    unknown = api_login(client, "nobody@example.az", "not the password")

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == {"code": "bad_credentials", "message": BAD_CREDENTIALS, "fields": {}}
    assert client.get("/api/me").status_code == 401


def test_wrong_password_and_unknown_account_look_the_same_in_the_form(client, leyla):
    wrong = form_login(client, "leyla@example.az", "not the password")
    unknown = form_login(client, "nobody@example.az", "not the password")

    assert wrong.status_code == unknown.status_code == 401
    assert BAD_CREDENTIALS in wrong.text
    assert BAD_CREDENTIALS in unknown.text
    assert 'value="leyla@example.az"' in wrong.text  # the address is kept, the password is not
    assert "not the password" not in wrong.text


def test_deactivated_account_cannot_log_in_and_says_no_more_than_a_wrong_password(client, runtime, leyla):
    with runtime.db.transaction() as session:
        account = session.get(Account, leyla.id)
        account.is_active = False
        session.add(account)

    response = api_login(client, "leyla@example.az")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == BAD_CREDENTIALS


def test_empty_credentials_are_422_naming_the_fields(client):
    response = client.post(
        "/api/session", json={"email": "", "password": ""}, headers={"X-CSRF-Token": csrf_token(client)}
    )

    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"email", "password"}


def test_repeated_failures_for_an_address_are_refused_with_retry_after(make_client):
    client, runtime = make_client(login_failure_limit="3/minute")
    with runtime.db.transaction() as session:
        make_account(runtime, session, email="leyla@example.az")
    for _ in range(3):
        assert api_login(client, "leyla@example.az", "guess").status_code == 401

    refused = api_login(client, "leyla@example.az")  # even the right password: no oracle for guessers

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert client.get("/api/me").status_code == 401
    # Another address from the same client is not locked out by Leyla's attacker.
    assert api_login(client, "other@example.az", "guess").status_code == 401


def test_unknown_addresses_are_limited_exactly_like_known_ones(make_client):
    client, _runtime = make_client(login_failure_limit="3/minute")
    for _ in range(3):
        assert api_login(client, "nobody@example.az", "guess").status_code == 401

    assert api_login(client, "nobody@example.az", "guess").status_code == 429


def test_the_form_refuses_repeated_failures_with_429_and_retry_after(make_client):
    client, runtime = make_client(login_failure_limit="3/minute")
    with runtime.db.transaction() as session:
        make_account(runtime, session, email="leyla@example.az")
    for _ in range(3):
        assert form_login(client, "leyla@example.az", "guess").status_code == 401

    refused = form_login(client, "leyla@example.az")

    assert refused.status_code == 429
    assert "Too many failed log-in attempts" in refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_many_addresses_from_one_client_hit_the_per_client_limit(make_client):
    client, _runtime = make_client(login_failure_ip_limit="3/minute")
    for n in range(3):
        assert api_login(client, f"guess{n}@example.az", "guess").status_code == 401

    assert api_login(client, "fresh@example.az", "guess").status_code == 429


def test_a_successful_login_clears_the_addresss_failure_count(make_client):
    client, runtime = make_client(login_failure_limit="3/minute")
    with runtime.db.transaction() as session:
        make_account(runtime, session, email="leyla@example.az")
    for _ in range(2):
        api_login(client, "leyla@example.az", "typo")
    assert api_login(client, "leyla@example.az").status_code == 200

    for _ in range(2):
        assert api_login(client, "leyla@example.az", "typo").status_code == 401
    assert api_login(client, "leyla@example.az").status_code == 200


@pytest.mark.services
def test_failure_counts_live_in_redis_and_are_shared_by_every_web_process(make_client, redis_prefix):
    first, runtime = make_client(login_failure_limit="3/minute")
    second, _ = make_client(login_failure_limit="3/minute")  # another process, same Redis
    with runtime.db.transaction() as session:
        make_account(runtime, session, email="leyla@example.az")
    for client in (first, second, first):
        assert api_login(client, "leyla@example.az", "guess").status_code == 401

    assert api_login(second, "leyla@example.az").status_code == 429
    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{redis_prefix}:rl*"))
    assert keys, "the rate-limit counters should be in Redis under the run's prefix"


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/registrar?email=a%40b.az", "/registrar?email=a%40b.az"),
        ("https://evil.example/", "/account"),
        ("//evil.example/", "/account"),
        ("/\\evil.example/", "/account"),
        ("javascript:alert(1)", "/account"),
        ("", "/account"),
    ],
)
def test_login_returns_only_to_pages_of_this_site(client, leyla, next_url, lands_on):
    response = form_login(client, "leyla@example.az", next=next_url)

    assert response.status_code == 303
    assert response.headers["location"] == lands_on


def test_login_page_carries_next_into_the_form(client):
    page = client.get("/login?next=/registrar")

    assert 'name="next" value="/registrar"' in page.text


def test_password_is_never_stored_or_echoed(client, runtime, leyla):
    api_login(client, "leyla@example.az")

    with runtime.db.transaction() as session:
        stored = session.exec(select(Account.password_hash)).all()
    assert all(PASSWORD not in h for h in stored)
