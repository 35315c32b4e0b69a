"""Trust's pages and JSON API through the real HTTP stack: the whole consent flow, CSRF, and who
may see or do what (a citizen never sees another's consents; an official of another agency cannot
read; a refused read answers 403 with its reason and stays on record)."""

from __future__ import annotations

from typing import Any

from civic.identity.models import Role
from civic.runtime import Runtime
from civic.trust.receipts_verify import check_receipt
from tests.conftest import form_token
from tests.participation.conftest import World, error
from tests.trust._consent_support import ask, give, make_consultation, make_proposal, official, set_vault

EMAIL = "leyla.pages@example.az"


def _request_body(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "citizen_id": world.leyla.id,
        "purpose": "contact_about_proposal",
        "attributes": ["contact_email", "contact_phone"],
        "retention_days": 30,
        "message": "About your proposal on night buses.",
        **extra,
    }


def _read_body(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "citizen_id": world.leyla.id,
        "attribute": "contact_email",
        "purpose": "contact_about_proposal",
        "served": "Calling back about the night buses proposal",
        **extra,
    }


def test_api_consent_flow(runtime: Runtime, world: World, browser, keys) -> None:  # type: ignore[no-untyped-def]
    official_b, leyla, kamal = browser(world.convener), browser(world.leyla), browser(world.kamal)
    assert leyla.put("/api/me/vault", {"contact_email": EMAIL}).json() == {"values": {"contact_email": EMAIL}}
    created = official_b.post("/api/data-requests", _request_body(world))
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    centre = leyla.get("/api/me/consents").json()
    assert [r["id"] for r in centre["requests"]] == [request_id]
    assert kamal.get("/api/me/consents").json() == {"requests": [], "consents": []}

    granted = leyla.post(f"/api/me/requests/{request_id}/consent", {"attributes": ["contact_email"]})
    assert granted.status_code == 201 and granted.json()["state"] == "given"
    consent_id = granted.json()["id"]
    error(leyla.post(f"/api/me/requests/{request_id}/refusal"), 409)

    receipt = leyla.get(f"/api/me/consents/{consent_id}/receipt")
    assert receipt.status_code == 200 and "attachment" in receipt.headers["content-disposition"]
    assert check_receipt(receipt.json(), keys.public_key) == []
    error(kamal.get(f"/api/me/consents/{consent_id}/receipt"), 404)
    error(kamal.post(f"/api/me/consents/{consent_id}/withdrawal"), 404)

    read = official_b.post("/api/data/reads", _read_body(world))
    assert read.status_code == 200 and read.json()["value"] == EMAIL
    tracker = leyla.get("/api/me/data-access").json()["items"]
    assert [(a["agency_id"], a["role"], a["outcome"]) for a in tracker] == [
        (world.agency.id, "convener", "accessed")
    ]
    assert tracker[0]["served"] == "Calling back about the night buses proposal"
    assert leyla.get("/api/me/data-access", since="2000-01-01", until="2000-12-31").json()["items"] == []

    assert leyla.post(f"/api/me/consents/{consent_id}/withdrawal").json()["state"] == "withdrawn"
    refused = error(official_b.post("/api/data/reads", _read_body(world)), 403)
    assert refused["code"] == "access_refused" and refused["reason"] == "revoked"
    tracker = leyla.get("/api/me/data-access").json()["items"]
    assert [(a["outcome"], a["reason"]) for a in tracker] == [("refused", "revoked"), ("accessed", None)]
    assert EMAIL not in str(official_b.get("/api/data-requests").json())


def test_api_refusals(runtime: Runtime, world: World, browser, keys) -> None:  # type: ignore[no-untyped-def]
    official_b = browser(world.convener)
    body = error(official_b.post("/api/data-requests", _request_body(world, attributes=["blood_type"])), 422)
    assert "attributes" in body["fields"]
    error(official_b.post("/api/data-requests", _request_body(world, purpose="marketing")), 422)
    error(browser(world.moderator).post("/api/data-requests", _request_body(world)), 403)
    error(browser(world.leyla).post("/api/data-requests", _request_body(world)), 403)
    error(browser().post("/api/data-requests", _request_body(world)), 401)
    set_vault(runtime, keys, world.leyla, contact_email=EMAIL)
    give(runtime, world.leyla, world.agency.id, "contact_about_proposal", ["contact_email"])
    other = browser(world.other_convener)
    forbidden = error(other.post("/api/data/reads", _read_body(world, agency_id=world.agency.id)), 403)
    assert forbidden["code"] == "forbidden" and "convener" in forbidden["message"]
    assert error(other.post("/api/data/reads", _read_body(world)), 403)["reason"] == "none"
    error(official_b.post("/api/data/reads", _read_body(world, attribute="shoe_size")), 422)
    error(browser(world.convener).get("/api/me/consents"), 404)  # officials have no consent centre


