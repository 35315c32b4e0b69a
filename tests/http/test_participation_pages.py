"""Participation's pages without JavaScript: every action is a form POST answered with a 303 back
to the page and a status message, and the page then shows the change. (The page list with its
accessibility checks and the data it is built on are in test_pages.py.)"""

from __future__ import annotations

import pytest
from sqlmodel import select

from civic.identity.models import Account
from civic.participation import consultations
from civic.participation.models import Comment, Proposal
from civic.participation.schemas import PhaseChange
from tests.conftest import form_token
from tests.http.support import api_login, count
from tests.http.test_pages import Participation, seed_participation


@pytest.fixture
def data(runtime) -> Participation:
    return seed_participation(runtime)


def log_in(client, email: str) -> str:
    """Log in and return the CSRF token the pages' forms carry."""
    api_login(client, email)
    return form_token(client.get("/consultations").text)


def move_to(runtime, consultation_id: int, phase: str) -> None:
    with runtime.db.transaction() as session:
        convener = session.exec(select(Account).where(Account.email == "convener@gov.az")).one()
        consultations.change_phase(session, convener, consultation_id, PhaseChange(phase=phase))


def test_the_author_edits_a_fresh_proposal_then_withdraws_it_after_confirming(client, data):
    token = log_in(client, "leyla.author@example.az")
    form = {
        "csrf_token": token,
        "title": "Shelters with benches",
        "body": "Rain, sun and a seat.",
        "category": "Stops",
    }

    edited = client.post(f"/proposals/{data.fresh}/edit", data=form, follow_redirects=False)

    assert edited.status_code == 303
    assert edited.headers["location"] == f"/proposals/{data.fresh}?done=edited"
    page = client.get(edited.headers["location"]).text
    assert "Your changes are saved." in page and "Shelters with benches" in page and "Category: Stops" in page

    confirm = client.get(f"/proposals/{data.fresh}/withdraw").text
    assert "Withdraw your proposal?" in confirm and "You cannot undo this." in confirm
    withdrawn = client.post(
        f"/proposals/{data.fresh}/withdraw", data={"csrf_token": token}, follow_redirects=False
    )

    assert withdrawn.headers["location"] == f"/proposals/{data.fresh}?done=withdrawn"
    page = client.get(withdrawn.headers["location"]).text
    assert "Your proposal is withdrawn." in page and "Withdrawn by its author." in page
    assert f'href="/proposals/{data.fresh}/withdraw"' not in page and "Log in to comment" not in page


