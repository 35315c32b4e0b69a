"""WCAG 2.2 AA, proven in real Chromium: axe-core on every page type, for an anonymous visitor, a
citizen and an official who holds every role, in English and in Azerbaijani; then what axe cannot
see by itself: the keyboard path through the header (skip link first, a visible focus indicator on
every control), form errors tied to their fields, polite live regions, and no sideways scrolling on
a 360 px wide phone.

The world (an agency, its official, two citizens, a consultation with a proposal, comments, a
reported comment, an answer, an appealed decision, a data request and a consent) is written with
the domain actions straight into the live server's database, as the journeys do; every page is
then visited through the browser with JavaScript on, so the live pieces are there too.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from civic.identity.models import Role
from civic.leadership import answers, appeals, moderation, reports
from civic.leadership.schemas import AnswerInput, AppealInput, ItemDecisionInput, ReportInput
from civic.participation import actions, consultations
from civic.participation.schemas import CommentInput, ConsultationInput, PhaseChange, ProposalInput
from civic.runtime import Runtime, build_runtime
from civic.trust import consents, gate, requests
from civic.trust.schemas import AnswerInput as ConsentAnswer
from civic.trust.schemas import RequestInput
from civic.wiring import import_models
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveServer, open_page
from tests.browser.test_consent_journey import _server_settings
from tests.factories import make_account, make_agency, make_official

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
LANGUAGES = ("en", "az")
PHONE = {"width": 360, "height": 740}
PageFactory = Callable[[str], Page]


# ---- the world -----------------------------------------------------------------------------


@dataclass
class World:
    agency_id: int
    consultation_id: int
    proposal_id: int
    comment_id: int  # Rashad's question on Nigar's proposal
    case_id: int  # the reported comment's moderation case
    official: str  # e-mail addresses, to log in with
    citizen: str  # Nigar: the proposal's author, asked for her data
    citizen_id: int
    appellant: str  # Rashad: his hidden comment is under appeal
    hidden_comment_id: int


@pytest.fixture(scope="module")
def world(live_server: LiveServer, production_env: dict[str, str]) -> Iterator[World]:
    runtime: Runtime = build_runtime(_server_settings(live_server, production_env))
    import_models().metadata.create_all(runtime.db.engine)  # a no-op once migrations create them all
    token = uuid.uuid4().hex[:6]
    try:
        with runtime.db.transaction() as session:
            agency = make_agency(session, "Shaki City Executive Power")
            official = make_official(
                runtime,
                session,
                agency,
                *Role,
                email=f"official-{token}@gov.example.org",
                name="Mira Official",
            )
            nigar = make_account(runtime, session, email=f"nigar-{token}@example.org", name="Nigar")
            rashad = make_account(runtime, session, email=f"rashad-{token}@example.org", name="Rashad")
            consultation = consultations.create_consultation(
                session,
                official,
                ConsultationInput(
                    agency_id=agency.id,
                    title=f"Shady streets of Shaki {token}",
                    summary="Where should the city plant trees first?",
                    body="## The plan\n\nA thousand trees by 2028. **Tell us where.**",
                    categories=["Trees", "Benches"],
                    support_threshold=3,
                ),
            )
            consultations.publish_consultation(session, official, consultation.id)
            consultations.change_phase(session, official, consultation.id, PhaseChange(phase="proposals"))
            proposal = actions.submit_proposal(
                session,
                nigar,
                consultation.id,
                ProposalInput(
                    title=f"Plane trees on the main street {token}",
                    body="Shade for the walk.",
                    category="Trees",
                ),
            )
            question = actions.post_comment(
                session, rashad, proposal.id, CommentInput(body="Would they block the shop signs?")
            )
            advert = actions.post_comment(
                session, nigar, proposal.id, CommentInput(body="Buy saplings at my shop!")
            )
            reports.file_report(
                session, rashad, "comment", advert.id, ReportInput(reason="spam", note="An advert.")
            )
            rude = actions.post_comment(
                session, rashad, proposal.id, CommentInput(body="This is a silly idea.")
            )
            case = moderation.moderate_item(
                session,
                official,
                ItemDecisionInput(
                    item_kind="comment", item_id=rude.id, decision="hide", reason="Be kind (rule 1)."
                ),
            )
            appeals.file_appeal(
                session, rashad, case.id, AppealInput(text="I only said what I think, politely.")
            )
            answers.answer_proposal(
                session,
                official,
                proposal.id,
                AnswerInput(status="under_review", text="Our gardeners are checking the street's soil."),
            )
            reported_case = reports.open_case_for(session, "comment", advert.id)
            asked = RequestInput(
                citizen_id=nigar.id,
                purpose="contact_about_proposal",
                attributes=["contact_email"],
                retention_days=30,
                message="We would like to call you back.",
            )
            requests.request_data(session, official, asked)
            granted = requests.request_data(session, official, asked)
            consents.grant(session, nigar, granted.id, ConsentAnswer(attributes=["contact_email"]))
            gate.attempt(
                session,
                official,
                nigar.id,
                "contact_email",
                "contact_about_proposal",
                "A call back",
                fernet=None,
            )
            assert reported_case is not None and reported_case.id is not None
            made = World(
                agency_id=agency.id,
                consultation_id=consultation.id,
                proposal_id=proposal.id,
                comment_id=question.id,
                case_id=reported_case.id,
                official=official.email,
                citizen=nigar.email,
                citizen_id=nigar.id,
                appellant=rashad.email,
                hidden_comment_id=rude.id,
            )
        yield made
    finally:
        runtime.close()


# ---- helpers -------------------------------------------------------------------------------


@pytest.fixture
def context_page(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest
) -> Iterator[PageFactory]:
    """A factory of fresh pages (JavaScript on, no cookies) in a given language."""
    with contextlib.ExitStack() as stack:

        def make(lang: str = "en") -> Page:
            page = stack.enter_context(open_page(browser, live_server, request))
            page.context.add_cookies([{"name": "civic_lang", "value": lang, "url": live_server.url}])
            return page

        yield make


def log_in(page: Page, email: str) -> None:
    """By the fields' ids, so it works whatever the page's language."""
    page.goto("/login")
    page.locator("#field-email").fill(email)
    page.locator("#field-password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("header form[action='/logout']")).to_have_count(1)


class Checker:
    """Visits pages and runs axe on each, collecting every failure so one run lists them all."""

    def __init__(self, page: Page, lang: str) -> None:
        self.page, self.lang = page, lang
        self.seen: list[str] = []
        self.failures: list[str] = []
        self.lesser: list[str] = []  # moderate and minor findings: printed, not failed

    def visit(self, path: str, status: int = 200) -> None:
        response = self.page.goto(path)
        answered = response.status if response else None
        if answered != status:  # listed with the rest, so one broken page does not hide the others
            self.failures.append(f"{path} answered {answered}, not {status} ({self.page.url})")
            return
        self.check(path)

    def check(self, label: str) -> None:
        self.page.wait_for_load_state("load")
        self.seen.append(label)
        try:
            lesser = assert_accessible(self.page, f"{label} [{self.lang}]")
            self.lesser += [f"{label}: {v['id']} ({v['impact']}) x{len(v['nodes'])}" for v in lesser]
        except AssertionError as failure:
            self.failures.append(str(failure))

    def done(self) -> None:
        print(f"\naxe [{self.lang}]: {len(self.seen)} pages", *self.lesser, sep="\n  ")
        assert not self.failures, "\n\n".join(self.failures)


def submit(page: Page, form: str) -> None:
    """Submit a form as it is (server-side validation answers: the forms are novalidate or filled)."""
    page.locator(form).locator("button[type=submit]").first.click()
    page.wait_for_load_state("load")


# ---- axe on every page ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_anonymous_pages_are_accessible(context_page: PageFactory, world: World, lang: str) -> None:
    page = context_page(lang)
    check = Checker(page, lang)
    for path in (
        "/",
        "/consultations",
        "/consultations?phase=proposals",
        f"/consultations/{world.consultation_id}",
        f"/proposals/{world.proposal_id}",
        "/leaderboards",
        "/transparency",
        "/dashboard",
        "/login",
        "/register",
    ):
        check.visit(path)
    check.visit("/no-such-page", status=404)
    check.visit("/proposals/999999999", status=404)

    page.goto("/login")
    page.locator("#field-email").fill("nobody@example.org")
    page.locator("#field-password").fill("not the password")
    submit(page, "main form")
    expect(page.locator(".error-summary")).to_be_visible()
    check.check("/login with an error")

    page.goto("/register")
    page.locator("#field-email").fill("not-an-address")
    page.locator("#field-password").fill("short")
    submit(page, "main form")
    expect(page.locator(".error-summary")).to_be_visible()
    check.check("/register with errors")
    check.done()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_citizen_pages_are_accessible(context_page: PageFactory, world: World, lang: str) -> None:
    page = context_page(lang)
    log_in(page, world.citizen)
    check = Checker(page, lang)
    for path in (
        "/",
        "/account",
        "/me/profile",
        f"/people/{world.citizen_id}",
        "/leaderboards",
        "/notifications",
        "/notifications/preferences",
        "/me/consents",
        "/me/data",
        "/me/data-access",
        f"/consultations/{world.consultation_id}",
        f"/proposals/{world.proposal_id}",
        f"/report/comment/{world.comment_id}",
        f"/consultations/{world.consultation_id}/proposals/new",
    ):
        check.visit(path)

    page.locator("#field-title").fill("Tree")  # too short: the form points it out
    submit(page, "main form[method=post]")
    expect(page.locator(".error-summary")).to_be_visible()
    check.check("new proposal with an error")

    page.goto("/")
    log_out = page.locator("header form[action='/logout'] button")
    log_out.click()
    log_in(page, world.appellant)
    check.visit(f"/appeal/comment/{world.hidden_comment_id}")
    check.done()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_official_pages_are_accessible(context_page: PageFactory, world: World, lang: str) -> None:
    page = context_page(lang)
    log_in(page, world.official)
    check = Checker(page, lang)
    for path in (
        "/console",
        "/console/grants",
        "/console/consultations",
        "/console/consultations/new",
        f"/console/consultations/{world.consultation_id}/edit",
        "/console/scorecard",
        "/moderation",
        f"/moderation/cases/{world.case_id}",
        f"/moderation/items/comment/{world.comment_id}",
        "/moderation/appeals",
        "/moderation/blocks",
        f"/moderation/dashboard?agency={world.agency_id}",
        f"/proposals/{world.proposal_id}",
        f"/proposals/{world.proposal_id}/answer",
        "/data/requests",
        "/data/read",
        f"/data/consultations/{world.consultation_id}/profile",
        "/registrar",
        "/transparency",
        "/dashboard",
        "/notifications",
        "/account",
    ):
        check.visit(path)

    page.goto("/console/consultations/new")
    page.locator("#field-title").fill("No")
    submit(page, "main form[method=post]")
    expect(page.locator(".error-summary")).to_be_visible()
    check.check("new consultation with errors")

    page.goto(f"/moderation/cases/{world.case_id}")
    submit(page, "main form[method=post]")
    expect(page.locator(".error-summary")).to_be_visible()
    check.check("case decision with an error")
    check.done()


# ---- what axe cannot see by itself ---------------------------------------------------------

# Every control a Tab can reach is numbered, and its look without focus noted, before any is focused.
FOCUSABLE = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), "
    "textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])"
)
STYLE = """el => {
  const s = getComputedStyle(el);
  return {outline: s.outlineStyle === 'none' || s.outlineColor === 'rgba(0, 0, 0, 0)' ? 'none'
                   : s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor,
          width: parseFloat(s.outlineWidth), shadow: s.boxShadow, background: s.backgroundColor};
}"""
NUMBER_FOCUSABLES = f"""selector => [...document.querySelectorAll(selector)].map((el, i) => {{
  el.setAttribute('data-focus-index', i);
  const text = (el.getAttribute('aria-label') || el.textContent || el.name || el.id || '').trim();
  return {{text: text.replace(/\\s+/g, ' ').slice(0, 60), inHeader: !!el.closest('header'),
          style: ({STYLE})(el)}};
}})"""
FOCUSED = f"""() => {{
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const r = el.getBoundingClientRect();
  return {{index: el.getAttribute('data-focus-index'), cls: String(el.className || ''),
          id: el.id, inHeader: !!el.closest('header'), inMain: !!el.closest('main'),
          visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth,
          style: ({STYLE})(el)}};
}}"""


def _shows_focus(before: dict, after: dict) -> bool:
    """An outline of 2 px or more, a shadow or a background that the control does not have unfocused."""
    outlined = after["outline"] != "none" and after["width"] >= 2 and after["outline"] != before["outline"]
    shadowed = after["shadow"] != "none" and after["shadow"] != before["shadow"]
    return outlined or shadowed or after["background"] != before["background"]


def _walk(page: Page, area: str, limit: int = 200) -> tuple[list[str], list[str]]:
    """Tab on through `area` ("header" or "main") from where focus is; every stop must be on screen
    and visibly focused. Returns the controls reached, in order, and all the header's controls (as
    "number: name", numbered before the first Tab, since a name may change meanwhile)."""
    controls = page.evaluate(NUMBER_FOCUSABLES, FOCUSABLE)
    reached: list[str] = []
    problems: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None or not focused["in" + area.capitalize()]:
            if reached or area == "header":
                break
            continue  # not there yet (the header comes before main)
        if focused["index"] is None:
            problems.append(f"an unexpected stop: {focused}")
            continue
        control = controls[int(focused["index"])]
        if not focused["visible"]:
            problems.append(f"{control['text']!r} is focused but off screen")
        if not _shows_focus(control["style"], focused["style"]):
            problems.append(f"{control['text']!r} shows no focus: {control['style']} -> {focused['style']}")
        reached.append(f"{focused['index']}: {control['text']}")
    assert not problems, f"{page.url} ({area}):\n" + "\n".join(problems)
    return reached, [f"{i}: {c['text']}" for i, c in enumerate(controls) if c["inHeader"]]


def _tab_through_header(page: Page) -> None:
    """From the top: the skip link first, then every control in the header, in order."""
    page.locator("body").focus()
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED)
    assert first is not None and "skip-link" in first["cls"], f"the first Tab reached {first}"
    assert first["visible"], "the skip link must be on screen when focused"
    reached, expected = _walk(page, "header")
    assert reached == expected, f"Tab order through the header: {reached}, expected {expected}"


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_keyboard_reaches_the_skip_link_first_and_every_header_control_with_a_visible_focus(
    context_page: PageFactory, world: World, viewport: dict[str, int] | None
) -> None:
    page = context_page("en")
    if viewport:
        page.set_viewport_size(viewport)
    page.goto("/")
    _tab_through_header(page)

    # The skip link moves focus to the main content.
    page.goto("/consultations")
    page.locator("body").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "main"

    log_in(page, world.official)  # the longest header: every official link and the log-out button
    page.goto("/")
    _tab_through_header(page)


@pytest.mark.parametrize("who", ["citizen", "official"])
def test_every_control_in_the_main_content_shows_its_focus(
    context_page: PageFactory, world: World, who: str
) -> None:
    page = context_page("en")
    log_in(page, world.citizen if who == "citizen" else world.official)
    if who == "citizen":
        paths = [
            "/consultations",
            f"/consultations/{world.consultation_id}",
            f"/proposals/{world.proposal_id}",
            f"/consultations/{world.consultation_id}/proposals/new",
            "/me/profile",
            "/me/consents",
            "/me/data",
            "/notifications/preferences",
        ]
    else:
        paths = [
            "/console/consultations/new",
            f"/moderation/cases/{world.case_id}",
            "/moderation",
            "/transparency",
            "/data/requests",
            f"/moderation/dashboard?agency={world.agency_id}",
        ]
    for path in paths:
        page.goto(path)
        page.locator("body").focus()
        assert _walk(page, "main")[0], f"{path}: Tab never reached the main content"


ERROR_WIRING = """() => {
  const problems = [];
  const described = new Set([...document.querySelectorAll('[aria-describedby]')]
    .flatMap(e => e.getAttribute('aria-describedby').split(/\\s+/)));
  for (const message of document.querySelectorAll('.field-error')) {
    const text = message.textContent.trim();
    if (!message.id) problems.push('an error message without an id: ' + text);
    else if (!described.has(message.id)) problems.push('nothing is described by #' + message.id + ': ' + text);
  }
  const controls = '.field--error input:not([type=radio]):not([type=checkbox]):not([type=hidden]), '
    + '.field--error select, .field--error textarea';
  for (const control of document.querySelectorAll(controls))
    if (control.getAttribute('aria-invalid') !== 'true') problems.push('#' + control.id + ' is not aria-invalid');
  for (const link of document.querySelectorAll('.error-summary a[href^="#"]')) {
    const target = document.getElementById(link.getAttribute('href').slice(1));
    if (!target) problems.push('the summary links to a missing ' + link.getAttribute('href'));
    else if (!target.matches('input, select, textarea, button, a[href], [tabindex]'))
      problems.push('the summary links to ' + link.getAttribute('href') + ', which cannot take focus');
  }
  return problems;
}"""


def _errors_are_tied(page: Page, label: str) -> list[str]:
    """The error summary has focus and links to focusable fields (a click moves focus there); each
    message is some control's description; each control in error is aria-invalid."""
    problems = [f"{label}: {problem}" for problem in page.evaluate(ERROR_WIRING)]
    summary = page.locator(".error-summary")
    if summary.count() != 1:
        return [*problems, f"{label}: {summary.count()} error summaries"]
    if summary.get_attribute("role") != "alert" or summary.get_attribute("tabindex") != "-1":
        problems.append(f"{label}: the summary is not a focusable alert")
    try:  # autofocus is applied at the first rendering after load, a moment after the load event
        page.wait_for_function(
            "document.activeElement && document.activeElement.classList.contains('error-summary')",
            timeout=3000,
        )
    except PlaywrightTimeout:
        problems.append(f"{label}: the summary does not have focus when the page opens")
    for href in summary.locator("a[href^='#']").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        summary.locator(f"a[href='{href}']").first.click()
        if page.evaluate("document.activeElement && document.activeElement.id") != href[1:]:
            problems.append(f"{label}: following {href} from the summary does not move focus there")
    return problems


