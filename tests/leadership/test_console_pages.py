"""The officials' console: its home, the administrator's grants page, the convener's consultation
pages, and the consultation edit/close API they stand on.

Pages are driven like a browser without JavaScript: GET the form, POST it with its CSRF token,
follow the 303; a refusal re-renders the form with the message, the text kept and the status.
"""

from __future__ import annotations

from typing import Any

import pytest

from civic.app import create_app
from civic.identity.models import Grant, Role
from civic.participation.models import Consultation, Phase
from civic.runtime import Runtime
from tests.conftest import form_token
from tests.http.support import Page
from tests.leadership._console_support import with_leadership
from tests.leadership.conftest import Browser, World, error, load, make_consultation, outbox, snapshot
from tests.leadership.conftest import official as make_official
from tests.participation.conftest import OpenBrowser, _openapi_once


@pytest.fixture
def app(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The suite's app with the console and leadership's API routed (see _console_support)."""
    monkeypatch.setattr("civic.app.openapi_document", _openapi_once)
    return with_leadership(create_app(runtime=runtime))


def main(html: str) -> str:
    """The page's own content, without the site navigation (which has links of its own)."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def submit(b: Browser, page_url: str, action: str, **fields: str) -> Any:
    """GET the page, then POST `action` with the page's CSRF token (no redirect followed)."""
    page = b.client.get(page_url)
    assert page.status_code == 200, page.text
    return b.client.post(action, data={"csrf_token": form_token(page.text), **fields}, follow_redirects=False)


CONSULTATION_FORM = {
    "title": "Cycle lanes on the boulevard",
    "summary": "Where should the cycle lanes go?",
    "body": "The agency plans cycle lanes and asks residents.",
    "categories": "transport, health",
    "language": "en",
    "min_verification": "unverified",
    "allow_organisations": "1",
    "moderation": "post",
    "support_threshold": "50",
    "proposals_starts": "2027-01-10",
    "proposals_ends": "2027-02-10",
}


# ---- home ---------------------------------------------------------------------------------------


def test_the_console_is_for_officials(world: World, browser: OpenBrowser) -> None:
    response = browser().client.get("/console", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fconsole"
    refused = browser(world.leyla).client.get("/console")
    assert refused.status_code == 403 and "official" in refused.text


def test_the_home_shows_each_officials_grants_and_work(
    runtime: Runtime, world: World, browser: OpenBrowser
) -> None:
    with runtime.db.transaction() as s:
        make_consultation(s, world.convener, publish=False, title="Draft about trams")
        both = make_official(s, runtime, "Busy official", world.agency.id, Role.MODERATOR, Role.RESPONDER)
    response = browser(both).client.get("/console")
    assert response.status_code == 200
    moderator = main(response.text)
    assert 'href="/moderation"' in moderator and "responder" in moderator
    assert "/console/grants" not in moderator and 'href="/console/consultations"' not in moderator
    assert "Draft about trams" in moderator  # consultations they answer in, drafts included

    minister = main(browser(world.minister).client.get("/console").text)
    assert f"/console/grants?agency={world.ministry.id}" in minister
    assert f"/console/grants?agency={world.unit.id}" in minister  # the units below it too

    response = browser(world.convener).client.get("/console")
    convener = main(response.text)
    assert 'href="/console/consultations"' in convener and "/moderation" not in convener
    assert Page(response.text).h1_count == 1


# ---- grants ---------------------------------------------------------------------------------------


def test_an_administrator_grants_and_revokes_from_the_page(
    runtime: Runtime, world: World, browser: OpenBrowser
) -> None:
    with runtime.db.transaction() as s:
        new = make_official(s, runtime, "Newcomer", world.agency.id)
    minister = browser(world.minister)
    here = f"/console/grants?agency={world.agency.id}"
    page = minister.client.get(here)
    assert page.status_code == 200 and "Newcomer" in page.text
    assert not Page(page.text).unlabelled_inputs()

    granted = submit(
        minister,
        here,
        "/console/grants",
        agency=str(world.agency.id),
        account_id=str(new.id),
        role="responder",
        scope=f"agency:{world.unit.id}",
        ends_on="2099-12-31",
        reason="Answers for the bus unit.",
    )
    assert granted.status_code == 303 and granted.headers["location"] == f"{here}&done=granted"
    [event] = outbox(runtime, "role.granted")
    grant_id = event["data"]["grant_id"]
    assert (
        event["data"]["agency_id"] == world.unit.id and event["data"]["reason"] == "Answers for the bus unit."
    )
    assert load(runtime, Grant, grant_id).ends_at is not None

    shown = minister.client.get(f"{here}&done=granted")
    assert (
        "The role was granted." in shown.text and f'id="grant-{grant_id}" data-state="active"' in shown.text
    )

    no_reason = submit(
        minister, here, f"/console/grants/{grant_id}/revoke", agency=str(world.agency.id), reason=""
    )
    assert no_reason.status_code == 422
    assert f'id="error-revoke_reason_{grant_id}"' in no_reason.text
    assert load(runtime, Grant, grant_id).revoked_at is None

    revoked = submit(
        minister,
        here,
        f"/console/grants/{grant_id}/revoke",
        agency=str(world.agency.id),
        reason="Unit merged.",
    )
    assert revoked.status_code == 303 and revoked.headers["location"] == f"{here}&done=revoked"
    assert load(runtime, Grant, grant_id).revoked_by_id == world.minister.id
    history = minister.client.get(here)
    assert f'id="grant-{grant_id}" data-state="revoked"' in history.text


def test_a_refused_grant_shows_the_form_again(runtime: Runtime, world: World, browser: OpenBrowser) -> None:
    minister = browser(world.minister)
    here = f"/console/grants?agency={world.agency.id}"
    response = submit(
        minister,
        here,
        "/console/grants",
        agency=str(world.agency.id),
        account_id="",
        role="moderator",
        scope=f"agency:{world.agency.id}",
        reason="Keeps this text",
    )
    assert response.status_code == 422
    assert 'id="error-account_id"' in response.text and 'value="Keeps this text"' in response.text
    bad_date = submit(
        minister,
        here,
        "/console/grants",
        agency=str(world.agency.id),
        account_id=str(world.convener.id),
        role="moderator",
        scope=f"agency:{world.agency.id}",
        ends_on="2001-01-01",
    )
    assert bad_date.status_code == 422 and "future" in bad_date.text
    assert outbox(runtime, "role.granted") == []


def test_the_grants_page_needs_the_administrator_role(world: World, browser: OpenBrowser) -> None:
    refused = browser(world.convener).client.get(f"/console/grants?agency={world.agency.id}")
    assert refused.status_code == 403 and "administrator" in refused.text
    outside = browser(world.minister).client.get(f"/console/grants?agency={world.other_agency.id}")
    assert outside.status_code == 403
    chooser = browser(world.minister).client.get("/console/grants")
    assert chooser.status_code == 200 and f"/console/grants?agency={world.agency.id}" in chooser.text


# ---- consultations ----------------------------------------------------------------------------------


def test_a_convener_creates_edits_publishes_moves_and_closes(
    runtime: Runtime, world: World, browser: OpenBrowser
) -> None:
    convener = browser(world.convener)
    new = convener.client.get("/console/consultations/new")
    assert new.status_code == 200 and not Page(new.text).unlabelled_inputs()
    created = submit(
        convener,
        "/console/consultations/new",
        "/console/consultations/new",
        agency_id=str(world.agency.id),
        **CONSULTATION_FORM,
    )
    assert created.status_code == 303, created.text
    edit_url = created.headers["location"].split("?")[0]
    consultation_id = int(edit_url.split("/")[3])
    c = load(runtime, Consultation, consultation_id)
    assert (c.status, c.categories, c.allow_foreign_residents, c.support_threshold) == (
        "draft",
        ["transport", "health"],
        False,
        50,
    )
    assert c.schedule == {"proposals": {"starts": "2027-01-10", "ends": "2027-02-10"}}

    listed = convener.client.get("/console/consultations")
    assert "Cycle lanes on the boulevard" in listed.text and "draft" in listed.text

    saved = submit(convener, edit_url, edit_url, **{**CONSULTATION_FORM, "title": "Cycle lanes, revised"})
    assert saved.status_code == 303 and saved.headers["location"] == f"{edit_url}?done=saved"
    assert load(runtime, Consultation, consultation_id).title == "Cycle lanes, revised"
    assert outbox(runtime, "consultation.edited") == []  # a draft: nobody follows it yet

    assert submit(convener, edit_url, f"/console/consultations/{consultation_id}/publish").status_code == 303
    moved = submit(convener, edit_url, f"/console/consultations/{consultation_id}/phase", phase="proposals")
    assert moved.headers["location"] == f"{edit_url}?done=phase"
    closed = submit(convener, edit_url, f"/console/consultations/{consultation_id}/close")
    assert closed.headers["location"] == f"{edit_url}?done=closed"
    c = load(runtime, Consultation, consultation_id)
    assert (c.status, c.phase) == ("published", "closed")
    assert [e["data"]["phase"] for e in outbox(runtime, "consultation.phase_changed")] == [
        "proposals",
        "closed",
    ]
    page = convener.client.get(f"{edit_url}?done=closed")
    assert "The consultation is closed." in page.text and "Close the consultation" not in page.text


def test_refusals_on_the_consultation_pages(runtime: Runtime, world: World, browser: OpenBrowser) -> None:
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, phase=Phase.CLOSED)
    convener = browser(world.convener)
    edit_url = f"/console/consultations/{c.id}/edit"
    again = submit(convener, edit_url, f"/console/consultations/{c.id}/close")
    assert again.status_code == 409 and "already closed" in again.text
    too_short = submit(
        convener,
        "/console/consultations/new",
        "/console/consultations/new",
        agency_id=str(world.agency.id),
        **{**CONSULTATION_FORM, "title": "Bus"},
    )
    assert too_short.status_code == 422 and 'id="error-title"' in too_short.text
    assert 'value="Bus"' in too_short.text

    before = snapshot(runtime)
    other = browser(world.other_convener)
    assert other.client.get(edit_url).status_code == 403
    token = form_token(other.client.get("/console/consultations").text)
    for action, data in [
        ("edit", CONSULTATION_FORM),
        ("publish", {}),
        ("phase", {"phase": "support"}),
        ("close", {}),
    ]:
        response = other.client.post(
            f"/console/consultations/{c.id}/{action}",
            data={"csrf_token": token, **data},
            follow_redirects=False,
        )
        assert response.status_code == 403 and "convener" in response.text, action
    assert snapshot(runtime) == before
    logged_out = browser().client.get(edit_url, follow_redirects=False)
    assert logged_out.status_code == 303 and logged_out.headers["location"].startswith("/login?next=")


def test_the_list_shows_only_consultations_the_convener_runs(
    runtime: Runtime, world: World, browser: OpenBrowser
) -> None:
    with runtime.db.transaction() as s:
        make_consultation(s, world.convener, publish=False, title="Our draft on trams")
        make_consultation(s, world.other_convener, publish=False, title="Their draft on museums")
    page = browser(world.convener).client.get("/console/consultations")
    assert "Our draft on trams" in page.text and "Their draft on museums" not in page.text
    assert browser(world.moderator).client.get("/console/consultations").status_code == 403


# ---- the API the pages stand on ---------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(runtime: Runtime, world: World, browser: OpenBrowser) -> None:
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, district="Sabail")
    convener = browser(world.convener)
    response = convener.client.patch(
        f"/api/consultations/{c.id}",
        json={"title": "Bus lanes, second round", "district": None},
        headers={"X-CSRF-Token": convener.token},
    )
    assert response.status_code == 200, response.text
    after = load(runtime, Consultation, c.id)
    assert (after.title, after.district, after.summary) == ("Bus lanes, second round", None, c.summary)
    [event] = outbox(runtime, "consultation.edited")
    assert event["data"]["title"] == "Bus lanes, second round" and f"consultation:{c.id}" in event["topics"]

    same = convener.client.patch(
        f"/api/consultations/{c.id}",
        json={"title": "Bus lanes, second round"},
        headers={"X-CSRF-Token": convener.token},
    )
    assert same.status_code == 200 and len(outbox(runtime, "consultation.edited")) == 1  # nothing changed
    for body, field in [
        ({"title": None}, "title"),
        ({"agency_id": world.other_agency.id}, "agency_id"),
        ({"title": "Bus"}, "title"),
    ]:
        bad = convener.client.patch(
            f"/api/consultations/{c.id}", json=body, headers={"X-CSRF-Token": convener.token}
        )
        assert field in error(bad, 422)["fields"]


