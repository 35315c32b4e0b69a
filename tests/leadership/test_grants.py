"""Roles as grants: administrators grant and revoke within their scope; history is kept forever.

Through the JSON API (the console's pages are in test_console_pages.py); who may do what in every
scope is the authorization matrix's job, these check the rules of granting itself.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from civic.app import create_app
from civic.clock import utcnow
from civic.errors import Conflict
from civic.identity.models import Grant, Role
from civic.leadership import grants
from civic.leadership.models import OfficialAction
from civic.leadership.schemas import ReasonInput
from civic.runtime import Runtime
from tests.events.conftest import settle
from tests.leadership._console_support import with_leadership
from tests.leadership.conftest import Browser, World, error, load, make_consultation, outbox
from tests.leadership.conftest import official as make_official
from tests.participation.conftest import OpenBrowser, _openapi_once
from tests.participation.test_concurrency import all_at_once


@pytest.fixture
def app(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The suite's app with the console and leadership's API routed (see _console_support)."""
    monkeypatch.setattr("civic.app.openapi_document", _openapi_once)
    return with_leadership(create_app(runtime=runtime))


def newcomer(runtime: Runtime, world: World, agency_id: int | None = None) -> Any:
    """An official of the transport agency holding no role yet."""
    with runtime.db.transaction() as s:
        return make_official(s, runtime, "Newcomer", agency_id or world.agency.id)


def grant_body(account_id: int, role: str = "moderator", **scope: Any) -> dict[str, Any]:
    return {"account_id": account_id, "role": role, **scope}