def test_form_errors_are_tied_to_their_fields(context_page: PageFactory, world: World) -> None:
    page = context_page("en")
    problems: list[str] = []

    def after_submit(path: str, fill: dict[str, str] | None = None) -> None:
        page.goto(path)
        for selector, value in (fill or {}).items():
            page.locator(selector).fill(value)
        submit(page, "main form[method=post]")
        expect(page.locator(".error-summary")).to_have_count(1)
        problems.extend(_errors_are_tied(page, path))

    after_submit("/login")
    after_submit("/register")

    log_in(page, world.citizen)
    after_submit(f"/consultations/{world.consultation_id}/proposals/new", {"#field-title": "Tree"})
    # The message for the title is the field's own description, word for word.
    field = page.locator("#field-title")
    expect(field).to_have_attribute("aria-invalid", "true")
    described = (field.get_attribute("aria-describedby") or "").split()
    link_text = page.locator(".error-summary a[href='#field-title']").inner_text().strip()
    assert any(link_text in page.locator(f"#{ident}").inner_text() for ident in described), described
    after_submit(f"/report/comment/{world.comment_id}")

    page.locator("header form[action='/logout'] button").click()
    log_in(page, world.official)
    after_submit("/console/consultations/new", {"#field-title": "No"})
    after_submit(f"/moderation/cases/{world.case_id}")
    after_submit(f"/proposals/{world.proposal_id}/answer")
    after_submit("/data/requests", {"#field-retention_days": ""})
    after_submit("/data/read")
    assert not problems, "\n".join(problems)


