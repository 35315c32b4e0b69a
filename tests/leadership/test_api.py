"""Leadership's JSON API end to end: every endpoint answers with its documented model, refuses with
the one error shape (and the status the issue names), and writes nothing when it refuses.

The race between two moderators is played in order here (the second request arrives after the
first committed); its concurrent form is in test_moderation. What this file proves is the API's
side of it: the loser's 409 carries the case as the winner left it, in `error.current`.
"""

from __future__ import annotations

from typing import Any

import pytest

from civic.identity.models import Role
from civic.leadership.models import Appeal, ModerationCase
from civic.participation.models import Comment, Phase, Proposal
from civic.runtime import Runtime
from tests.events.conftest import settle
from tests.leadership.conftest import Scene, comment, official, proposal
from tests.participation.conftest import OpenBrowser, error, load, set_phase, snapshot

REASON = "Advertising unrelated to the consultation (rule 2)."
ANSWER = "Accepted: night buses start on the main lines in May."


@pytest.fixture
def reported(runtime: Runtime, scene: Scene, browser: OpenBrowser) -> dict[str, Any]:
    """Leyla's proposal with Kamal's spam comment on it, reported by Rashad through the API."""
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    c = comment(runtime, w.kamal, p.id)
    response = browser(w.rashad).post(
        "/api/reports", {"item_kind": "comment", "item_id": c.id, "reason": "spam", "note": "An advert."}
    )
    assert response.status_code == 201, response.text
    return {"proposal": p, "comment": c, "report": response.json()}


def _responder(runtime: Runtime, scene: Scene, name: str = "Rena Responder") -> Any:
    with runtime.db.transaction() as s:
        return official(s, runtime, name, scene.world.agency.id, Role.RESPONDER)


# ---- reports -----------------------------------------------------------------------------------


def test_a_report_opens_a_case_that_names_its_reason_but_never_its_reporter(
    runtime: Runtime, scene: Scene, browser: OpenBrowser, reported: dict[str, Any]
) -> None:
    report = reported["report"]
    assert report["item_kind"] == "comment" and report["reason"] == "spam" and report["case_id"]
    moderator = browser(scene.moderator)
    queue = moderator.get("/api/moderation/cases").json()
    assert queue["total"] == 1
    [case] = queue["items"]
    assert case["id"] == report["case_id"] and case["origin"] == "reports" and case["report_count"] == 1

    detail = moderator.get(f"/api/moderation/cases/{case['id']}").json()
    assert detail["item_html"] and "spam" in detail["item_html"].lower()
    assert detail["author_name"] == "Kamal"
    assert [(r["reason"], r["note"]) for r in detail["reports"]] == [("spam", "An advert.")]
    assert "Rashad" not in str(detail) and "reporter" not in str(detail)
    assert moderator.get("/api/moderation/cases", item_kind="proposal").json()["total"] == 0


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        (None, {"item_kind": "comment", "reason": "spam"}, 401),
        ("rashad", {"item_kind": "comment", "reason": "spam"}, 409),  # twice
        ("kamal", {"item_kind": "comment", "reason": "spam"}, 409),  # one's own comment
        ("moderator", {"item_kind": "comment", "reason": "spam"}, 403),  # officials moderate instead
        ("aysel", {"item_kind": "comment", "reason": "rude"}, 422),
        ("aysel", {"item_kind": "poll", "reason": "spam"}, 422),
        ("aysel", {"item_kind": "proposal", "item_id": 2**31 - 1, "reason": "spam"}, 404),
    ],
)
def test_bad_reports_are_refused_and_write_nothing(
    runtime: Runtime,
    scene: Scene,
    browser: OpenBrowser,
    reported: dict[str, Any],
    who: str | None,
    body: dict[str, Any],
    status: int,
) -> None:
    body = {"item_id": reported["comment"].id, **body}
    before = snapshot(runtime)
    account = getattr(scene.world, who) if who else None
    b = browser(account) if account is not None else browser()
    err = error(b.post("/api/reports", body), status)
    assert err["message"]
    if status == 422:
        assert err["fields"]
    assert snapshot(runtime) == before


# ---- deciding ----------------------------------------------------------------------------------


def test_a_decision_needs_a_reason_and_the_second_moderator_gets_409_with_the_current_case(
    runtime: Runtime, scene: Scene, browser: OpenBrowser, reported: dict[str, Any]
) -> None:
    case_id = reported["report"]["case_id"]
    first, second = browser(scene.moderator), browser(scene.second_moderator)
    url = f"/api/moderation/cases/{case_id}/decision"

    before = snapshot(runtime)
    assert "reason" in error(first.post(url, {"decision": "hide", "reason": ""}), 422)["fields"]
    assert "reason" in error(first.post(url, {"decision": "hide"}), 422)["fields"]
    assert snapshot(runtime) == before

    decided = first.post(url, {"decision": "hide", "reason": REASON})
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "decided" and decided.json()["decided_by"] == "Moderator"
    assert load(runtime, Comment, reported["comment"].id).status == "hidden"

    after = snapshot(runtime)
    err = error(second.post(url, {"decision": "keep", "reason": "Looks fine to me."}), 409)
    assert err["code"] == "already_decided"
    current = err["current"]
    assert current["id"] == case_id and current["decision"] == "hide" and current["reason"] == REASON
    assert current["decided_by"] == "Moderator"
    assert snapshot(runtime) == after
    assert load(runtime, ModerationCase, case_id).decision == "hide"


