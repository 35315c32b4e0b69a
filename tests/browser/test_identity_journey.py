"""An e-citizen's first visit, in a real browser against a real server: register, log out, log in —
in English and in Azerbaijani (the browser's Accept-Language chooses; no cookie, no switcher).

Locators are the ones assistive technology sees (roles, accessible names, labels), so a page that
loses a label or a landmark fails here, not in front of a screen-reader user.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Shot, log_out, nav, register
from tests.browser.i18n import T, both_languages

pytestmark = pytest.mark.browser


def _new_email() -> str:
    return f"journey-{uuid.uuid4().hex[:12]}@example.org"


def _register_from_home(page: Page, shot: Shot, email: str, name: str, *, kind: str) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(T("Have your say in how your country is run"))
    shot("home")
    nav(page).get_by_role("link", name=T("Register"), exact=True).click()

    expect(page).to_have_url("/register")
    expect(page.get_by_role("heading", level=1, name=T("Create an account"))).to_be_visible()
    page.get_by_label(T("E-mail address")).fill(email)
    page.get_by_label(T("Public name")).fill(name)
    joining = page.get_by_role("group", name=T("I am joining as"))
    joining.get_by_role("radio", name=T(kind), exact=True).check()
    page.get_by_label(T("Password"), exact=True).fill(PASSWORD)
    shot("register-filled")
    page.get_by_role("button", name=T("Create account"), exact=True).click()


@both_languages
def test_new_user_registers_logs_out_and_logs_back_in(page: Page, shot: Shot) -> None:
    email, name = _new_email(), f"Aysel {uuid.uuid4().hex[:6]}"

    _register_from_home(page, shot, email, name, kind="A foreign resident")

    # Registered and logged in at once: My account shows who they are and that nobody verified them yet.
    expect(page).to_have_url("/account?welcome=1")
    expect(page.get_by_role("heading", level=1, name=T("My account"))).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(T("Welcome, %(name)s. Your account is ready.", name=name))
    main = page.get_by_role("main")
    expect(main.get_by_role("definition").filter(has_text=name)).to_have_count(1)
    expect(main.get_by_role("definition").filter(has_text=email)).to_have_count(1)
    expect(main.get_by_role("definition").filter(has_text=T("Foreign resident"))).to_have_count(1)
    expect(main.get_by_role("definition").filter(has_text=T("Not verified yet"))).to_have_count(1)
    expect(nav(page).get_by_role("link", name=T("My account"))).to_be_visible()
    shot("account-after-registration")

    # Log out: back on the home page, told so, and offered the log-in link again.
    log_out(page)
    expect(page.get_by_role("status")).to_have_text(T("You are logged out."))
    expect(nav(page).get_by_role("link", name=T("My account"))).to_have_count(0)
    shot("logged-out")

    # Log in again through the log-in page.
    nav(page).get_by_role("link", name=T("Log in"), exact=True).click()
    expect(page).to_have_url("/login")
    expect(page.get_by_role("heading", level=1, name=T("Log in"))).to_be_visible()
    page.get_by_label(T("E-mail address")).fill(email)
    page.get_by_label(T("Password"), exact=True).fill(PASSWORD)
    shot("login-filled")
    page.get_by_role("button", name=T("Log in"), exact=True).click()

    expect(page).to_have_url("/account")
    expect(page.get_by_role("heading", level=1, name=T("My account"))).to_be_visible()
    expect(page.get_by_role("main").get_by_role("definition").filter(has_text=name)).to_have_count(1)
    expect(nav(page).get_by_role("button", name=T("Log out"), exact=True)).to_be_visible()
    shot("account-after-login")


@both_languages
def test_wrong_password_shows_the_error_summary_and_keeps_the_email(page: Page, shot: Shot) -> None:
    email = register(page, "Rashad Test", email=_new_email())
    log_out(page)

    page.goto("/login")
    page.get_by_label(T("E-mail address")).fill(email)
    page.get_by_label(T("Password"), exact=True).fill("not the password at all")
    page.get_by_role("button", name=T("Log in"), exact=True).click()

    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name=T("There is a problem"))).to_be_visible()
    expect(summary).to_contain_text(T("The e-mail address or the password is wrong."))
    # The address the user typed is still there; the password never comes back from the server.
    expect(page.get_by_label(T("E-mail address"))).to_have_value(email)
    expect(page.get_by_label(T("Password"), exact=True)).to_have_value("")
    expect(page.get_by_role("heading", level=1, name=T("Log in"))).to_be_visible()
    expect(nav(page).get_by_role("link", name=T("My account"))).to_have_count(0)
    shot("wrong-password")


def test_keyboard_user_reaches_main_content_with_the_skip_link(page: Page, shot: Shot) -> None:
    page.goto("/")
    skip = page.get_by_role("link", name=T("Skip to main content"))

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
    expect(main.get_by_role("link", name=T("Create an account"))).to_be_focused()
    shot("first-link-in-main")
