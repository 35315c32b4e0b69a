"""An e-citizen's first visit, in a real browser against a real server: register, log out, log in.

Locators are the ones assistive technology sees (roles, accessible names, labels), so a page that
loses a label or a landmark fails here, not in front of a screen-reader user.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
Shot = Callable[[str], Path]


def _new_email() -> str:
    return f"journey-{uuid.uuid4().hex[:12]}@example.org"


def _nav(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("navigation", name="Main")


def _register(page: Page, shot: Shot, email: str, name: str, *, kind_label: str) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Have your say in how your country is run")
    shot("home")
    _nav(page).get_by_role("link", name="Register", exact=True).click()

    expect(page).to_have_url("/register")
    expect(page.get_by_role("heading", level=1, name="Create an account")).to_be_visible()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Public name").fill(name)
    kind = page.get_by_role("group", name="I am joining as")
    kind.get_by_role("radio", name=kind_label, exact=True).check()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    shot("register-filled")
    page.get_by_role("button", name="Create account", exact=True).click()


def test_new_user_registers_logs_out_and_logs_back_in(page: Page, shot: Shot) -> None:
    email, name = _new_email(), f"Aysel {uuid.uuid4().hex[:6]}"

    _register(page, shot, email, name, kind_label="A foreign resident")

    # Registered and logged in at once: My account shows who they are and that nobody verified them yet.
    expect(page).to_have_url("/account?welcome=1")
    expect(page.get_by_role("heading", level=1, name="My account")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Welcome, {name}.")
    main = page.get_by_role("main")
    expect(main.get_by_role("definition").filter(has_text=name)).to_have_count(1)
    expect(main.get_by_role("definition").filter(has_text=email)).to_have_count(1)
    expect(main.get_by_role("definition").filter(has_text="Foreign resident")).to_have_count(1)
    expect(main.get_by_role("definition").filter(has_text="Not verified yet")).to_have_count(1)
    expect(_nav(page).get_by_role("link", name="My account")).to_be_visible()
    shot("account-after-registration")

    # Log out: back on the home page, told so, and offered the log-in link again.
    _nav(page).get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url("/?logged_out=1")
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    expect(_nav(page).get_by_role("link", name="My account")).to_have_count(0)
    shot("logged-out")

    # Log in again through the log-in page.
    _nav(page).get_by_role("link", name="Log in", exact=True).click()
    expect(page).to_have_url("/login")
    expect(page.get_by_role("heading", level=1, name="Log in")).to_be_visible()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    shot("login-filled")
    page.get_by_role("button", name="Log in", exact=True).click()

    expect(page).to_have_url("/account")
    expect(page.get_by_role("heading", level=1, name="My account")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("definition").filter(has_text=name)).to_have_count(1)
    expect(_nav(page).get_by_role("button", name="Log out", exact=True)).to_be_visible()
    shot("account-after-login")


def test_wrong_password_shows_the_error_summary_and_keeps_the_email(page: Page, shot: Shot) -> None:
    email = _new_email()
    _register(page, shot, email, "Rashad Test", kind_label="A citizen")
    expect(page).to_have_url("/account?welcome=1")
    _nav(page).get_by_role("button", name="Log out", exact=True).click()
    expect(page).to_have_url("/?logged_out=1")

    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill("not the password at all")
    page.get_by_role("button", name="Log in", exact=True).click()

    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_contain_text("The e-mail address or the password is wrong.")
    # The address the user typed is still there; the password never comes back from the server.
    expect(page.get_by_label("E-mail address")).to_have_value(email)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    expect(page.get_by_role("heading", level=1, name="Log in")).to_be_visible()
    expect(_nav(page).get_by_role("link", name="My account")).to_have_count(0)
    shot("wrong-password")


def test_keyboard_user_reaches_main_content_with_the_skip_link(page: Page, shot: Shot) -> None:
    page.goto("/")
    skip = page.get_by_role("link", name="Skip to main content")

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown when focused, not only to screen readers
    shot("skip-link-focused")

    page.keyboard.press("Enter")
    main = page.get_by_role("main")
    expect(main).to_be_focused()
    shot("main-focused")

    # The next Tab continues inside main, past the header and its navigation.
    page.keyboard.press("Tab")
    expect(main.get_by_role("link", name="Create an account")).to_be_focused()
    shot("first-link-in-main")
