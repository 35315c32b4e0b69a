"""Comment threads: replies to a depth limit, edits marked, deletions leaving tombstones where
replies need them, counts in step, sorting, and the phases that take comments."""

from __future__ import annotations

import pytest
from sqlmodel import select

from civic.participation.actions import MAX_COMMENT_DEPTH
from civic.participation.models import Comment, Phase, Proposal
from tests.participation.conftest import (
    error,
    load,
    make_comment,
    make_consultation,
    make_proposal,
    outbox,
    set_phase,
    snapshot,
)


@pytest.fixture
def consultation(runtime, world):
    with runtime.db.transaction() as s:
        return make_consultation(s, world.convener, phase=Phase.PROPOSALS)


@pytest.fixture
def proposal(runtime, world, consultation):
    with runtime.db.transaction() as s:
        return make_proposal(s, world.leyla, consultation)


def comment(b, proposal_id, body="I agree.", parent_id=None):
    return b.post(f"/api/proposals/{proposal_id}/comments", {"body": body, "parent_id": parent_id})


def thread(b, proposal_id, sort="oldest"):
    response = b.get(f"/api/proposals/{proposal_id}/comments", sort=sort)
    assert response.status_code == 200, response.text
    return response.json()


def published_comments(runtime, proposal_id):
    with runtime.db.transaction() as s:
        return len(
            s.exec(
                select(Comment).where(Comment.proposal_id == proposal_id, Comment.status == "published")
            ).all()
        )


def assert_counts_in_step(runtime, b, proposal_id):
    """The proposal's comment count is its published comments, and every reply count its
    published replies: whatever was posted or deleted."""
    stored = load(runtime, Proposal, proposal_id).comment_count
    assert stored == published_comments(runtime, proposal_id)
    assert thread(b, proposal_id)["total"] == stored
    assert b.get(f"/api/proposals/{proposal_id}").json()["comment_count"] == stored
    with runtime.db.transaction() as s:
        comments = s.exec(select(Comment).where(Comment.proposal_id == proposal_id)).all()
        for c in comments:
            replies = [r for r in comments if r.parent_id == c.id and r.status == "published"]
            assert c.reply_count == len(replies), f"comment {c.id}"


def test_a_citizen_comments_and_everyone_reads_it(runtime, world, browser, proposal, consultation):
    response = comment(browser(world.kamal), proposal.id, "Yes, *please*. <script>x()</script>")

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["author_id"], body["author_name"], body["depth"], body["parent_id"]) == (
        world.kamal.id,
        "Kamal",
        0,
        None,
    )
    assert body["body_html"] == "<p>Yes, <em>please</em>. &lt;script&gt;x()&lt;/script&gt;</p>\n"
    assert body["edited_at"] is None
    anonymous = browser()
    assert thread(anonymous, proposal.id) == {"items": [body], "total": 1}
    (event,) = outbox(runtime, "comment.posted")
    assert event["topics"] == [
        f"proposal:{proposal.id}",
        f"consultation:{consultation.id}",
        f"dashboard:agency:{world.agency.id}",
    ]
    assert event["data"]["proposal_author_id"] == world.leyla.id
    assert_counts_in_step(runtime, anonymous, proposal.id)


def test_replies_nest_to_the_depth_limit_and_no_further(runtime, world, browser, proposal):
    kamal = browser(world.kamal)
    parent = None
    for depth in range(MAX_COMMENT_DEPTH + 1):
        response = comment(kamal, proposal.id, f"Level {depth}", parent)
        assert response.status_code == 201, response.text
        assert response.json()["depth"] == depth
        parent = response.json()["id"]
    before = snapshot(runtime)

    refused = comment(kamal, proposal.id, "Too deep", parent)

    assert (
        error(refused, 409)["message"]
        == "This thread is as deep as it can go; reply to an earlier comment instead."
    )
    assert snapshot(runtime) == before
    node, depth = thread(kamal, proposal.id)["items"][0], 0
    while node["replies"]:
        (node,) = node["replies"]
        depth += 1
    assert depth == MAX_COMMENT_DEPTH
    assert_counts_in_step(runtime, kamal, proposal.id)


def test_replies_must_be_to_a_live_comment_of_the_same_proposal(
    runtime, world, browser, proposal, consultation
):
    with runtime.db.transaction() as s:
        elsewhere = make_proposal(s, world.kamal, consultation, title="Another proposal")
        foreign = make_comment(s, world.rashad, elsewhere.id)
        gone = make_comment(s, world.rashad, proposal.id)
    browser(world.rashad).delete(f"/api/comments/{gone.id}")
    kamal = browser(world.kamal)
    before = snapshot(runtime)

    assert error(comment(kamal, proposal.id, "Re", foreign.id), 404)["message"] == (
        f"There is no comment {foreign.id} on this proposal."
    )
    assert error(comment(kamal, proposal.id, "Re", 999_999), 404)
    assert error(comment(kamal, proposal.id, "Re", gone.id), 409)["message"] == (
        "You cannot reply to a deleted or hidden comment."
    )
    assert snapshot(runtime) == before