def test_moderators_of_another_agency_and_citizens_cannot_see_or_decide_the_case(
    runtime: Runtime, scene: Scene, browser: OpenBrowser, reported: dict[str, Any]
) -> None:
    case_id = reported["report"]["case_id"]
    outsider = browser(scene.other_moderator)
    assert outsider.get("/api/moderation/cases").json()["total"] == 0
    assert error(outsider.get(f"/api/moderation/cases/{case_id}"), 403)["message"]
    before = snapshot(runtime)
    message = error(
        outsider.post(f"/api/moderation/cases/{case_id}/decision", {"decision": "hide", "reason": REASON}),
        403,
    )["message"]
    assert "moderator" in message
    assert snapshot(runtime) == before
    citizen = browser(scene.world.leyla)
    assert error(citizen.get("/api/moderation/cases"), 403)
    assert error(browser().get("/api/moderation/cases"), 401)
    assert error(browser(scene.moderator).get("/api/moderation/cases", state="maybe"), 422)["fields"]


def test_bulk_decisions_report_each_case(
    runtime: Runtime, scene: Scene, browser: OpenBrowser, reported: dict[str, Any]
) -> None:
    w = scene.world
    other = comment(runtime, w.aysel, reported["proposal"].id, "Buy cheap watches here.")
    second_case = (
        browser(w.leyla)
        .post("/api/reports", {"item_kind": "comment", "item_id": other.id, "reason": "spam"})
        .json()["case_id"]
    )
    first_case = reported["report"]["case_id"]
    moderator = browser(scene.moderator)
    moderator.post(
        f"/api/moderation/cases/{first_case}/decision", {"decision": "keep", "reason": "Not spam."}
    )

    response = moderator.post(
        "/api/moderation/decisions",
        {"case_ids": [first_case, second_case], "decision": "hide", "reason": REASON},
    )
    assert response.status_code == 200, response.text
    by_case = {o["case_id"]: o for o in response.json()["items"]}
    assert by_case[second_case]["ok"] and by_case[second_case]["case"]["decision"] == "hide"
    assert not by_case[first_case]["ok"] and by_case[first_case]["code"] == "already_decided"
    assert by_case[first_case]["case"]["decision"] == "keep"
    assert load(runtime, Comment, other.id).status == "hidden"
    assert load(runtime, Comment, reported["comment"].id).status == "published"
    assert (
        "case_ids"
        in error(
            moderator.post(
                "/api/moderation/decisions", {"case_ids": [], "decision": "hide", "reason": REASON}
            ),
            422,
        )["fields"]
    )


# ---- direct moderation, appeals, blocks -------------------------------------------------------


def test_hide_directly_then_appeal_to_a_different_moderator_who_restores(
    runtime: Runtime, scene: Scene, browser: OpenBrowser
) -> None:
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    moderator, second = browser(scene.moderator), browser(scene.second_moderator)
    hidden = moderator.post(
        "/api/moderation/items",
        {"item_kind": "proposal", "item_id": p.id, "decision": "hide", "reason": REASON},
    )
    assert hidden.status_code == 200, hidden.text
    case = hidden.json()
    assert case["origin"] == "direct" and case["decision"] == "hide"
    assert load(runtime, Proposal, p.id).moderation_reason == REASON

    author = browser(w.leyla)
    text = "My proposal is about buses, not advertising; please read it again."
    assert error(browser(w.kamal).post(f"/api/moderation/cases/{case['id']}/appeal", {"text": text}), 404)
    appeal = author.post(f"/api/moderation/cases/{case['id']}/appeal", {"text": text})
    assert appeal.status_code == 201, appeal.text
    assert error(author.post(f"/api/moderation/cases/{case['id']}/appeal", {"text": text}), 409)
    appeal_id = appeal.json()["id"]

    assert moderator.get("/api/moderation/appeals").json()["items"] == []  # not to the one who decided
    assert [a["id"] for a in second.get("/api/moderation/appeals").json()["items"]] == [appeal_id]
    url = f"/api/moderation/appeals/{appeal_id}/decision"
    assert error(moderator.post(url, {"outcome": "overturned", "reason": "I was wrong."}), 403)
    assert error(second.post(url, {"outcome": "overturned"}), 422)["fields"]
    decided = second.post(url, {"outcome": "overturned", "reason": "It is on topic."})
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "overturned"
    assert load(runtime, Proposal, p.id).status == "published"
    assert load(runtime, Appeal, appeal_id).decided_by_id == scene.second_moderator.id


