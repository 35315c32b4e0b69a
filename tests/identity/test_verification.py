"""A registrar confirms an e-citizen's identity; everyone else is refused, and history is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from civic.clock import as_utc, utcnow
from civic.events.models import OutboxEvent
from civic.identity.models import Account, Grant, Role, VerificationRecord
from tests.conftest import csrf_token, form_token
from tests.factories import grant, make_account, make_agency, make_official
from tests.http.support import Page, api_login, count
from tests.identity.conftest import outbox


@pytest.fixture
def people(runtime):
    """A service centre with a registrar and a moderator, and an unverified citizen."""
    with runtime.db.transaction() as session:
        centre = make_agency(session, "Service centre")
        registrar = make_official(runtime, session, centre, Role.REGISTRAR, email="reg@gov.az")
        moderator = make_official(runtime, session, centre, Role.MODERATOR, email="mod@gov.az")
        citizen = make_account(runtime, session, email="leyla@example.az", name="Leyla")
        other = make_account(runtime, session, email="kamal@example.az", name="Kamal")
    return {
        "centre": centre,
        "registrar": registrar,
        "moderator": moderator,
        "citizen": citizen,
        "other": other,
    }


def verify_api(client, account_id, level="verified", method="in_person", note="ID card checked"):
    return client.post(
        f"/api/accounts/{account_id}/verification",
        json={"level": level, "method": method, "note": note},
        headers={"X-CSRF-Token": csrf_token(client)},
    )


def level_of(runtime, account_id):
    with runtime.db.transaction() as session:
        return session.get(Account, account_id).verification_level


def records(runtime, account_id=None):
    with runtime.db.transaction() as session:
        query = select(VerificationRecord)
        if account_id is not None:
            query = query.where(VerificationRecord.account_id == account_id)
        return list(session.exec(query).all())


def set_grants(runtime, account_id, **fields):
    with runtime.db.transaction() as session:
        for row in session.exec(select(Grant).where(Grant.account_id == account_id)).all():
            for name, value in fields.items():
                setattr(row, name, value)
            session.add(row)


def test_registrar_verifies_over_api_and_the_record_says_who_when_how(client, runtime, people):
    api_login(client, "reg@gov.az")
    before = utcnow()

    response = verify_api(client, people["citizen"].id, note="Passport AZE123")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["account_id"] == people["citizen"].id
    assert (body["level"], body["method"]) == ("verified", "in_person")
    assert body["verified_by_id"] == people["registrar"].id
    assert level_of(runtime, people["citizen"].id) == "verified"
    (record,) = records(runtime)
    assert record.verified_by_id == people["registrar"].id
    assert record.method == "in_person"
    assert record.note == "Passport AZE123"
    assert before - timedelta(seconds=1) <= as_utc(record.created_at) <= utcnow()


def test_verification_emits_account_verified_to_the_citizen_only(client, runtime, people):
    api_login(client, "reg@gov.az")
    verify_api(client, people["citizen"].id)

    (event,) = outbox(runtime, "account.verified")

    assert event["data"] == {
        "account_id": people["citizen"].id,
        "level": "verified",
        "verified_by_id": people["registrar"].id,
    }
    assert event["topics"] == [f"user:{people['citizen'].id}"]
    assert event["actor"] == people["registrar"].id
    assert "@" not in str(event)


def test_verifying_up_a_level_keeps_the_whole_history(client, runtime, people):
    api_login(client, "reg@gov.az")
    assert verify_api(client, people["citizen"].id, "verified").status_code == 201

    assert verify_api(client, people["citizen"].id, "esignature", "esignature").status_code == 201

    assert [(r.level, r.method) for r in records(runtime, people["citizen"].id)] == [
        ("verified", "in_person"),
        ("esignature", "esignature"),
    ]
    citizen = client.__class__(client.app, base_url=str(client.base_url))
    api_login(citizen, "leyla@example.az")
    page = citizen.get("/account").text
    assert "Verification history" in page and "Verified with an e-signature" in page


@pytest.mark.parametrize(("first", "again"), [("verified", "verified"), ("esignature", "verified")])
def test_verifying_to_the_same_or_a_lower_level_is_409(client, runtime, people, first, again):
    api_login(client, "reg@gov.az")
    verify_api(client, people["citizen"].id, first)
    written = count(runtime, VerificationRecord), count(runtime, OutboxEvent)

    response = verify_api(client, people["citizen"].id, again)

    assert response.status_code == 409
    assert f"already at verification level {first}" in response.json()["error"]["message"]
    assert (count(runtime, VerificationRecord), count(runtime, OutboxEvent)) == written
    assert level_of(runtime, people["citizen"].id) == first


def test_unknown_account_is_404(client, people):
    api_login(client, "reg@gov.az")

    response = verify_api(client, 999_999)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_officials_are_not_verified_as_e_citizens(client, runtime, people):
    api_login(client, "reg@gov.az")

    response = verify_api(client, people["moderator"].id)

    assert response.status_code == 422
    assert records(runtime) == []


def test_invalid_level_or_method_is_422(client, people):
    api_login(client, "reg@gov.az")

    response = verify_api(client, people["citizen"].id, level="superuser", method="telepathy")

    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"level", "method"}


@pytest.mark.parametrize("who", ["leyla@example.az", "mod@gov.az"])
def test_citizens_and_officials_without_the_grant_get_403_naming_the_role(client, runtime, people, who):
    api_login(client, who)

    response = verify_api(client, people["other"].id)

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert "registrar" in error["message"]
    assert records(runtime) == []
    assert level_of(runtime, people["other"].id) == "unverified"


def test_nobody_logged_in_gets_401(client, people):
    response = verify_api(client, people["citizen"].id)

    assert response.status_code == 401


def test_nobody_verifies_themselves(client, runtime, people):
    api_login(client, "leyla@example.az")

    assert verify_api(client, people["citizen"].id).status_code == 403
    assert level_of(runtime, people["citizen"].id) == "unverified"


@pytest.mark.parametrize(
    "change",
    [
        {"ends_at": "past"},
        {"revoked_at": "past"},
    ],
)
def test_an_expired_or_revoked_grant_no_longer_works(client, runtime, people, change):
    set_grants(runtime, people["registrar"].id, **{k: utcnow() - timedelta(minutes=1) for k in change})
    api_login(client, "reg@gov.az")

    response = verify_api(client, people["citizen"].id)

    assert response.status_code == 403
    assert "registrar" in response.json()["error"]["message"]
    assert records(runtime) == []


def test_a_grant_that_ends_later_still_works(client, runtime, people):
    set_grants(runtime, people["registrar"].id, ends_at=utcnow() + timedelta(hours=1))
    api_login(client, "reg@gov.az")

    assert verify_api(client, people["citizen"].id).status_code == 201


def test_a_registrar_grant_on_any_agency_or_consultation_can_verify(client, runtime, people):
    """Verification has no target agency: e-citizens belong to no agency."""
    with runtime.db.transaction() as session:
        official = make_official(runtime, session, people["centre"], email="cons@gov.az")
        grant(session, official, Role.REGISTRAR, consultation_id=42)
    api_login(client, "cons@gov.az")

    assert verify_api(client, people["citizen"].id).status_code == 201


# ---- the registrar's desk (HTML) ------------------------------------------------------------


def desk_post(client, email, **fields):
    page = client.get("/registrar", params={"email": email})
    token = form_token(page.text)
    return client.post("/registrar", data={"csrf_token": token, "email": email, **fields})


def test_registrar_finds_and_verifies_on_the_desk(client, runtime, people):
    api_login(client, "reg@gov.az")
    found = client.get("/registrar", params={"email": "LEYLA@example.az"})
    assert found.status_code == 200
    assert "<h2>Leyla</h2>" in found.text

    response = desk_post(client, "leyla@example.az", level="esignature", note="Qualified certificate")

    assert response.status_code == 200
    assert "Recorded: the account is now at level esignature." in response.text
    (record,) = records(runtime)
    assert (record.level, record.method, record.note) == ("esignature", "esignature", "Qualified certificate")
    assert record.verified_by_id == people["registrar"].id
    assert len(outbox(runtime, "account.verified")) == 1


def test_desk_reshows_the_form_when_the_level_is_already_reached(client, runtime, people):
    api_login(client, "reg@gov.az")
    desk_post(client, "leyla@example.az", level="verified")

    response = desk_post(client, "leyla@example.az", level="verified")

    assert response.status_code == 409
    assert "already at verification level verified" in response.text
    assert "<h2>Leyla</h2>" in response.text  # still on the desk, with the e-citizen shown
    assert len(records(runtime)) == 1


def test_desk_says_when_nobody_has_the_address(client, people):
    api_login(client, "reg@gov.az")

    response = client.get("/registrar", params={"email": "ghost@example.az"})

    assert response.status_code == 422
    assert "No e-citizen has this e-mail address." in response.text
    assert Page(response.text).first("input", id="field-email")["value"] == "ghost@example.az"


def test_desk_does_not_offer_to_verify_an_official(client, people):
    api_login(client, "reg@gov.az")

    response = client.get("/registrar", params={"email": "mod@gov.az"})

    assert response.status_code == 422
    assert "Record verification" not in response.text


@pytest.mark.parametrize("who", ["leyla@example.az", "mod@gov.az"])
def test_desk_refuses_anyone_without_the_grant_with_a_403_page(client, runtime, people, who):
    api_login(client, who)

    shown = client.get("/registrar")
    posted = client.post(
        "/registrar",
        data={
            "csrf_token": form_token(client.get("/login").text),
            "email": "kamal@example.az",
            "level": "verified",
        },
    )

    for response in (shown, posted):
        assert response.status_code == 403
        assert "registrar" in response.text
        assert "Not allowed" in response.text
    assert records(runtime) == []


def test_desk_asks_visitors_to_log_in(client, people):
    response = client.get("/registrar")

    assert response.status_code == 401
    assert 'href="/login"' in response.text


def test_account_page_links_registrars_to_the_desk(client, people):
    api_login(client, "reg@gov.az")

    assert 'href="/registrar"' in client.get("/account").text