def test_editing_marks_the_comment_edited(runtime, world, browser, proposal):
    kamal = browser(world.kamal)
    cid = comment(kamal, proposal.id, "First thought").json()["id"]

    edited = kamal.put(f"/api/comments/{cid}", {"body": "Second thought"})

    assert edited.status_code == 200, edited.text
    assert edited.json()["body_html"] == "<p>Second thought</p>\n"
    assert edited.json()["edited_at"] is not None
    assert thread(browser(), proposal.id)["items"][0]["edited_at"] == edited.json()["edited_at"]
    assert len(outbox(runtime, "comment.edited")) == 1


def test_deleting_a_comment_with_replies_leaves_a_tombstone_that_keeps_their_place(
    runtime, world, browser, proposal
):
    kamal, rashad = browser(world.kamal), browser(world.rashad)
    first = comment(kamal, proposal.id, "Secret plan").json()["id"]
    reply = comment(rashad, proposal.id, "Answer", first).json()["id"]
    later = comment(rashad, proposal.id, "Later").json()["id"]

    deleted = kamal.delete(f"/api/comments/{first}")

    assert deleted.status_code == 204, deleted.text
    items = thread(browser(), proposal.id)["items"]
    assert [n["id"] for n in items] == [first, later]  # the tombstone keeps its place
    tomb = items[0]
    assert tomb["status"] == "deleted"
    assert (tomb["author_id"], tomb["author_name"], tomb["body_html"], tomb["edited_at"]) == (
        None,
        None,
        None,
        None,
    )
    assert [r["id"] for r in tomb["replies"]] == [reply]
    assert tomb["replies"][0]["body_html"] == "<p>Answer</p>\n"
    assert "Secret plan" not in str(items) and "Kamal" not in str(items)
    stored = load(runtime, Comment, first)
    assert (stored.body, stored.body_html, stored.status) == ("", "", "deleted")  # erased, not kept
    (event,) = outbox(runtime, "comment.deleted")
    assert event["data"]["comment_id"] == first
    assert_counts_in_step(runtime, kamal, proposal.id)


def test_a_deleted_comment_without_replies_disappears(runtime, world, browser, proposal):
    kamal = browser(world.kamal)
    parent = comment(kamal, proposal.id, "Parent").json()["id"]
    reply = comment(kamal, proposal.id, "Reply", parent).json()["id"]
    alone = comment(kamal, proposal.id, "Alone").json()["id"]

    assert kamal.delete(f"/api/comments/{alone}").status_code == 204
    assert kamal.delete(f"/api/comments/{reply}").status_code == 204

    items = thread(browser(), proposal.id)["items"]
    assert [n["id"] for n in items] == [parent]
    assert items[0]["replies"] == []
    assert items[0]["reply_count"] == 0
    assert_counts_in_step(runtime, kamal, proposal.id)

    # A branch of tombstones only is pruned whole.
    assert kamal.delete(f"/api/comments/{parent}").status_code == 204
    assert thread(browser(), proposal.id) == {"items": [], "total": 0}


def test_deleting_twice_is_the_same_as_once(runtime, world, browser, proposal):
    kamal = browser(world.kamal)
    cid = comment(kamal, proposal.id).json()["id"]
    assert kamal.delete(f"/api/comments/{cid}").status_code == 204
    before = snapshot(runtime)

    assert kamal.delete(f"/api/comments/{cid}").status_code == 204

    assert snapshot(runtime) == before
    assert len(outbox(runtime, "comment.deleted")) == 1
    assert "deleted" in error(kamal.put(f"/api/comments/{cid}", {"body": "Back"}), 409)["message"]
    assert_counts_in_step(runtime, kamal, proposal.id)


def test_only_the_author_edits_or_deletes_a_comment(runtime, world, browser, proposal):
    cid = comment(browser(world.kamal), proposal.id).json()["id"]
    for who in ("rashad", "leyla", "moderator"):
        b = browser(getattr(world, who))
        before = snapshot(runtime)
        assert error(b.put(f"/api/comments/{cid}", {"body": "Mine now"}), 403)["message"] == (
            "Only the author can change this comment."
        )
        assert (
            error(b.delete(f"/api/comments/{cid}"), 403)["message"]
            == "Only the author can change this comment."
        )
        assert snapshot(runtime) == before
    anonymous = browser()
    assert error(anonymous.delete(f"/api/comments/{cid}"), 401)
    assert error(anonymous.post(f"/api/proposals/{proposal.id}/comments", {"body": "Hi"}), 401)


def test_unknown_comments_are_404(runtime, world, browser, proposal):
    kamal = browser(world.kamal)
    before = snapshot(runtime)
    assert (
        error(kamal.put("/api/comments/999999", {"body": "x"}), 404)["message"]
        == "There is no comment 999999."
    )
    assert error(kamal.delete("/api/comments/999999"), 404)["message"] == "There is no comment 999999."
    assert snapshot(runtime) == before


