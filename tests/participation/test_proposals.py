"""E-citizens submit, edit and withdraw proposals; who may, when, and what comes back."""

from __future__ import annotations

import pytest

from civic.participation.models import Phase, Proposal
from tests.participation.conftest import (
    error,
    load,
    make_comment,
    make_consultation,
    make_proposal,
    outbox,
    set_phase,
    snapshot,
    support,
)

IDEA = {"title": "Night buses on line 5", "body": "Run line 5 every 20 minutes until 2 am."}


def submit(b, consultation_id, **changes):
    return b.post(f"/api/consultations/{consultation_id}/proposals", {**IDEA, **changes})


@pytest.fixture
def open_for_proposals(runtime, world):
    with runtime.db.transaction() as s:
        return make_consultation(s, world.convener, phase=Phase.PROPOSALS)


def test_a_citizen_submits_a_proposal_and_everyone_can_read_it(runtime, world, browser, open_for_proposals):
    cid = open_for_proposals.id
    response = submit(browser(world.leyla), cid, category="transport")

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["title"], body["body"], body["category"]) == (IDEA["title"], IDEA["body"], "transport")
    assert (body["status"], body["support_count"], body["comment_count"]) == ("published", 0, 0)
    assert (body["author_id"], body["author_name"]) == (world.leyla.id, "Leyla")
    assert body["body_html"] == "<p>Run line 5 every 20 minutes until 2 am.</p>\n"
    assert browser().get(f"/api/proposals/{body['id']}").json() == {**body, "supported_by_me": False}
    (event,) = outbox(runtime, "proposal.submitted")
    assert event["actor"] == world.leyla.id
    assert event["topics"] == [
        f"proposal:{body['id']}",
        f"consultation:{cid}",
        f"dashboard:agency:{world.agency.id}",
        f"moderation:agency:{world.agency.id}",
    ]


@pytest.mark.parametrize("phase", [Phase.INFORMATION, Phase.SUPPORT, Phase.CLOSED])
def test_submitting_outside_the_proposals_phase_is_a_conflict_naming_the_current_phase(
    runtime, world, browser, phase
):
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, phase=phase)
    b = browser(world.leyla)
    before = snapshot(runtime)

    body = error(submit(b, c.id), 409)

    assert body["code"] == "wrong_phase"
    assert body["message"] == (
        f"You can submit proposals only in the proposals phase; this consultation is now in its {phase} phase."
    )
    assert snapshot(runtime) == before


@pytest.mark.parametrize(
    ("rules", "who", "words"),
    [
        (
            {"min_verification": "verified"},
            "aysel",
            "a registrar at any service centre can verify you in person",
        ),
        ({"min_verification": "esignature"}, "leyla", "e-signature"),
        ({"allow_organisations": False}, "business", "not to businesses or NGOs"),
        ({"allow_organisations": False}, "ngo", "not to businesses or NGOs"),
        ({"allow_foreign_residents": False}, "foreigner", "open to citizens only"),
        ({"district": "Sabail"}, "kamal", "open to residents of Sabail only"),
        ({"district": "Sabail"}, "aysel", "A registrar records your district"),
        ({}, "convener", "Officials take part through their roles"),
        ({}, "moderator", "Officials take part through their roles"),
    ],
)
def test_who_may_not_submit_is_told_why(runtime, world, browser, rules, who, words):
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, **rules)
    b = browser(getattr(world, who))
    before = snapshot(runtime)

    body = error(submit(b, c.id), 403)

    assert words in body["message"]
    assert body["code"] == "not_eligible"
    assert snapshot(runtime) == before


@pytest.mark.parametrize(
    ("rules", "who"),
    [
        ({"min_verification": "verified"}, "leyla"),
        ({"allow_organisations": True}, "business"),
        ({"allow_organisations": True}, "ngo"),
        ({"allow_foreign_residents": True}, "foreigner"),
        ({"district": "Sabail"}, "leyla"),
        ({"district": "sabail "}, "rashad"),  # the same district, however the convener typed it
    ],
)
def test_those_a_consultation_is_open_to_may_submit(runtime, world, browser, rules, who):
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, **rules)
    assert submit(browser(getattr(world, who)), c.id).status_code == 201


