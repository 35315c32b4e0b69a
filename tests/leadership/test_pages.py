"""Leadership's HTML pages, through the app as a browser without JavaScript uses them: GET pages,
POST forms with the CSRF token, a 303 with `?done=` on success, and on a refusal the form again
with the error summary, the typed text kept and the status the API would give.

Also the proposal page's additions: the official answer signed with name, role and agency, the
author's view of a moderation reason, and the Report / Hide / Answer links for those who may use
them (and for no one else).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from civic.identity.models import Role
from civic.participation.models import Comment, Proposal
from civic.runtime import Runtime
from tests.events.conftest import settle
from tests.leadership.conftest import Scene, comment, official, proposal
from tests.participation.conftest import Browser, OpenBrowser, load, snapshot

REASON = "Advertising unrelated to the consultation (rule 2)."
ANSWER = "Accepted: night buses start on the main lines in May."


def submit(b: Browser, url: str, **fields: Any) -> Any:
    """Post a form as the page would (the CSRF token in a field), without following the redirect."""
    return b.client.post(url, data={"csrf_token": b.token, **fields}, follow_redirects=False)


def text(response: Any) -> str:
    """The page's visible words, tags dropped and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())


@pytest.fixture
def reported(runtime: Runtime, scene: Scene, browser: OpenBrowser) -> dict[str, Any]:
    """Leyla's proposal, Kamal's spam comment on it, and Rashad's report of it through its form."""
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    c = comment(runtime, w.kamal, p.id)
    rashad = browser(w.rashad)
    response = submit(rashad, f"/report/comment/{c.id}", reason="spam", note="An advert for watches.")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/proposals/{p.id}?done=reported#comment-{c.id}"
    return {"proposal": p, "comment": c}


def _case_id(browser: OpenBrowser, scene: Scene) -> int:
    return int(browser(scene.moderator).get("/api/moderation/cases").json()["items"][0]["id"])


# ---- reporting ---------------------------------------------------------------------------------


