"""Every page is usable without a mouse or sight: a skip link, one h1, a label for every input."""

from __future__ import annotations

import pytest

from civic.identity.models import Role
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


@pytest.fixture
def pages(logged_in_registrar) -> dict[str, str]:
    return every_page(logged_in_registrar)


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