def test_live_regions_are_polite(context_page: PageFactory, world: World) -> None:
    page = context_page("en")
    log_in(page, world.official)
    for path in (
        "/",
        f"/consultations/{world.consultation_id}",
        f"/proposals/{world.proposal_id}",
        "/dashboard",
        f"/moderation/dashboard?agency={world.agency_id}",
    ):
        page.goto(path)
        regions = page.locator("[aria-live]").evaluate_all(
            "els => els.map(e => [e.id, e.getAttribute('aria-live')])"
        )
        assert regions and all(value == "polite" for _, value in regions), (path, regions)
        # Statuses are polite by nature; alerts are kept for errors the reader must hear at once.
        alerts = page.locator("[role=alert]").evaluate_all("els => els.map(e => e.className)")
        assert all("error-summary" in cls for cls in alerts), (path, alerts)

    announcer = page.locator("#live-announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    page.evaluate("window.civicLive.announce('Three new supports')")
    expect(announcer).to_have_text("Three new supports")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_main_pages_fit_a_360_pixel_wide_phone(
    context_page: PageFactory, world: World, lang: str
) -> None:
    page = context_page(lang)
    page.set_viewport_size(PHONE)
    too_wide = []

    def visit_all(paths: tuple[str, ...]) -> None:
        for path in paths:
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                culprits = page.evaluate(
                    """w => [...document.querySelectorAll('body *')]
                        .filter(e => e.getBoundingClientRect().right > w + 0.5)
                        .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                          (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : ''))""",
                    PHONE["width"],
                )
                too_wide.append(f"{path}: {width}px wide, {culprits}")

    visit_all(
        (
            "/",
            "/consultations",
            f"/consultations/{world.consultation_id}",
            f"/proposals/{world.proposal_id}",
            "/leaderboards",
            "/transparency",
            "/dashboard",
            "/login",
            "/register",
        )
    )
    log_in(page, world.official)
    visit_all(
        (
            "/console",
            "/console/consultations",
            "/moderation",
            f"/moderation/cases/{world.case_id}",
            f"/moderation/dashboard?agency={world.agency_id}",
            "/console/scorecard",
            "/data/requests",
            "/notifications",
        )
    )
    assert not too_wide, "\n".join(too_wide)