def test_close_through_the_api(runtime: Runtime, world: World, browser: OpenBrowser) -> None:
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener)
    convener = browser(world.convener)
    closed = convener.post(f"/api/consultations/{c.id}/close")
    assert closed.status_code == 200 and closed.json()["phase"] == "closed"
    assert error(convener.post(f"/api/consultations/{c.id}/close"), 409)
    edit = convener.client.patch(
        f"/api/consultations/{c.id}", json={"title": "Reopened?"}, headers={"X-CSRF-Token": convener.token}
    )
    assert "closed" in error(edit, 409)["message"]
    assert error(browser(world.other_convener).post(f"/api/consultations/{c.id}/close"), 403)
    assert error(convener.post("/api/consultations/999999/close"), 404)


def test_every_console_page_is_accessible(runtime: Runtime, world: World, browser: OpenBrowser) -> None:
    """One h1, every control labelled, ids unique, every POST form carrying the CSRF token."""
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, publish=False)
        admin = make_official(s, runtime, "Everything", world.agency.id, Role.ADMINISTRATOR, Role.CONVENER)
    b = browser(admin)
    for url in [
        "/console",
        "/console/grants",
        f"/console/grants?agency={world.agency.id}",
        "/console/consultations",
        "/console/consultations/new",
        f"/console/consultations/{c.id}/edit",
    ]:
        response = b.client.get(url)
        assert response.status_code == 200, url
        page = Page(response.text)
        assert page.h1_count == 1, url
        assert not page.unlabelled_inputs(), (url, page.unlabelled_inputs())
        assert len(page.ids) == len(set(page.ids)), url
        forms = response.text.split("<form")[1:]
        for form in forms:
            if 'method="post"' in form.split(">", 1)[0]:
                assert 'name="csrf_token"' in form.split("</form>", 1)[0], (url, form[:200])