def test_pages_consent_journey(runtime: Runtime, world: World, browser, keys) -> None:  # type: ignore[no-untyped-def]
    leyla = browser(world.leyla).client
    page = leyla.get("/me/data")
    assert page.status_code == 200
    saved = leyla.post(
        "/me/data",
        data={"csrf_token": form_token(page.text), "contact_email": EMAIL, "age_band": "25_34"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/me/data?done=saved"
    bad = leyla.post("/me/data", data={"csrf_token": form_token(page.text), "age_band": "ancient"})
    assert bad.status_code == 422 and "Choose one of" in bad.text
    assert EMAIL in leyla.get("/me/data").text

    request = ask(
        runtime, world.convener, citizen_id=world.leyla.id, attributes=["contact_email", "age_band"]
    )
    centre = leyla.get("/me/consents")
    assert f'id="request-{request.id}"' in centre.text and "Contacting you about your proposal" in centre.text
    assert (
        leyla.post(f"/me/consents/requests/{request.id}", data={"attributes": ["contact_email"]}).status_code
        == 403
    )
    answered = leyla.post(
        f"/me/consents/requests/{request.id}",
        data={"csrf_token": form_token(centre.text), "attributes": ["contact_email"], "decision": "grant"},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    centre = leyla.get("/me/consents")
    consent_id = int(centre.text.split('id="consent-')[1].split('"')[0])
    assert "Withdraw consent" in centre.text
    receipt = leyla.get(f"/me/consents/{consent_id}/receipt")
    assert (
        receipt.headers["content-type"].startswith("application/json") and check_receipt(receipt.json()) == []
    )

    convener = browser(world.convener).client
    form = convener.get("/data/read")
    shown = convener.post(
        "/data/read",
        data={
            "csrf_token": form_token(form.text), "citizen_id": str(world.leyla.id), "attribute": "contact_email",
            "purpose": "contact_about_proposal", "served": "Calling back",
        },
    )  # fmt: skip
    assert shown.status_code == 200 and EMAIL in shown.text
    tracker = leyla.get("/me/data-access")
    assert "Calling back" in tracker.text and "convener" in tracker.text
    withdrawn = leyla.post(
        f"/me/consents/{consent_id}/withdraw",
        data={"csrf_token": form_token(centre.text)},
        follow_redirects=False,
    )
    assert withdrawn.status_code == 303
    again = convener.post(
        "/data/read",
        data={
            "csrf_token": form_token(form.text), "citizen_id": str(world.leyla.id), "attribute": "contact_email",
            "purpose": "contact_about_proposal", "served": "Calling back",
        },
    )  # fmt: skip
    assert again.status_code == 403 and 'data-reason="revoked"' in again.text and EMAIL not in again.text
    assert "consent withdrawn" in leyla.get("/me/data-access").text
    # Another citizen sees none of it.
    kamal = browser(world.kamal).client
    assert f"consent-{consent_id}" not in kamal.get("/me/consents").text
    assert kamal.get(f"/me/consents/{consent_id}/receipt").status_code == 404
    assert "Calling back" not in kamal.get("/me/data-access").text


def test_officials_pages(runtime: Runtime, world: World, browser, keys) -> None:  # type: ignore[no-untyped-def]
    convener = browser(world.convener).client
    page = convener.get("/data/requests")
    assert page.status_code == 200
    sent = convener.post(
        "/data/requests",
        data={
            "csrf_token": form_token(page.text), "citizen_id": str(world.leyla.id), "purpose": "research",
            "attributes": ["gender", "education"], "retention_days": "60",
        },
        follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303, sent.text
    assert "Public research" in convener.get("/data/requests").text
    missing = convener.post(
        "/data/requests", data={"csrf_token": form_token(page.text), "purpose": "research"}
    )
    assert missing.status_code == 422
    assert browser(world.moderator).client.get("/data/requests").status_code == 403

    with runtime.db.transaction() as s:
        from civic.identity.models import Account

        c = make_consultation(s, s.get(Account, world.convener.id))
        make_proposal(s, s.get(Account, world.leyla.id), c)
    analyst = browser(official(runtime, "Analyst", world.agency.id, Role.ANALYST)).client
    profile = analyst.get(f"/data/consultations/{c.id}/profile")
    assert profile.status_code == 200
    computed = analyst.post(
        f"/data/consultations/{c.id}/profile", data={"csrf_token": form_token(profile.text)}
    )
    assert computed.status_code == 200 and "1 participants" in computed.text
    refused = convener.post(f"/data/consultations/{c.id}/profile", data={"csrf_token": form_token(page.text)})
    assert refused.status_code == 403