def test_a_registrar_recording_the_district_opens_a_district_consultation(runtime, world, browser):
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, district="Sabail", min_verification="verified")
    aysel = browser(world.aysel)
    assert error(submit(aysel, c.id), 403)

    verified = browser(world.registrar).post(
        f"/api/accounts/{world.aysel.id}/verification",
        {"level": "verified", "method": "in_person", "district": "Sabail"},
    )
    assert verified.status_code == 201, verified.text

    assert submit(aysel, c.id).status_code == 201


def test_logging_in_is_required(runtime, world, browser, open_for_proposals):
    before = snapshot(runtime)
    assert error(submit(browser(), open_for_proposals.id), 401)["message"] == "Log in to use this endpoint."
    assert snapshot(runtime) == before


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"title": "x" * 151}, {"title": "Use at most 150 characters."}),
        ({"body": "y" * 10_001}, {"body": "Use at most 10000 characters."}),
        ({"title": "", "body": ""}, {"title": "This field is required.", "body": "This field is required."}),
        ({"title": "   "}, {"title": "Use at least 5 characters."}),
        ({"title": None}, {"title": "Input should be a valid string"}),
        ({"title": "Buses\x00 at night"}, {"title": "Remove the control characters"}),
        ({"title": "Buses\nat night"}, {"title": "Remove the control characters"}),
        ({"body": "Run line 5 \x00 all night long"}, {"body": "Remove the control characters"}),
        ({"category": "weather"}, {"category": "Not a category here."}),
        ({"author_id": 1}, {"author_id": "This field is not accepted here."}),
    ],
)
def test_invalid_proposals_are_refused_field_by_field(
    runtime, world, browser, open_for_proposals, changes, fields
):
    b = browser(world.leyla)
    before = snapshot(runtime)

    body = error(submit(b, open_for_proposals.id, **changes), 422)

    for name, message in fields.items():
        assert message in body["fields"][name]
    assert set(body["fields"]) == set(fields)
    assert snapshot(runtime) == before


def test_a_title_of_exactly_150_characters_and_a_body_of_10000_are_accepted(
    runtime, world, browser, open_for_proposals
):
    response = submit(browser(world.leyla), open_for_proposals.id, title="t" * 150, body="b" * 10_000)
    assert response.status_code == 201, response.text


def test_script_tags_and_raw_html_never_come_back_as_html(runtime, world, browser, open_for_proposals):
    title = "<script>alert('t')</script> Buses"
    text = "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)> and <b>bold</b>"
    b = browser(world.leyla)

    created = submit(b, open_for_proposals.id, title=title, body=text)

    assert created.status_code == 201, created.text
    for body in (
        created.json(),
        browser().get(f"/api/proposals/{created.json()['id']}").json(),
        browser().get(f"/api/consultations/{open_for_proposals.id}/proposals").json()["items"][0],
    ):
        assert body["title"] == title  # text, for the page to escape; never HTML
        assert body["body"] == text
        html = body["body_html"]
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(2)&gt;" in html
        assert "<script" not in html and "<img" not in html and "<b>" not in html


@pytest.mark.parametrize(
    "link",
    [
        "[click](javascript:alert(1))",
        "[click](JavaScript:alert(1))",
        "[click]( javascript:alert(1) )",
        "[click](<javascript:alert(1)>)",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "<javascript:alert(1)>",
        "![x](javascript:alert(1))",
    ],
)
def test_javascript_links_are_not_rendered_as_links(runtime, world, browser, open_for_proposals, link):
    response = submit(browser(world.leyla), open_for_proposals.id, body=f"See {link} for details")
    assert response.status_code == 201, response.text
    html = response.json()["body_html"]
    assert "<a" not in html and "<img" not in html
    assert "href" not in html


def test_ordinary_links_render_with_rel_nofollow(runtime, world, browser, open_for_proposals):
    response = submit(browser(world.leyla), open_for_proposals.id, body="See [the plan](https://gov.az/plan)")
    assert (
        '<a href="https://gov.az/plan" rel="nofollow ugc noopener">the plan</a>'
        in response.json()["body_html"]
    )


def test_unknown_ids_are_404(runtime, world, browser, open_for_proposals):
    b = browser(world.leyla)
    before = snapshot(runtime)
    for response in (
        submit(b, 999_999),
        b.get("/api/consultations/999999/proposals"),
    ):
        assert error(response, 404)["message"] == "There is no consultation 999999."
    for response in (
        b.get("/api/proposals/999999"),
        b.put("/api/proposals/999999", IDEA),
        b.post("/api/proposals/999999/withdrawal"),
        b.put("/api/proposals/999999/support"),
        b.delete("/api/proposals/999999/support"),
        b.get("/api/proposals/999999/comments"),
        b.post("/api/proposals/999999/comments", {"body": "Hello"}),
    ):
        assert error(response, 404)["message"] == "There is no proposal 999999."
    assert error(b.get("/api/proposals/99999999999"), 404)  # beyond an integer column: still a 404
    assert snapshot(runtime) == before