def test_the_report_form(runtime: Runtime, scene: Scene, browser: OpenBrowser) -> None:
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    c = comment(runtime, w.kamal, p.id)
    url = f"/report/comment/{c.id}"

    anonymous = browser().client.get(url, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")

    aysel = browser(w.aysel)
    page = aysel.client.get(url)
    assert page.status_code == 200
    assert "What is wrong with it?" in text(page) and "This is spam, buy now." in page.text
    assert "<legend>What is wrong with it?</legend>" in page.text

    before = snapshot(runtime)
    refused = submit(aysel, url, note="I did not choose a reason")
    assert refused.status_code == 422
    assert "There is a problem" in refused.text and 'href="#field-reason"' in refused.text
    assert "I did not choose a reason" in refused.text  # the text typed is kept
    assert snapshot(runtime) == before

    assert submit(aysel, url, reason="offensive").status_code == 303
    again = submit(aysel, url, reason="offensive")
    assert again.status_code == 409 and "already reported" in again.text
    assert browser(w.kamal).client.get(f"/report/proposal/{2**31 - 1}").status_code == 404


# ---- the queue and a case ----------------------------------------------------------------------


def test_the_queue_lists_the_case_with_filters_for_moderators_only(
    runtime: Runtime, scene: Scene, browser: OpenBrowser, reported: dict[str, Any]
) -> None:
    moderator = browser(scene.moderator)
    page = moderator.client.get("/moderation")
    assert page.status_code == 200
    words = text(page)
    assert "Moderation queue" in words and "1 case" in words and "This is spam, buy now." in words
    for label in ("State", "Agency", "Consultation", "Why it is here", "Kind"):
        assert f">{label}</label>" in page.text
    assert 'name="case_ids"' in page.text and "Decide selected cases" in words
    assert "0 cases" in text(moderator.client.get("/moderation?kind=proposal"))
    assert "0 cases" in text(moderator.client.get("/moderation?state=decided"))

    assert browser(scene.world.leyla).client.get("/moderation").status_code == 403
    assert "0 cases" in text(browser(scene.other_moderator).client.get("/moderation"))
    anonymous = browser().client.get("/moderation", follow_redirects=False)
    assert anonymous.status_code == 303


def test_deciding_a_case_and_losing_the_race_to_another_moderator(
    runtime: Runtime, scene: Scene, browser: OpenBrowser, reported: dict[str, Any]
) -> None:
    case_id = _case_id(browser, scene)
    url = f"/moderation/cases/{case_id}"
    first, second = browser(scene.moderator), browser(scene.second_moderator)

    page = first.client.get(url)
    assert page.status_code == 200
    words = text(page)
    assert "Spam" in words and "An advert for watches." in words
    assert "Rashad" not in words  # the reporter is never named
    assert "Hide it" in words and "Keep it as it is" in words
    second_page = second.client.get(url)  # both have the form open

    before = snapshot(runtime)
    refused = submit(first, url, decision="hide", reason="")
    assert refused.status_code == 422 and 'href="#field-reason"' in refused.text
    assert snapshot(runtime) == before

    done = submit(first, url, decision="hide", reason=REASON)
    assert done.status_code == 303 and done.headers["location"] == f"{url}?done=decided"
    assert load(runtime, Comment, reported["comment"].id).status == "hidden"
    assert "The author is told your reason" in text(first.client.get(done.headers["location"]))

    assert "Record decision" in second_page.text
    late = submit(second, url, decision="keep", reason="It looks harmless to me.")
    assert late.status_code == 409
    words = text(late)
    assert "Another moderator decided this case first" in words
    assert "Another moderator decided this first" in words and REASON in words and "Moderator" in words
    assert "It looks harmless to me." in late.text or "Record decision" not in late.text


def test_bulk_decisions_from_the_queue(
    runtime: Runtime, scene: Scene, browser: OpenBrowser, reported: dict[str, Any]
) -> None:
    w = scene.world
    other = comment(runtime, w.aysel, reported["proposal"].id, "Cheap watches, follow the link.")
    assert submit(browser(w.leyla), f"/report/comment/{other.id}", reason="spam").status_code == 303
    moderator = browser(scene.moderator)
    ids = [c["id"] for c in moderator.get("/api/moderation/cases").json()["items"]]
    assert len(ids) == 2

    refused = moderator.client.post(
        "/moderation/bulk", data={"csrf_token": moderator.token, "decision": "hide", "reason": REASON}
    )
    assert refused.status_code == 422 and "Tick the cases to decide." in refused.text

    done = moderator.client.post(
        "/moderation/bulk",
        data={
            "csrf_token": moderator.token,
            "case_ids": [str(i) for i in ids],
            "decision": "hide",
            "reason": REASON,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and "done=bulk&count=2" in done.headers["location"]
    assert "2 cases decided." in text(moderator.client.get(done.headers["location"]))
    assert load(runtime, Comment, other.id).status == "hidden"


def test_hiding_from_the_proposal_page_and_the_authors_view(
    runtime: Runtime, scene: Scene, browser: OpenBrowser
) -> None:
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    c = comment(runtime, w.kamal, p.id)
    moderator = browser(scene.moderator)

    page = text(moderator.client.get(f"/proposals/{p.id}"))
    assert "Hide the comment by Kamal" in page and "Hide this proposal" in page
    assert "Report" not in page.replace("Reported", "")  # officials moderate, they do not report
    form = moderator.client.get(f"/moderation/items/comment/{c.id}?decision=hide")
    assert form.status_code == 200 and 'value="hide" checked' in form.text
    assert browser(w.rashad).client.get(f"/moderation/items/comment/{c.id}").status_code == 403

    done = submit(moderator, f"/moderation/items/comment/{c.id}", decision="hide", reason=REASON)
    assert done.status_code == 303
    assert done.headers["location"] == f"/proposals/{p.id}?done=moderated#comment-{c.id}"

    author = text(browser(w.kamal).client.get(f"/proposals/{p.id}"))
    assert "A moderator hid your comment" in author and REASON in author and "Appeal this decision" in author
    for viewer in (browser(w.rashad), browser()):
        assert REASON not in viewer.client.get(f"/proposals/{p.id}").text


# ---- appeals and blocks ------------------------------------------------------------------------


def test_an_author_appeals_and_a_different_moderator_decides(
    runtime: Runtime, scene: Scene, browser: OpenBrowser
) -> None:
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    assert (
        submit(
            browser(scene.moderator), f"/moderation/items/proposal/{p.id}", decision="hide", reason=REASON
        ).status_code
        == 303
    )
    leyla = browser(w.leyla)
    own = text(leyla.client.get(f"/proposals/{p.id}"))
    assert "Hidden by moderation" in own and REASON in own

    url = f"/appeal/proposal/{p.id}"
    assert browser(w.kamal).client.get(url).status_code == 404
    assert REASON in text(leyla.client.get(url))
    assert submit(leyla, url, text="too short").status_code == 422
    sent = submit(leyla, url, text="It is about buses and on topic; please look again.")
    assert sent.status_code == 303 and sent.headers["location"] == f"/proposals/{p.id}?done=appealed"

    assert "No appeal is waiting for you." in text(browser(scene.moderator).client.get("/moderation/appeals"))
    second = browser(scene.second_moderator)
    listing = second.client.get("/moderation/appeals")
    assert "It is about buses" in text(listing)
    appeal_id = int(re.search(r'action="/moderation/appeals/(\d+)"', listing.text).group(1))
    refused = submit(second, f"/moderation/appeals/{appeal_id}", outcome="overturned", reason="")
    assert refused.status_code == 422 and f'id="field-reason-{appeal_id}"' in refused.text
    done = submit(second, f"/moderation/appeals/{appeal_id}", outcome="overturned", reason="It is on topic.")
    assert done.status_code == 303
    assert load(runtime, Proposal, p.id).status == "published"


def test_blocking_and_unblocking_from_the_pages(runtime: Runtime, scene: Scene, browser: OpenBrowser) -> None:
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    c = comment(runtime, w.kamal, p.id)
    moderator = browser(scene.moderator)
    url = f"/moderation/accounts/{w.kamal.id}/block"
    form = moderator.client.get(f"{url}?agency={w.agency.id}")
    assert form.status_code == 200 and "Block Kamal" in text(form)
    assert submit(moderator, url, agency_id=str(w.agency.id), reason="").status_code == 422
    done = submit(moderator, url, agency_id=str(w.agency.id), reason="Repeated advertising.")
    assert done.status_code == 303 and done.headers["location"] == "/moderation/blocks?done=blocked"
    assert load(runtime, Comment, c.id).status == "hidden"
    listing = text(moderator.client.get("/moderation/blocks"))
    assert "Kamal" in listing and "1 item hidden" in listing

    lifted = submit(moderator, f"/moderation/accounts/{w.kamal.id}/unblock", reason="He apologised.")
    assert lifted.status_code == 303
    assert load(runtime, Comment, c.id).status == "published"


# ---- answers, notifications, transparency -----------------------------------------------------


def test_a_responder_answers_and_the_proposal_page_shows_the_signed_answer(
    runtime: Runtime, scene: Scene, browser: OpenBrowser
) -> None:
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    with runtime.db.transaction() as s:
        rena = official(s, runtime, "Rena Responder", w.agency.id, Role.RESPONDER)
    responder = browser(rena)
    assert "Answer this proposal" in text(responder.client.get(f"/proposals/{p.id}"))
    for other in (browser(w.leyla), browser(scene.moderator), browser()):
        assert f'href="/proposals/{p.id}/answer"' not in other.client.get(f"/proposals/{p.id}").text
    assert browser(scene.moderator).client.get(f"/proposals/{p.id}/answer").status_code == 403

    url = f"/proposals/{p.id}/answer"
    assert responder.client.get(url).status_code == 200
    before = snapshot(runtime)
    refused = submit(responder, url, status="accepted", text="")
    assert refused.status_code == 422 and 'href="#field-text"' in refused.text
    assert snapshot(runtime) == before
    done = submit(responder, url, status="accepted", text=ANSWER)
    assert done.status_code == 303 and done.headers["location"] == f"/proposals/{p.id}?done=answered#answers"

    page = text(browser().client.get(f"/proposals/{p.id}"))
    assert "Official answer" in page and ANSWER in page
    assert f"Rena Responder, responder, {w.agency.name}" in page
    assert "Official answer: Accepted" in page  # the badge

    settle(runtime)
    leyla = browser(w.leyla)
    inbox = leyla.client.get("/notifications")
    assert inbox.status_code == 200 and "1 unread" in text(inbox) and ANSWER in text(inbox)
    read = submit(leyla, "/notifications/read")
    assert read.status_code == 303 and read.headers["location"] == "/notifications?done=read"
    assert "0 unread" in text(leyla.client.get("/notifications"))
    assert browser().client.get("/notifications", follow_redirects=False).status_code == 303


def test_the_transparency_page_and_an_officials_scorecard(
    runtime: Runtime, scene: Scene, browser: OpenBrowser
) -> None:
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    with runtime.db.transaction() as s:
        rena = official(s, runtime, "Rena Responder", w.agency.id, Role.RESPONDER)
    assert (
        submit(browser(rena), f"/proposals/{p.id}/answer", status="under_review", text=ANSWER).status_code
        == 303
    )

    page = browser().client.get("/transparency")
    assert page.status_code == 200
    words = text(page)
    assert "Agencies' scorecards" in words and w.agency.name in words
    assert "Public action log" in words and "proposal.answer" in words and "Rena Responder" in words
    assert '<th scope="col">' in page.text
    filtered = text(browser().client.get(f"/transparency?agency={w.other_agency.id}"))
    assert "0 acts" in filtered

    mine = browser(rena).client.get("/console/scorecard")
    assert mine.status_code == 200 and "Proposals answered" in text(mine) and "Rena Responder" in text(mine)
    assert browser(w.leyla).client.get("/console/scorecard").status_code == 403
