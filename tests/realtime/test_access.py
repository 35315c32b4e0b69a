"""Who may follow what: the same grant checks as the HTTP pages, asked per topic; every refusal
is an error frame naming the topic, and the socket stays usable."""

from __future__ import annotations

from tests.realtime.conftest import LiveServer


async def answers_for(live: LiveServer, who: str | None, topics: list[str]) -> dict[str, str]:
    """Topic -> "subscribed" or the error code, as `who` (None: anonymous)."""
    async with live.connect(who) as client:
        answers = await client.subscribe(topics)
        assert await client.roundtrip() == []
    return {t: a["type"] if a["type"] == "subscribed" else a["code"] for t, a in answers.items()}


async def test_nobody_but_the_account_itself_may_follow_its_user_topic(live: LiveServer) -> None:
    me, other = live.world.ids["citizen"], live.world.ids["author"]
    assert await answers_for(live, None, [f"user:{other}"]) == {f"user:{other}": "forbidden"}
    assert await answers_for(live, "citizen", [f"user:{me}", f"user:{other}"]) == {
        f"user:{me}": "subscribed",
        f"user:{other}": "forbidden",
    }


async def test_only_the_agencys_moderators_may_follow_its_moderation_queue(live: LiveServer) -> None:
    agency, other = live.world.agency_id, live.world.other_agency_id
    queue, elsewhere = f"moderation:agency:{agency}", f"moderation:agency:{other}"
    assert await answers_for(live, "citizen", [queue]) == {queue: "forbidden"}
    assert await answers_for(live, None, [queue]) == {queue: "forbidden"}
    assert await answers_for(live, "convener", [queue]) == {queue: "forbidden"}
    assert await answers_for(live, "moderator", [queue, elsewhere]) == {
        queue: "subscribed",
        elsewhere: "forbidden",
    }


async def test_a_draft_consultation_is_followed_only_inside_its_agency(live: LiveServer) -> None:
    draft = f"consultation:{live.world.draft_id}"
    assert await answers_for(live, None, [draft]) == {draft: "forbidden"}
    assert await answers_for(live, "citizen", [draft]) == {draft: "forbidden"}
    assert await answers_for(live, "analyst", [draft]) == {draft: "forbidden"}  # an official elsewhere
    assert await answers_for(live, "convener", [draft]) == {draft: "subscribed"}
    assert await answers_for(live, "moderator", [draft]) == {draft: "subscribed"}


async def test_public_consultations_and_proposals_are_open_to_everyone(live: LiveServer) -> None:
    topics = [f"consultation:{live.world.consultation_id}", f"proposal:{live.world.proposal_id}"]
    expected = dict.fromkeys(topics, "subscribed")
    assert await answers_for(live, None, topics) == expected
    assert await answers_for(live, "citizen", topics) == expected


async def test_dashboards_need_a_dashboard_grant_covering_them(live: LiveServer) -> None:
    agency, other = live.world.agency_id, live.world.other_agency_id
    mine, theirs = f"dashboard:agency:{agency}", f"dashboard:agency:{other}"
    assert await answers_for(live, "citizen", ["dashboard:global", mine]) == {
        "dashboard:global": "forbidden",
        mine: "forbidden",
    }
    assert await answers_for(live, "moderator", ["dashboard:global", mine, theirs]) == {
        "dashboard:global": "subscribed",
        mine: "subscribed",
        theirs: "forbidden",
    }
    assert await answers_for(live, "analyst", [theirs, mine]) == {theirs: "subscribed", mine: "forbidden"}


async def test_topics_the_hub_does_not_serve_are_unknown(live: LiveServer) -> None:
    odd = ["chat:1", "consultation", "consultation:", "consultation:007", "consultation:-1", "consultation:²"]
    odd += ["CONSULTATION:1", "dashboard:agency", "moderation:1", f"user:{live.world.ids['citizen']}:x"]
    assert await answers_for(live, "citizen", odd) == dict.fromkeys(odd, "unknown_topic")


async def test_a_missing_consultation_is_refused_like_a_hidden_one(live: LiveServer) -> None:
    assert await answers_for(live, "citizen", ["consultation:999999"]) == {"consultation:999999": "forbidden"}
    assert await answers_for(live, "citizen", ["proposal:999999"]) == {"proposal:999999": "forbidden"}


async def test_a_refused_topic_does_not_stop_the_allowed_ones(live: LiveServer) -> None:
    public, queue = f"consultation:{live.world.consultation_id}", f"moderation:agency:{live.world.agency_id}"
    async with live.connect("citizen") as client:
        answers = await client.subscribe([queue, public])
        assert answers[queue]["code"] == "forbidden" and "moderation:agency" in answers[queue]["message"]
        assert answers[public]["type"] == "subscribed"
        assert live.hub.subscriber_count(queue) == 0
        assert live.hub.subscriber_count(public) == 1