def test_a_draft_consultation_takes_no_proposals_and_does_not_admit_it_exists(runtime, world, browser):
    with runtime.db.transaction() as s:
        draft = make_consultation(s, world.convener, publish=False)
    before = snapshot(runtime)
    assert (
        error(submit(browser(world.leyla), draft.id), 404)["message"]
        == f"There is no consultation {draft.id}."
    )
    assert snapshot(runtime) == before


# ---- pre-moderation ------------------------------------------------------------------------


@pytest.fixture
def premoderated(runtime, world):
    with runtime.db.transaction() as s:
        return make_consultation(s, world.convener, moderation="pre")


def test_a_premoderated_proposal_waits_unseen_by_others(runtime, world, browser, premoderated):
    leyla = browser(world.leyla)
    created = submit(leyla, premoderated.id)
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    assert created.json()["status"] == "pending"

    kamal, anonymous = browser(world.kamal), browser()
    for b in (kamal, anonymous):
        assert error(b.get(f"/api/proposals/{pid}"), 404)["message"] == f"There is no proposal {pid}."
        assert error(b.get(f"/api/proposals/{pid}/comments"), 404)
        listed = b.get(f"/api/consultations/{premoderated.id}/proposals").json()
        assert listed["items"] == [] and listed["total"] == 0
    assert leyla.get(f"/api/proposals/{pid}").json()["status"] == "pending"
    assert browser(world.moderator).get(f"/api/proposals/{pid}").status_code == 200
    assert pid not in [
        r["id"] for r in anonymous.get(f"/consultations/{premoderated.id}/proposals.json").json()["proposals"]
    ]

    (event,) = outbox(runtime, "proposal.submitted")
    assert event["topics"] == [f"user:{world.leyla.id}", f"moderation:agency:{world.agency.id}"]


def test_a_citizen_whose_level_skips_pre_moderation_is_published_at_once(
    runtime, world, browser, premoderated
):
    from civic.identity.standing import MAX_LEVEL, do_set_standing, privileges

    level = min(n for n in range(MAX_LEVEL + 1) if privileges(n).skips_pre_moderation)
    with runtime.db.transaction() as s:
        do_set_standing(s, world.leyla.id, level - 1, "test")
        do_set_standing(s, world.kamal.id, level, "test")

    assert submit(browser(world.leyla), premoderated.id).json()["status"] == "pending"
    assert submit(browser(world.kamal), premoderated.id).json()["status"] == "published"


def test_others_acting_on_a_pending_proposal_find_nothing_there(runtime, world, browser, premoderated):
    with runtime.db.transaction() as s:
        pid = make_proposal(s, world.leyla, premoderated).id
    set_phase(runtime, world.convener, premoderated.id, Phase.SUPPORT)
    kamal = browser(world.kamal)
    before = snapshot(runtime)

    for response in (
        kamal.put(f"/api/proposals/{pid}/support"),
        kamal.delete(f"/api/proposals/{pid}/support"),
        kamal.post(f"/api/proposals/{pid}/comments", {"body": "Hello"}),
        kamal.put(f"/api/proposals/{pid}", IDEA),
        kamal.post(f"/api/proposals/{pid}/withdrawal"),
    ):
        assert error(response, 404)["message"] == f"There is no proposal {pid}."
    assert snapshot(runtime) == before


def test_withdrawing_a_pending_proposal_does_not_publish_it(runtime, world, browser, premoderated):
    leyla = browser(world.leyla)
    pid = submit(leyla, premoderated.id).json()["id"]

    withdrawn = leyla.post(f"/api/proposals/{pid}/withdrawal")

    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] != "published"
    anonymous = browser()
    assert error(anonymous.get(f"/api/proposals/{pid}"), 404)
    assert (
        anonymous.get(f"/api/consultations/{premoderated.id}/proposals", status="withdrawn").json()["total"]
        == 0
    )
    assert anonymous.get(f"/consultations/{premoderated.id}/proposals.json").json()["proposals"] == []
    (event,) = outbox(runtime, "proposal.withdrawn")
    assert event["topics"] == [f"user:{world.leyla.id}", f"moderation:agency:{world.agency.id}"]
    assert leyla.get(f"/api/proposals/{pid}").status_code == 200  # its author still sees it
    assert leyla.post(f"/api/proposals/{pid}/withdrawal").status_code == 200  # and twice is once
    assert len(outbox(runtime, "proposal.withdrawn")) == 1


