"""Registering an e-citizen account, through the HTML form and the JSON API."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from civic.errors import Conflict
from civic.events.models import OutboxEvent
from civic.identity import actions
from civic.identity.models import Account, AccountKind
from civic.identity.schemas import Registration
from tests.conftest import csrf_token, form_token
from tests.factories import make_account
from tests.http.support import Page, count
from tests.identity.conftest import outbox

GOOD = {"email": "Leyla@Example.az", "display_name": "Leyla", "password": "a long enough password"}


def register_api(client, **fields):
    body = {**GOOD, **fields}
    return client.post("/api/accounts", json=body, headers={"X-CSRF-Token": csrf_token(client)})


def register_form(client, **fields):
    page = client.get("/register")
    assert page.status_code == 200
    data = {"csrf_token": form_token(page.text), "kind": "citizen", **GOOD, **fields}
    return client.post("/register", data=data, follow_redirects=False)


def test_form_registration_creates_account_logs_in_and_welcomes(client, runtime):
    response = register_form(client, kind="ngo")

    assert response.status_code == 303
    assert response.headers["location"] == "/account?welcome=1"
    account_page = client.get("/account?welcome=1")
    assert account_page.status_code == 200
    assert "Welcome, Leyla." in account_page.text
    assert "Non-governmental organisation" in account_page.text
    with runtime.db.transaction() as session:
        account = session.exec(select(Account)).one()
    assert account.email == "leyla@example.az"
    assert account.kind == "ngo"
    assert account.verification_level == "unverified"
    assert account.password_hash.startswith("$argon2id$")
    assert GOOD["password"] not in account.password_hash


def test_api_registration_returns_the_account_without_secrets(client, runtime):
    response = register_api(client, kind="foreign_resident")

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {
        "id",
        "email",
        "display_name",
        "kind",
        "verification_level",
        "agency_id",
        "created_at",
    }
    assert body["email"] == "leyla@example.az"
    assert body["kind"] == "foreign_resident"
    assert body["verification_level"] == "unverified"
    assert count(runtime, Account) == 1


def test_duplicate_email_over_api_is_409_and_writes_nothing(client, runtime):
    with runtime.db.transaction() as session:
        make_account(runtime, session, email="leyla@example.az")
    accounts, events = count(runtime, Account), count(runtime, OutboxEvent)

    response = register_api(client, email="LEYLA@example.AZ", display_name="Someone else")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate_email"
    assert error["message"] == actions.DUPLICATE_EMAIL
    assert (count(runtime, Account), count(runtime, OutboxEvent)) == (accounts, events)


def test_duplicate_email_in_the_form_is_409_and_reshows_it(client, runtime):
    with runtime.db.transaction() as session:
        make_account(runtime, session, email="leyla@example.az")
    accounts, events = count(runtime, Account), count(runtime, OutboxEvent)

    response = register_form(client)

    assert response.status_code == 409
    assert "already exists" in response.text
    assert 'value="Leyla@Example.az"' in response.text
    assert GOOD["password"] not in response.text
    assert (count(runtime, Account), count(runtime, OutboxEvent)) == (accounts, events)


def test_concurrent_duplicate_that_slips_past_the_check_is_a_conflict_not_a_crash(runtime):
    """Two requests can both pass check_register; the unique index decides, as a 409."""
    data = Registration(email="twin@example.az", display_name="Twin", password="a long enough password")
    with runtime.db.transaction() as session:
        first = actions.do_register(session, data, "hash")
        with pytest.raises(Conflict):
            actions.do_register(session, data, "hash")
        # The savepoint rolled back only the duplicate; the first account is still there to commit.
        assert session.get(Account, first.id) is not None
    assert count(runtime, Account) == 1
    assert count(runtime, OutboxEvent, OutboxEvent.type == "account.registered") == 1


REQUIRED = "This field is required."


@pytest.mark.parametrize(
    ("fields", "messages"),
    [
        (
            {"email": "", "display_name": "", "password": ""},
            {"email": REQUIRED, "display_name": REQUIRED, "password": REQUIRED},
        ),
        ({"display_name": "x" * 81}, {"display_name": "Use at most 80 characters."}),
        ({"display_name": "   a   "}, {"display_name": "Use at least 2 characters."}),  # spaces do not count
        ({"password": "x" * 129}, {"password": "Use at most 128 characters."}),
        ({"password": "short"}, {"password": "Use at least 10 characters."}),
        ({"email": "not-an-address"}, {"email": "Enter a valid e-mail address, like name@example.az."}),
        (
            {"email": "a" * 250 + "@example.az"},
            {"email": "Enter a valid e-mail address, like name@example.az."},
        ),
        ({"kind": "alien"}, {"kind": "Choose one of: citizen, foreign_resident, business or ngo."}),
    ],
)
def test_invalid_fields_over_api_are_422_per_field_and_write_nothing(client, runtime, fields, messages):
    response = register_api(client, **fields)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["message"] == "Some fields need attention."
    assert set(error["fields"]) == set(messages)
    for name, message in messages.items():
        assert error["fields"][name].startswith(message), (name, error["fields"][name])
    assert count(runtime, Account) == 0
    assert count(runtime, OutboxEvent) == 0


def test_invalid_form_is_reshown_with_the_users_text_but_not_the_password(client, runtime):
    secret = "my secret but too long " * 10
    response = register_form(client, display_name="L" * 81, password=secret, kind="business")

    assert response.status_code == 422
    page = Page(response.text)
    assert page.first("input", id="field-email")["value"] == GOOD["email"]
    assert page.first("input", id="field-display_name")["value"] == "L" * 81
    assert page.first("input", id="field-display_name").get("aria-invalid") == "true"
    assert page.first("input", id="field-password").get("value") is None
    assert "my secret" not in response.text
    assert page.first("input", id="kind-business").get("checked") is not None
    # The message sits next to each field, linked for screen readers, and in the summary.
    assert 'id="error-display_name"' in response.text
    assert "Use at most 80 characters." in response.text
    assert 'id="error-password"' in response.text
    assert "Use at most 128 characters." in response.text
    assert 'href="#field-display_name"' in response.text
    assert count(runtime, Account) == 0


def test_empty_form_names_every_missing_field(client):
    response = register_form(client, email="", display_name="", password="")

    assert response.status_code == 422
    for name in ("email", "display_name", "password"):
        assert f'id="error-{name}"' in response.text


def test_script_in_display_name_is_shown_escaped(client):
    name = '<script>alert("x")</script>'

    assert register_form(client, display_name=name).status_code == 303
    page = client.get("/account?welcome=1").text

    assert "<script>" not in page
    assert "&lt;script&gt;alert(" in page
    assert page.count("&lt;script&gt;") >= 2  # in the welcome and in the summary


def test_script_in_display_name_is_escaped_when_the_form_is_reshown(client):
    response = register_form(client, display_name='"><script>alert(1)</script>', password="short")

    assert response.status_code == 422
    assert "<script>" not in response.text
    assert "&#34;&gt;&lt;script&gt;" in response.text


def test_account_registered_event_carries_no_email(client, runtime):
    account_id = register_api(client).json()["id"]

    events = outbox(runtime, "account.registered")

    assert len(events) == 1
    assert events[0]["data"] == {"account_id": account_id, "kind": "citizen"}
    assert events[0]["actor"] == account_id
    assert "@" not in json.dumps(events[0])
    assert "leyla" not in json.dumps(events[0]).lower()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "official"}, "kind"),
        ({"verification_level": "esignature"}, "verification_level"),
        ({"agency_id": 1}, "agency_id"),
    ],
)
def test_nobody_registers_as_an_official_or_sets_their_own_level(client, runtime, fields, field):
    response = register_api(client, **fields)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert "pydantic" not in response.text and "Input should be" not in response.text
    assert count(runtime, Account) == 0


def test_registration_is_rate_limited_per_client_including_duplicates(make_client):
    client, runtime = make_client(registration_limit="2/minute")
    assert register_api(client).status_code == 201
    assert register_api(client).status_code == 409  # counts: 409s must not enumerate addresses freely

    response = register_api(client, email="other@example.az")

    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert count(runtime, Account, Account.kind == AccountKind.CITIZEN) == 1