def test_an_administrator_grants_a_role_that_then_works(
    runtime: Runtime, world: World, browser: OpenBrowser
) -> None:
    new = newcomer(runtime, world)
    minister = browser(world.minister)
    response = minister.post(
        "/api/grants",
        grant_body(new.id, "convener", agency_id=world.agency.id, reason="Runs the bus-lane consultation."),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["state"] == "active" and body["role"] == "convener"
    assert body["granted_by_id"] == world.minister.id and body["agency_name"] == world.agency.name

    [event] = outbox(runtime, "role.granted")
    assert event["data"]["granted_by_id"] == world.minister.id
    assert event["data"]["reason"] == "Runs the bus-lane consultation."
    assert event["actor"] == world.minister.id

    created = browser(new).post(
        "/api/consultations",
        {
            "agency_id": world.unit.id,  # a unit below the agency: the grant reaches it
            "title": "Night buses",
            "summary": "Which lines should run at night?",
            "body": "Tell us.",
        },
    )
    assert created.status_code == 201, created.text


def test_grants_are_logged_once_by_the_handler_with_who_and_why(
    runtime: Runtime, world: World, browser: OpenBrowser
) -> None:
    new = newcomer(runtime, world)
    minister = browser(world.minister)
    grant_id = minister.post(
        "/api/grants", grant_body(new.id, agency_id=world.agency.id, reason="Cover for the summer.")
    ).json()["id"]
    minister.post(f"/api/grants/{grant_id}/revoke", {"reason": "Summer is over."})
    settle(runtime)
    with runtime.db.transaction() as s:
        rows = s.exec(
            select(OfficialAction)
            .where(OfficialAction.subject_id == grant_id)
            .order_by(col(OfficialAction.id))
        ).all()
        logged = [(r.action, r.actor_id, r.reason, r.public) for r in rows if r.subject_kind == "grant"]
    assert logged == [
        ("role.grant", world.minister.id, "Cover for the summer.", False),
        ("role.revoke", world.minister.id, "Summer is over.", False),
    ]


def test_a_grant_on_one_consultation(runtime: Runtime, world: World, browser: OpenBrowser) -> None:
    with runtime.db.transaction() as s:
        consultation = make_consultation(s, world.convener)
        other = make_consultation(s, world.convener)
    new = newcomer(runtime, world)
    response = browser(world.minister).post(
        "/api/grants", grant_body(new.id, "convener", consultation_id=consultation.id)
    )
    assert response.status_code == 201, response.text
    assert response.json()["consultation_id"] == consultation.id and response.json()["agency_id"] is None
    acting = browser(new)
    assert acting.put(f"/api/consultations/{consultation.id}/phase", {"phase": "support"}).status_code == 200
    refused = acting.put(f"/api/consultations/{other.id}/phase", {"phase": "support"})
    assert "convener" in error(refused, 403)["message"]


@pytest.mark.parametrize(
    ("scope", "field"),
    [({}, "agency_id"), ({"agency_id": "agency", "consultation_id": "consultation"}, "consultation_id")],
)
def test_a_grant_names_exactly_one_scope(
    runtime: Runtime, world: World, browser: OpenBrowser, scope: dict[str, str], field: str
) -> None:
    with runtime.db.transaction() as s:
        consultation = make_consultation(s, world.convener)
    values = {"agency": world.agency.id, "consultation": consultation.id}
    new = newcomer(runtime, world)
    body = grant_body(new.id, **{k: values[v] for k, v in scope.items()})
    failure = error(browser(world.minister).post("/api/grants", body), 422)
    assert field in failure["fields"]
    assert outbox(runtime, "role.granted") == []


def test_bad_grants_are_refused_and_write_nothing(
    runtime: Runtime, world: World, browser: OpenBrowser
) -> None:
    new = newcomer(runtime, world)
    minister = browser(world.minister)
    past = (utcnow() - timedelta(hours=1)).isoformat()
    cases: list[tuple[dict[str, Any], int, str]] = [
        (grant_body(new.id, agency_id=world.agency.id, ends_at=past), 422, "ends_at"),
        (grant_body(world.leyla.id, agency_id=world.agency.id), 422, "account_id"),  # a citizen
        (grant_body(new.id, role="mayor", agency_id=world.agency.id), 422, "role"),
        (grant_body(999_999, agency_id=world.agency.id), 404, ""),
        (grant_body(new.id, agency_id=999_999), 404, ""),
        (grant_body(new.id, consultation_id=999_999), 404, ""),
    ]
    for body, status, field in cases:
        failure = error(minister.post("/api/grants", body), status)
        if field:
            assert field in failure["fields"], failure
    assert outbox(runtime, "role.granted") == []


def test_a_grant_may_end_in_the_future(runtime: Runtime, world: World, browser: OpenBrowser) -> None:
    new = newcomer(runtime, world)
    ends = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    response = browser(world.minister).post(
        "/api/grants", grant_body(new.id, agency_id=world.agency.id, ends_at=ends.isoformat())
    )
    assert response.status_code == 201, response.text
    assert response.json()["ends_at"].startswith(ends.strftime("%Y-%m-%dT%H:%M:%S"))


def test_an_agency_administrator_grants_only_inside_its_scope(
    runtime: Runtime, world: World, browser: OpenBrowser
) -> None:
    with runtime.db.transaction() as s:
        admin = make_official(s, runtime, "Agency admin", world.agency.id, Role.ADMINISTRATOR)
    new = newcomer(runtime, world)
    acting = browser(admin)
    assert acting.post("/api/grants", grant_body(new.id, agency_id=world.unit.id)).status_code == 201
    for outside in (world.ministry.id, world.other_agency.id):
        refused = error(acting.post("/api/grants", grant_body(new.id, agency_id=outside)), 403)
        assert "administrator" in refused["message"] and str(outside) in refused["message"]
    assert len(outbox(runtime, "role.granted")) == 1


def test_revoking_keeps_the_grant_and_ends_its_power(
    runtime: Runtime, world: World, browser: OpenBrowser
) -> None:
    minister = browser(world.minister)
    new = newcomer(runtime, world)
    grant_id = minister.post("/api/grants", grant_body(new.id, "convener", agency_id=world.agency.id)).json()[
        "id"
    ]

    response = minister.post(f"/api/grants/{grant_id}/revoke", {"reason": "Moved to another post."})
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "revoked" and response.json()["revoked_by_id"] == world.minister.id
    [event] = outbox(runtime, "role.revoked")
    assert event["data"]["revoked_by_id"] == world.minister.id
    assert event["data"]["reason"] == "Moved to another post."
    assert event["topics"] == [f"user:{new.id}"]

    kept = load(runtime, Grant, grant_id)
    assert kept.revoked_at is not None and kept.revoked_by_id == world.minister.id

    again = error(minister.post(f"/api/grants/{grant_id}/revoke", {"reason": "Once more."}), 409)
    assert again["code"] == "already_revoked"
    refused = browser(new).post(
        "/api/consultations",
        {
            "agency_id": world.agency.id,
            "title": "Night buses",
            "summary": "Which lines at night?",
            "body": "Tell us.",
        },
    )
    assert "convener" in error(refused, 403)["message"]
    assert len(outbox(runtime, "role.revoked")) == 1


def test_revoking_an_ended_grant_or_without_a_reason_is_refused(
    runtime: Runtime, world: World, browser: OpenBrowser
) -> None:
    new = newcomer(runtime, world)
    with runtime.db.transaction() as s:
        ended = Grant(
            account_id=new.id,
            role=Role.MODERATOR,
            agency_id=world.agency.id,
            granted_at=utcnow() - timedelta(days=10),
            ends_at=utcnow() - timedelta(days=1),
        )
        active = Grant(account_id=new.id, role=Role.RESPONDER, agency_id=world.agency.id, granted_at=utcnow())
        s.add_all([ended, active])
        s.flush()
        ended_id, active_id = ended.id, active.id
    minister = browser(world.minister)
    assert (
        error(minister.post(f"/api/grants/{ended_id}/revoke", {"reason": "Tidy up."}), 409)["code"]
        == "already_ended"
    )
    assert "reason" in error(minister.post(f"/api/grants/{active_id}/revoke", {"reason": ""}), 422)["fields"]
    assert error(minister.post("/api/grants/999999/revoke", {"reason": "Tidy up."}), 404)
    assert load(runtime, Grant, active_id).revoked_at is None
    assert outbox(runtime, "role.revoked") == []


def test_an_agency_administrator_cannot_revoke_a_ministry_grant(
    runtime: Runtime, world: World, browser: OpenBrowser
) -> None:
    with runtime.db.transaction() as s:
        admin = make_official(s, runtime, "Agency admin", world.agency.id, Role.ADMINISTRATOR)
        ministry_grant = s.exec(select(Grant).where(Grant.account_id == world.minister.id)).one()
    refused = error(
        browser(admin).post(f"/api/grants/{ministry_grant.id}/revoke", {"reason": "Overreach."}), 403
    )
    assert "administrator" in refused["message"]
    assert load(runtime, Grant, ministry_grant.id).revoked_at is None


def test_the_list_is_the_subtree_history(runtime: Runtime, world: World, browser: OpenBrowser) -> None:
    minister: Browser = browser(world.minister)
    with runtime.db.transaction() as s:
        consultation = make_consultation(s, world.convener)
    new = newcomer(runtime, world)
    revoked = minister.post("/api/grants", grant_body(new.id, agency_id=world.unit.id)).json()["id"]
    minister.post(f"/api/grants/{revoked}/revoke", {"reason": "Not needed any more."})
    on_consultation = minister.post(
        "/api/grants", grant_body(new.id, consultation_id=consultation.id)
    ).json()["id"]

    listed = minister.get(f"/api/agencies/{world.agency.id}/grants")
    assert listed.status_code == 200, listed.text
    items = {g["id"]: g for g in listed.json()["items"]}
    assert items[revoked]["state"] == "revoked"
    assert items[on_consultation]["consultation_id"] == consultation.id
    holders = {g["account_id"] for g in items.values()}
    assert world.convener.id in holders and world.unit_convener.id in holders
    assert world.other_convener.id not in holders  # another agency's
    assert world.minister.id not in holders  # the ministry's grant sits above this agency

    assert error(browser(world.convener).get(f"/api/agencies/{world.agency.id}/grants"), 403)
    assert error(browser().get(f"/api/agencies/{world.agency.id}/grants"), 401)
    assert error(minister.get("/api/agencies/999999/grants"), 404)


def test_two_administrators_revoking_at_once_revoke_once(runtime: Runtime, world: World) -> None:
    new = newcomer(runtime, world)
    with runtime.db.transaction() as s:
        second = make_official(s, runtime, "Second admin", world.ministry.id, Role.ADMINISTRATOR)
        grant = Grant(account_id=new.id, role=Role.MODERATOR, agency_id=world.agency.id, granted_at=utcnow())
        s.add(grant)
        s.flush()
        grant_id = grant.id
    admins = [world.minister, second] * 4

    def revoke(i: int) -> str:
        try:
            with runtime.db.transaction() as s:
                grants.revoke_role(s, admins[i], grant_id, ReasonInput(reason=f"Attempt {i}"))
            return "revoked"
        except Conflict:
            return "conflict"

    results = all_at_once(len(admins), revoke)
    assert sorted(results) == ["conflict"] * (len(admins) - 1) + ["revoked"]
    assert len(outbox(runtime, "role.revoked")) == 1
