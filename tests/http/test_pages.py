"""Every page is usable without a mouse or sight: a skip link, one h1, a label for every input."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from civic.identity.models import Role
from civic.participation import actions, consultations
from civic.participation.schemas import CommentInput, ConsultationInput, PhaseChange, ProposalInput
from tests.conftest import form_token
from tests.factories import make_account, make_agency, make_official
from tests.http.support import Page, api_login


@pytest.fixture
def logged_in_registrar(client, runtime):
    with runtime.db.transaction() as session:
        centre = make_agency(session, "Service centre")
        make_official(runtime, session, centre, Role.REGISTRAR, email="reg@gov.az")
        make_account(runtime, session, email="leyla@example.az", name="Leyla")
    api_login(client, "reg@gov.az")
    return client


def every_page(client) -> dict[str, str]:
    """Each template, in its plain and its error state, as a logged-in registrar sees them."""
    register_token = form_token(client.get("/register").text)
    pages = {
        "home": client.get("/"),
        "login": client.get("/login"),
        "register": client.get("/register"),
        "register with errors": client.post(
            "/register",
            data={
                "csrf_token": register_token,
                "email": "x",
                "display_name": "",
                "password": "",
                "kind": "alien",
            },
        ),
        "account": client.get("/account"),
        "registrar": client.get("/registrar"),
        "registrar with someone found": client.get("/registrar", params={"email": "leyla@example.az"}),
        "registrar with nobody found": client.get("/registrar", params={"email": "ghost@example.az"}),
        "404": client.get("/no-such-page"),
    }
    client.post("/logout", data={"csrf_token": form_token(pages["account"].text)})
    pages["login with errors"] = client.post(
        "/login", data={"csrf_token": form_token(client.get("/login").text), "email": "", "password": ""}
    )
    pages["401"] = client.get("/registrar")
    return {name: response.text for name, response in pages.items()}


@dataclass
class Participation:
    consultation: int
    verified_only: int
    proposal: int  # Leyla's, discussed: a thread with a reply and a deleted comment's tombstone
    fresh: int  # Leyla's, untouched: she may still edit it
    comment: int  # Rashad's, on `proposal`
    reply: int  # Leyla's reply to it


def seed_participation(runtime) -> Participation:
    """Two published consultations collecting proposals (one for verified e-citizens only) and a
    discussed proposal, all through the real actions."""
    with runtime.db.transaction() as session:
        agency = make_agency(session, "Transport agency")
        convener = make_official(runtime, session, agency, Role.CONVENER, email="convener@gov.az")
        leyla = make_account(runtime, session, email="leyla.author@example.az", name="Leyla")
        rashad = make_account(runtime, session, email="rashad@example.az", name="Rashad")

        def open_consultation(title: str, **extra) -> int:
            c = consultations.create_consultation(
                session,
                convener,
                ConsultationInput(
                    agency_id=agency.id,
                    title=title,
                    summary="How should the buses of the capital change next year?",
                    body="## Why\n\nWe plan **more** buses.\n\nTell us where.",
                    categories=["Routes", "Stops"],
                    schedule={"proposals": {"starts": "2026-12-01", "ends": "2027-01-15"}},
                    support_threshold=3,
                    **extra,
                ),
            )
            consultations.publish_consultation(session, convener, c.id)
            consultations.change_phase(session, convener, c.id, PhaseChange(phase="proposals"))
            return c.id

        consultation = open_consultation("Better buses for Baku")
        verified_only = open_consultation("Night trains", min_verification="verified")
        proposal = actions.submit_proposal(
            session,
            leyla,
            consultation,
            ProposalInput(
                title="Night bus to the airport", body="Run a *night* bus every hour.", category="Routes"
            ),
        )
        fresh = actions.submit_proposal(
            session, leyla, consultation, ProposalInput(title="Shelters at every stop", body="Rain and sun.")
        )
        comment = actions.post_comment(session, rashad, proposal.id, CommentInput(body="Good idea"))
        reply = actions.post_comment(
            session, leyla, proposal.id, CommentInput(body="Thanks!", parent_id=comment.id)
        )
        gone = actions.post_comment(session, rashad, proposal.id, CommentInput(body="On second thought…"))
        actions.post_comment(session, leyla, proposal.id, CommentInput(body="Why?", parent_id=gone.id))
        actions.delete_comment(session, rashad, gone.id)
        return Participation(consultation, verified_only, proposal.id, fresh.id, comment.id, reply.id)


# Each participation page and the status it must answer with: refusals re-render their page with
# the status the API gives for the same refusal.
PARTICIPATION_STATUS = {
    "consultations": 200,
    "consultations in one phase": 200,
    "consultation": 200,
    "consultation filtered": 200,
    "proposal as a visitor": 200,
    "new proposal": 200,
    "new proposal with errors": 422,
    "new proposal refused: not eligible": 403,
    "proposal as its author": 200,
    "proposal with a refused support": 409,
    "proposal with a reply error": 422,
    "edit proposal": 200,
    "edit proposal refused: already discussed": 409,
    "withdraw confirmation": 200,
    "edit comment": 200,
    "edit comment with errors": 422,
}


def participation_pages(client, data: Participation) -> dict:
    """Participation's pages as a visitor, then as Leyla, an e-citizen taking part: plain, with
    errors, and refused."""
    p, c = data.proposal, data.consultation
    pages = {
        "consultations": client.get("/consultations"),
        "consultations in one phase": client.get("/consultations", params={"phase": "proposals"}),
        "consultation": client.get(f"/consultations/{c}"),
        "consultation filtered": client.get(
            f"/consultations/{c}", params={"q": "night", "category": "Routes", "sort": "supported"}
        ),
        "proposal as a visitor": client.get(f"/proposals/{p}"),
    }
    api_login(client, "leyla.author@example.az")
    token = form_token(client.get(f"/proposals/{p}").text)
    pages |= {
        "new proposal": client.get(f"/consultations/{c}/proposals/new"),
        "new proposal with errors": client.post(
            f"/consultations/{c}/proposals/new", data={"csrf_token": token, "title": "x", "body": ""}
        ),
        "new proposal refused: not eligible": client.get(
            f"/consultations/{data.verified_only}/proposals/new"
        ),
        "proposal as its author": client.get(f"/proposals/{p}", params={"done": "commented"}),
        "proposal with a refused support": client.post(f"/proposals/{p}/support", data={"csrf_token": token}),
        "proposal with a reply error": client.post(
            f"/proposals/{p}/comments",
            data={
                "csrf_token": token,
                "body": "A reply much too long. " * 300,
                "parent_id": str(data.comment),
            },
        ),
        "edit proposal": client.get(f"/proposals/{data.fresh}/edit"),
        "edit proposal refused: already discussed": client.get(f"/proposals/{p}/edit"),
        "withdraw confirmation": client.get(f"/proposals/{data.fresh}/withdraw"),
        "edit comment": client.get(f"/comments/{data.reply}/edit"),
        "edit comment with errors": client.post(
            f"/comments/{data.reply}/edit", data={"csrf_token": token, "body": ""}
        ),
    }
    return pages


@pytest.fixture
def participation_responses(client, runtime) -> dict:
    return participation_pages(client, seed_participation(runtime))


@pytest.fixture
def pages(logged_in_registrar, runtime) -> dict[str, str]:
    identity = every_page(logged_in_registrar)
    participation = participation_pages(logged_in_registrar, seed_participation(runtime))
    return identity | {name: response.text for name, response in participation.items()}


def test_every_page_has_a_skip_link_one_h1_a_language_and_a_title(pages):
    for name, html in pages.items():
        page = Page(html)
        first_link = next(attrs for tag, attrs in page.tags if tag == "a")
        assert first_link.get("href") == "#main", name
        assert page.first("main", id="main") is not None, name
        assert page.h1_count == 1, name
        assert page.first("html", lang="en") is not None, name
        assert "<title>" in html and "<title></title>" not in html, name


def test_every_input_has_a_label_and_every_id_is_unique(pages):
    for name, html in pages.items():
        page = Page(html)
        assert page.unlabelled_inputs() == [], name
        assert len(page.ids) == len(set(page.ids)), (
            name,
            sorted(i for i in page.ids if page.ids.count(i) > 1),
        )


def test_field_errors_are_tied_to_their_inputs_and_every_post_form_has_a_token(pages):
    page = Page(pages["register with errors"])
    for name in ("email", "display_name", "password"):
        attrs = page.first("input", id=f"field-{name}")
        assert attrs["aria-invalid"] == "true", name
        assert f"error-{name}" in attrs["aria-describedby"].split(), name
        assert page.first("p", id=f"error-{name}") is not None, name
    assert page.first("div", role="alert") is not None
    assert page.first("fieldset", id="field-kind") is not None  # the summary's link target exists
    for name, html in pages.items():
        tags = Page(html).tags
        forms = [attrs for tag, attrs in tags if tag == "form" and attrs.get("method") == "post"]
        tokens = [attrs for tag, attrs in tags if tag == "input" and attrs.get("name") == "csrf_token"]
        assert len(tokens) >= len(forms), name


# ---- participation's pages ----------------------------------------------------------------


def test_participation_pages_answer_with_the_status_of_what_happened(participation_responses):
    assert {name: r.status_code for name, r in participation_responses.items()} == PARTICIPATION_STATUS


def test_a_refused_reply_keeps_its_text_in_its_own_opened_form(participation_responses):
    html = participation_responses["proposal with a reply error"].text
    page = Page(html)
    comment = next(
        attrs["id"] for tag, attrs in page.tags if tag == "li" and attrs.get("id", "").startswith("comment-")
    )
    field = f"field-reply-{comment.removeprefix('comment-')}"

    textarea = page.first("textarea", id=field)
    assert textarea["aria-invalid"] == "true"
    assert f"error-reply-{comment.removeprefix('comment-')}" in textarea["aria-describedby"].split()
    assert f'href="#{field}"' in html  # the error summary links to the reply form's field
    assert "A reply much too long." in html.split(f'id="{field}"')[1].split("</textarea>")[0]
    assert page.first("details", open="") is not None  # the reply form is shown open, no script needed


def test_a_refusal_says_why_and_the_page_offers_no_dead_end(participation_responses):
    support = participation_responses["proposal with a refused support"].text
    not_eligible = participation_responses["new proposal refused: not eligible"].text
    discussed = participation_responses["edit proposal refused: already discussed"].text

    assert "You cannot support your own proposal." in support
    assert "open to verified e-citizens" in not_eligible and "registrar" in not_eligible
    assert 'name="title"' not in not_eligible  # no form to fill in for nothing
    assert "Add a comment to explain what changed." in discussed


def test_a_deleted_comment_leaves_a_tombstone_and_the_visitor_is_offered_log_in_links(
    participation_responses,
):
    html = participation_responses["proposal as a visitor"].text

    assert "This comment was deleted." in html and "On second thought" not in html
    assert 'href="/login?next=/proposals/' in html
    posts = [attrs for tag, attrs in Page(html).tags if tag == "form" and attrs.get("method") == "post"]
    assert posts == []  # a visitor gets no form that could only fail


def test_a_visitor_who_wants_to_take_part_is_sent_to_log_in_and_back(client, runtime):
    data = seed_participation(runtime)

    response = client.get(f"/consultations/{data.consultation}/proposals/new", follow_redirects=False)

    assert response.status_code == 303
    assert (
        response.headers["location"]
        == f"/login?next=%2Fconsultations%2F{data.consultation}%2Fproposals%2Fnew"
    )