def test_a_comment_is_posted_edited_and_deleted_from_the_proposal_page(client, data):
    token = log_in(client, "leyla.author@example.az")

    posted = client.post(
        f"/proposals/{data.proposal}/comments",
        data={"csrf_token": token, "body": "I can draw a **map** of the route."},
        follow_redirects=False,
    )

    location = posted.headers["location"]
    assert posted.status_code == 303
    assert location.startswith(f"/proposals/{data.proposal}?done=commented#comment-")
    comment_id = int(location.rsplit("-", 1)[1])
    page = client.get(location).text
    assert "Your comment is published." in page and "I can draw a <strong>map</strong> of the route." in page
    assert "4 comments" in page

    form = client.get(f"/comments/{comment_id}/edit").text
    assert "I can draw a **map** of the route.</textarea>" in form
    edited = client.post(
        f"/comments/{comment_id}/edit",
        data={"csrf_token": token, "body": "I drew a map of the route."},
        follow_redirects=False,
    )
    assert (
        edited.headers["location"] == f"/proposals/{data.proposal}?done=comment_edited#comment-{comment_id}"
    )
    page = client.get(edited.headers["location"]).text
    assert "Your comment is updated." in page and "I drew a map" in page
    assert '<span class="tag tag--muted">edited</span>' in page

    deleted = client.post(
        f"/comments/{comment_id}/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert deleted.headers["location"] == f"/proposals/{data.proposal}?done=comment_deleted#comments"
    page = client.get(deleted.headers["location"]).text
    assert "Your comment is deleted." in page and "I drew a map" not in page and "3 comments" in page


def test_a_citizen_supports_and_withdraws_support_in_the_support_phase(client, runtime, data):
    move_to(runtime, data.consultation, "support")
    token = log_in(client, "rashad@example.az")

    supported = client.post(
        f"/proposals/{data.proposal}/support", data={"csrf_token": token}, follow_redirects=False
    )

    assert supported.headers["location"] == f"/proposals/{data.proposal}?done=supported#support"
    page = client.get(supported.headers["location"]).text
    assert (
        "You support this proposal. Thank you." in page
        and 'Supports: <span data-live-count="proposal:' in page
        and ">1</span> of 3 needed" in page
    )
    assert f'action="/proposals/{data.proposal}/unsupport"' in page

    withdrawn = client.post(
        f"/proposals/{data.proposal}/unsupport", data={"csrf_token": token}, follow_redirects=False
    )

    page = client.get(withdrawn.headers["location"]).text
    assert "You no longer support this proposal." in page and ">0</span> of 3 needed" in page
    assert f'action="/proposals/{data.proposal}/support"' in page


def test_editing_comments_closes_with_the_discussion_but_deleting_does_not(client, runtime, data):
    move_to(runtime, data.consultation, "closed")
    token = log_in(client, "leyla.author@example.az")

    page = client.get(f"/proposals/{data.proposal}").text
    edit = client.get(f"/comments/{data.reply}/edit")

    assert f'href="/comments/{data.reply}/edit"' not in page
    assert f'action="/comments/{data.reply}/delete"' in page
    assert edit.status_code == 409 and "closed phase" in edit.text and "<textarea" not in edit.text
    deleted = client.post(
        f"/comments/{data.reply}/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert deleted.status_code == 303


def test_head_requests_pass_the_csrf_guard_but_never_act(client, runtime, data):
    """HEAD is 'safe' to the CSRF guard, so the GET/POST pages must not act on one."""
    log_in(client, "leyla.author@example.az")
    text = {"title": "Smuggled in by HEAD", "body": "A body long enough to pass.", "csrf_token": "x"}

    answers = [
        client.request("HEAD", f"/consultations/{data.consultation}/proposals/new", data=text),
        client.request("HEAD", f"/proposals/{data.fresh}/edit", data=text),
        client.request("HEAD", f"/proposals/{data.fresh}/withdraw", data=text),
        client.request("HEAD", f"/comments/{data.reply}/edit", data={"body": "Smuggled in by HEAD"}),
    ]

    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert count(runtime, Proposal, Proposal.title == "Smuggled in by HEAD") == 0
    assert count(runtime, Proposal, Proposal.status == "withdrawn") == 0
    assert count(runtime, Comment, Comment.body == "Smuggled in by HEAD") == 0


@pytest.mark.parametrize(
    "path", ["/proposals/2147483648", "/consultations/99999999999", "/comments/2147483648/edit"]
)
def test_an_id_no_row_can_have_is_not_found_rather_than_a_server_error(client, data, path):
    log_in(client, "leyla.author@example.az")

    assert client.get(path).status_code == 404


def test_another_citizens_proposal_cannot_be_edited_or_withdrawn(client, data):
    token = log_in(client, "rashad@example.az")

    edit = client.get(f"/proposals/{data.fresh}/edit")
    withdraw = client.post(f"/proposals/{data.fresh}/withdraw", data={"csrf_token": token})

    assert edit.status_code == 403 and "Only the author can change this proposal." in edit.text
    assert withdraw.status_code == 403 and "Only the author can change this proposal." in withdraw.text
    assert "Shelters at every stop" in withdraw.text  # the proposal page again, with the refusal


def test_filters_with_control_characters_are_cleaned_not_a_server_error(client, data):
    response = client.get(
        f"/consultations/{data.consultation}", params={"q": "night\x00", "district": "\x00"}
    )

    assert response.status_code == 200
    assert "Night bus to the airport" in response.text


def test_a_consultation_cover_is_shown_with_its_text_alternative(client, runtime, data):
    from civic.participation.models import Consultation

    with runtime.db.transaction() as session:
        consultation = session.get(Consultation, data.consultation)
        consultation.cover_url = "/static/covers/cycling.svg"
        consultation.cover_alt = "A bicycle on a protected lane"
        session.add(consultation)

    page = client.get(f"/consultations/{data.consultation}").text

    assert '<img class="cover" src="/static/covers/cycling.svg" alt="A bicycle on a protected lane"' in page
    assert client.get("/static/covers/cycling.svg").status_code == 200