# ---- editing and withdrawing -----------------------------------------------------------------


@pytest.fixture
def proposal(runtime, world, open_for_proposals):
    with runtime.db.transaction() as s:
        return make_proposal(s, world.leyla, open_for_proposals)


def test_the_author_edits_until_someone_supports_or_comments(runtime, world, browser, proposal):
    leyla = browser(world.leyla)
    edited = leyla.put(f"/api/proposals/{proposal.id}", {**IDEA, "title": "Night buses, every line"})

    assert edited.status_code == 200, edited.text
    assert edited.json()["title"] == "Night buses, every line"
    assert edited.json()["edited_at"] is not None
    (event,) = outbox(runtime, "proposal.edited")
    assert event["data"]["title"] == "Night buses, every line"

    with runtime.db.transaction() as s:
        make_comment(s, world.kamal, proposal.id)
    before = snapshot(runtime)

    refused = leyla.put(f"/api/proposals/{proposal.id}", {**IDEA, "title": "Something else entirely"})

    assert "can no longer be edited" in error(refused, 409)["message"]
    assert "Add a comment" in error(refused, 409)["message"]
    assert snapshot(runtime) == before


def test_a_support_locks_the_text(runtime, world, browser, proposal, open_for_proposals):
    set_phase(runtime, world.convener, open_for_proposals.id, Phase.SUPPORT)
    support(runtime, world.kamal, proposal.id)
    before = snapshot(runtime)

    refused = browser(world.leyla).put(f"/api/proposals/{proposal.id}", IDEA)

    assert "people have supported or commented" in error(refused, 409)["message"]
    assert snapshot(runtime) == before


def test_only_the_author_edits_or_withdraws(runtime, world, browser, proposal):
    kamal = browser(world.kamal)
    before = snapshot(runtime)

    edit = kamal.put(f"/api/proposals/{proposal.id}", IDEA)
    withdraw = kamal.post(f"/api/proposals/{proposal.id}/withdrawal")

    assert error(edit, 403)["message"] == "Only the author can change this proposal."
    assert error(withdraw, 403)["message"] == "Only the author can change this proposal."
    assert snapshot(runtime) == before


def test_editing_keeps_to_the_consultations_categories(runtime, world, browser, proposal):
    before = snapshot(runtime)
    refused = browser(world.leyla).put(f"/api/proposals/{proposal.id}", {**IDEA, "category": "weather"})
    assert error(refused, 422)["fields"] == {"category": "Not a category here."}
    assert snapshot(runtime) == before


def test_withdrawing_twice_is_the_same_as_once(runtime, world, browser, proposal):
    leyla = browser(world.leyla)

    first = leyla.post(f"/api/proposals/{proposal.id}/withdrawal")
    second = leyla.post(f"/api/proposals/{proposal.id}/withdrawal")

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert first.json()["status"] == "withdrawn"
    (event,) = outbox(runtime, "proposal.withdrawn")
    assert event["topics"][0] == f"proposal:{proposal.id}"  # a public proposal's withdrawal is public
    # Still listed (people may have discussed it), marked withdrawn; no longer editable.
    assert browser().get(f"/api/proposals/{proposal.id}").json()["status"] == "withdrawn"
    assert (
        "withdrawn proposal cannot be edited"
        in error(leyla.put(f"/api/proposals/{proposal.id}", IDEA), 409)["message"]
    )


def test_a_withdrawn_proposal_cannot_be_supported(runtime, world, browser, proposal, open_for_proposals):
    browser(world.leyla).post(f"/api/proposals/{proposal.id}/withdrawal")
    set_phase(runtime, world.convener, open_for_proposals.id, Phase.SUPPORT)
    before = snapshot(runtime)

    refused = browser(world.kamal).put(f"/api/proposals/{proposal.id}/support")

    assert error(refused, 409)["message"] == "This proposal is withdrawn; it cannot be supported."
    assert snapshot(runtime) == before
    assert load(runtime, Proposal, proposal.id).support_count == 0