def test_block_and_unblock_an_account(runtime: Runtime, scene: Scene, browser: OpenBrowser) -> None:
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    c = comment(runtime, w.kamal, p.id)
    moderator = browser(scene.moderator)
    body = {"agency_id": w.agency.id, "reason": "Repeated advertising."}
    blocked = moderator.post(f"/api/accounts/{w.kamal.id}/block", body)
    assert blocked.status_code == 201, blocked.text
    assert blocked.json()["hidden_count"] == 1 and blocked.json()["lifted_at"] is None
    assert load(runtime, Comment, c.id).status == "hidden"
    assert error(moderator.post(f"/api/accounts/{w.kamal.id}/block", body), 409)
    assert error(browser(scene.other_moderator).post(f"/api/accounts/{w.leyla.id}/block", body), 403)
    assert error(moderator.post(f"/api/accounts/{w.leyla.id}/block", {"agency_id": w.agency.id}), 422)

    lifted = moderator.post(f"/api/accounts/{w.kamal.id}/unblock", {"reason": "He apologised."})
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["lifted_at"] is not None
    assert load(runtime, Comment, c.id).status == "published"


# ---- answers and the inbox -------------------------------------------------------------------


def test_a_responder_answers_and_the_author_is_notified(
    runtime: Runtime, scene: Scene, browser: OpenBrowser
) -> None:
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    set_phase(runtime, w.convener, scene.consultation.id, Phase.SUPPORT)
    browser(w.kamal).put(f"/api/proposals/{p.id}/support")
    responder = browser(_responder(runtime, scene))
    url = f"/api/proposals/{p.id}/answers"

    before = snapshot(runtime)
    assert "text" in error(responder.post(url, {"status": "accepted", "text": ""}), 422)["fields"]
    assert error(browser(scene.moderator).post(url, {"status": "accepted", "text": ANSWER}), 403)["message"]
    assert error(browser(w.leyla).post(url, {"status": "accepted", "text": ANSWER}), 403)
    assert snapshot(runtime) == before

    answered = responder.post(url, {"status": "accepted", "text": ANSWER})
    assert answered.status_code == 201, answered.text
    a = answered.json()
    assert (a["status"], a["official_name"], a["official_role"], a["agency_name"]) == (
        "accepted",
        "Rena Responder",
        "responder",
        w.agency.name,
    )
    history = browser().get(url).json()
    assert history["current_status"] == "accepted" and [x["text"] for x in history["items"]] == [ANSWER]

    settle(runtime)
    leyla, kamal = browser(w.leyla), browser(w.kamal)
    inbox = leyla.get("/api/notifications").json()
    assert inbox["unread"] == 1 and inbox["items"][0]["url"] == f"/proposals/{p.id}"
    assert ANSWER in inbox["items"][0]["body"]
    assert kamal.get("/api/notifications").json()["unread"] == 1  # a supporter hears too
    marked = leyla.post("/api/notifications/read", {})
    assert marked.json() == {"marked": 1, "unread": 0}
    assert leyla.get("/api/notifications", unread="true").json()["items"] == []
    assert error(browser().get("/api/notifications"), 401)
    assert error(leyla.post("/api/notifications/read", {"ids": "all"}), 422)


def test_transparency_endpoints(runtime: Runtime, scene: Scene, browser: OpenBrowser) -> None:
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    responder_account = _responder(runtime, scene)
    browser(responder_account).post(
        f"/api/proposals/{p.id}/answers", {"status": "under_review", "text": ANSWER}
    )

    anonymous = browser()
    cards = {c["subject_id"]: c for c in anonymous.get("/api/scorecards").json()["items"]}
    assert cards[w.agency.id]["proposals_received"] >= 1 and cards[w.agency.id]["proposals_answered"] == 1
    log = anonymous.get("/api/action-log").json()
    assert [e["action"] for e in log["items"]] == ["proposal.answer"]
    assert log["items"][0]["actor_name"] == "Rena Responder" and log["items"][0]["public"]
    assert error(anonymous.get("/api/action-log", private="true"), 401)
    assert browser(scene.moderator).get("/api/action-log", private="true").status_code == 200

    mine = browser(responder_account).get("/api/scorecards/me").json()
    assert mine["kind"] == "official" and mine["proposals_answered"] == 1
    assert error(browser(w.leyla).get("/api/scorecards/me"), 403)


def test_the_openapi_document_describes_leadership(client: Any) -> None:
    document = client.get("/openapi.json").json()
    decision = document["paths"]["/api/moderation/cases/{case_id}/decision"]["post"]
    assert {"401", "403", "404", "409", "422"} <= set(decision["responses"])
    assert decision["requestBody"]["content"]["application/json"]["schema"]
    for path in ("/api/reports", "/api/notifications", "/api/scorecards", "/api/action-log"):
        assert path in document["paths"]
    assert "CaseDetail" in document["components"]["schemas"]