@pytest.mark.parametrize(
    ("body", "message"), [("", "This field is required."), ("x" * 5001, "Use at most 5000 characters.")]
)
def test_invalid_comments_are_refused(runtime, world, browser, proposal, body, message):
    kamal = browser(world.kamal)
    before = snapshot(runtime)
    assert error(comment(kamal, proposal.id, body), 422)["fields"] == {"body": message}
    assert snapshot(runtime) == before


def test_top_level_comments_sort_oldest_newest_and_by_replies(runtime, world, browser, proposal):
    kamal, rashad = browser(world.kamal), browser(world.rashad)
    a = comment(kamal, proposal.id, "A").json()["id"]
    b = comment(kamal, proposal.id, "B").json()["id"]
    c = comment(kamal, proposal.id, "C").json()["id"]
    b1 = comment(rashad, proposal.id, "B1", b).json()["id"]
    comment(rashad, proposal.id, "B1a", b1)
    comment(rashad, proposal.id, "C1", c)
    comment(rashad, proposal.id, "C2", c)
    comment(rashad, proposal.id, "B2", b)
    anonymous = browser()

    def order(sort):
        return [n["id"] for n in thread(anonymous, proposal.id, sort)["items"]]

    assert order("oldest") == [a, b, c]
    assert order("newest") == [c, b, a]
    assert order("replies") == [b, c, a]  # B has three replies in its branch, C two, A none
    items = thread(anonymous, proposal.id, "newest")["items"]
    assert [r["body_html"] for r in items[1]["replies"]] == [
        "<p>B1</p>\n",
        "<p>B2</p>\n",
    ]  # replies read forwards
    assert error(anonymous.get(f"/api/proposals/{proposal.id}/comments", sort="best"), 422)


@pytest.mark.parametrize("phase", [Phase.ANSWERED, Phase.CLOSED])
def test_comments_are_taken_only_in_the_proposals_support_and_deliberation_phases(
    runtime, world, browser, proposal, consultation, phase
):
    kamal = browser(world.kamal)
    cid = comment(kamal, proposal.id, "Said in time").json()["id"]
    set_phase(runtime, world.convener, consultation.id, phase)
    before = snapshot(runtime)

    posted = comment(kamal, proposal.id, "Too late")
    edited = kamal.put(f"/api/comments/{cid}", {"body": "Rewritten late"})

    for response in (posted, edited):
        body = error(response, 409)
        assert body["code"] == "wrong_phase"
        assert f"now in its {phase} phase" in body["message"]
    assert snapshot(runtime) == before
    assert (
        kamal.delete(f"/api/comments/{cid}").status_code == 204
    )  # taking one's words back is always allowed
    assert_counts_in_step(runtime, kamal, proposal.id)


@pytest.mark.parametrize("phase", [Phase.SUPPORT, Phase.DELIBERATION])
def test_comments_are_taken_in_the_later_open_phases(runtime, world, browser, proposal, consultation, phase):
    set_phase(runtime, world.convener, consultation.id, phase)
    assert comment(browser(world.kamal), proposal.id).status_code == 201


def test_a_withdrawn_proposal_is_closed_for_comments(runtime, world, browser, proposal):
    browser(world.leyla).post(f"/api/proposals/{proposal.id}/withdrawal")
    kamal = browser(world.kamal)
    before = snapshot(runtime)
    assert (
        error(comment(kamal, proposal.id), 409)["message"]
        == "This proposal is withdrawn; it is closed for comments."
    )
    assert snapshot(runtime) == before


def test_officials_and_ineligible_people_do_not_comment(runtime, world, browser):
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, allow_organisations=False)
        p = make_proposal(s, world.leyla, c)
    for who in ("moderator", "business"):
        b = browser(getattr(world, who))
        before = snapshot(runtime)
        assert error(comment(b, p.id), 403)["code"] == "not_eligible"
        assert snapshot(runtime) == before


def test_counts_stay_in_step_through_a_busy_thread(runtime, world, browser, proposal):
    kamal, rashad = browser(world.kamal), browser(world.rashad)
    root = comment(kamal, proposal.id, "Root").json()["id"]
    replies = [comment(rashad, proposal.id, f"R{i}", root).json()["id"] for i in range(3)]
    nested = comment(kamal, proposal.id, "Nested", replies[0]).json()["id"]
    rashad.delete(f"/api/comments/{replies[0]}")
    rashad.delete(f"/api/comments/{replies[1]}")
    kamal.delete(f"/api/comments/{nested}")
    comment(kamal, proposal.id, "Another root")

    assert_counts_in_step(runtime, kamal, proposal.id)
    assert load(runtime, Proposal, proposal.id).comment_count == 3
    assert load(runtime, Comment, root).reply_count == 1
