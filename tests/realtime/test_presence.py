"""Presence: how many are viewing a consultation now, sent to its followers as the count changes
(coalesced), counted across every web process through Redis, carrying no identities.

The cross-process tests run two servers, each with its own hub (its own process id and event
loop), on one database and one Redis prefix: in this process, and as two real `civic serve`
processes (test_multiprocess.py's cluster, started for this module)."""

from __future__ import annotations

import asyncio
import re
import time
from types import SimpleNamespace

import pytest

from civic.realtime import protocol
from civic.realtime.config import HubConfig
from civic.realtime.connection import Connection, TopicState
from civic.realtime.presence import Announcer, RedisPresence, counted
from tests.realtime import test_multiprocess
from tests.realtime.conftest import PRODUCTION, LiveServer, Serve
from tests.realtime.test_multiprocess import Cluster, reader

FAST = {"presence_seconds": 0.1}
cluster = test_multiprocess.cluster  # two `civic serve` processes and a worker, for this module


def consultation(live: LiveServer) -> str:
    return f"consultation:{live.world.consultation_id}"


async def test_two_viewers_count_two_and_one_leaving_counts_one(serve: Serve) -> None:
    live = serve(hub=FAST)
    topic = consultation(live)
    async with live.connect("citizen") as first:
        await first.subscribe([topic])
        await first.presence_count(topic, 1)
        async with live.connect() as second:  # anonymous visitors count too
            await second.subscribe([topic])
            await second.presence_count(topic, 2)
            await first.presence_count(topic, 2)
        await first.presence_count(topic, 1)
        assert first.presence[-1] == {"type": "presence", "topic": topic, "count": 1}, "a number, never who"


async def test_unsubscribing_counts_as_leaving(serve: Serve) -> None:
    live = serve(hub=FAST)
    topic = consultation(live)
    async with live.connect("citizen") as stays, live.connect("author") as goes:
        await stays.subscribe([topic])
        await goes.subscribe([topic])
        await stays.presence_count(topic, 2)
        await goes.send({"type": "unsubscribe", "topics": [topic]})
        await stays.presence_count(topic, 1)
        assert live.hub.subscriber_count(topic) == 1


async def test_changes_are_coalesced_to_one_frame_per_period(serve: Serve) -> None:
    period = 1.0
    live = serve(hub={"presence_seconds": period})
    topic = consultation(live)
    async with live.connect("citizen") as watcher:
        await watcher.subscribe([topic])
        await watcher.presence_count(topic, 1)
        began = time.monotonic()
        async with (
            live.connect() as a,
            live.connect() as b,
            live.connect() as c,
            live.connect() as d,
        ):
            await asyncio.gather(*(client.subscribe([topic]) for client in (a, b, c, d)))
            await watcher.presence_count(topic, 5)
            elapsed = time.monotonic() - began
            frames = len(watcher.presence) - 1
            assert frames <= elapsed / period + 1, f"{frames} frames in {elapsed:.1f}s: not coalesced"
            # A newcomer hears the count at the next announcement.
            async with live.connect() as late:
                await late.subscribe([topic])
                await late.presence_count(topic, 6)


async def test_only_consultations_are_counted(serve: Serve) -> None:
    live = serve(hub=FAST)
    proposal = f"proposal:{live.world.proposal_id}"
    async with live.connect("citizen") as client:
        await client.subscribe([proposal, f"user:{live.world.ids['citizen']}"])
        await asyncio.sleep(0.5)
        assert await client.roundtrip() == []
        assert client.presence == []
    assert counted("consultation:3") and not counted("proposal:3") and not counted("dashboard:global")


async def test_a_refused_subscription_is_not_counted(serve: Serve) -> None:
    live = serve(hub=FAST)
    draft = f"consultation:{live.world.draft_id}"
    async with live.connect("citizen") as citizen, live.connect("convener") as convener:
        assert (await citizen.subscribe([draft]))[draft]["code"] == "forbidden"
        await convener.subscribe([draft])
        await convener.presence_count(draft, 1)
        await asyncio.sleep(0.3)
        await convener.roundtrip()
        assert convener.presence[-1]["count"] == 1
        assert citizen.presence == []


# ---- the announcer, without a server -----------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_text(self, frame: str) -> None:
        self.sent.append(frame)


def follower(topic: str, live: bool = True) -> Connection:
    conn = Connection(
        Recorder(),  # type: ignore[arg-type]
        HubConfig(),
        account_id=None,
        session_token=None,
        on_close=lambda _c: None,
    )
    conn.topics[topic] = TopicState(epoch="e", pending=None if live else [])
    return conn


def test_the_count_goes_to_everyone_when_it_changes_and_to_newcomers_when_it_does_not() -> None:
    topic = "consultation:1"
    announcer = Announcer(None)
    a, b = follower(topic), follower(topic)
    subscribers = {topic: {a}}
    announcer.joined(topic, a)
    assert announcer.announce({topic: 1}, subscribers) == 1
    assert a.websocket.sent == [protocol.presence(topic, 1)]  # type: ignore[attr-defined]
    assert announcer.announce({topic: 1}, subscribers) == 0  # unchanged: silence

    # b joins here while someone elsewhere left: the count stays 1, b must still hear it.
    subscribers[topic].add(b)
    announcer.joined(topic, b)
    assert announcer.announce({topic: 1}, subscribers) == 1
    assert b.websocket.sent == [protocol.presence(topic, 1)]  # type: ignore[attr-defined]
    assert len(a.websocket.sent) == 1  # type: ignore[attr-defined]


def test_a_subscription_still_replaying_hears_the_count_once_it_is_live() -> None:
    topic = "consultation:1"
    announcer = Announcer(None)
    replaying = follower(topic, live=False)
    announcer.joined(topic, replaying)
    assert announcer.announce({topic: 1}, {topic: {replaying}}) == 0
    replaying.topics[topic].pending = None
    assert announcer.announce({topic: 1}, {topic: {replaying}}) == 1


# ---- across processes (Redis) ------------------------------------------------------------------

production = pytest.mark.skipif(not PRODUCTION, reason="counts across processes live in Redis")


@production
@pytest.mark.services
async def test_viewers_on_two_web_processes_are_counted_together(serve: Serve) -> None:
    a, b = serve(hub=FAST), serve(hub=FAST)
    topic = consultation(a)  # one consultation, followed through both processes
    async with a.connect("citizen") as on_a:
        await on_a.subscribe([topic])
        await on_a.presence_count(topic, 1)
        async with b.connect("author") as on_b, b.connect() as also_on_b:
            await on_b.subscribe([topic])
            await also_on_b.subscribe([topic])
            await on_a.presence_count(topic, 3)
            await on_b.presence_count(topic, 3)
        await on_a.presence_count(topic, 1)

        redis = a.runtime.backend.redis  # type: ignore[attr-defined]
        members = await asyncio.to_thread(
            redis.zrange, f"{a.runtime.settings.redis_prefix}:presence:{topic}", 0, -1
        )
        assert len(members) == 1
        assert all(re.fullmatch(r"[0-9a-f]{12}:[0-9]+", m) for m in members), members  # no identities


@production
@pytest.mark.services
async def test_two_civic_serve_processes_count_their_viewers_together(cluster: Cluster) -> None:
    a, b = cluster.web("a"), cluster.web("b")
    topic = f"consultation:{cluster.world.consultation_id}"
    async with reader(a, cluster, "citizen") as on_a:
        await on_a.subscribe({topic: {}})
        async with reader(b, cluster, "author") as on_b:
            await on_b.subscribe({topic: {}})
            await on_a.client.presence_count(topic, 2)
            await on_b.client.presence_count(topic, 2)
        await on_a.client.presence_count(topic, 1)


@production
@pytest.mark.services
async def test_a_killed_processes_viewers_stop_counting_after_the_ttl(serve: Serve) -> None:
    live = serve(hub={**FAST, "presence_ttl_seconds": 3.0})
    topic = consultation(live)
    redis = live.runtime.backend.redis  # type: ignore[attr-defined]
    key = f"{live.runtime.settings.redis_prefix}:presence:{topic}"
    # What a SIGKILLed process leaves behind: members nobody refreshes or removes.
    await asyncio.to_thread(redis.zadd, key, {"deadbeef0000:1": time.time(), "deadbeef0000:2": time.time()})
    async with live.connect("citizen") as client:
        await client.subscribe([topic])
        await client.presence_count(topic, 3)
        await client.presence_count(topic, 1, timeout=10)  # pruned once older than the TTL
    assert await asyncio.to_thread(redis.zscore, key, "deadbeef0000:1") is None


@production
@pytest.mark.services
def test_the_redis_store_applies_joins_and_leaves_in_one_round_trip(serve: Serve) -> None:
    live = serve()
    store = RedisPresence(live.runtime.backend.redis, f"{live.runtime.settings.redis_prefix}:unit")  # type: ignore[attr-defined]
    now = time.time()
    counts = store.sync({"consultation:9": {"p:1": True, "p:2": True}}, {}, ["consultation:9"], now, 30)
    assert counts == {"consultation:9": 2}
    # Left then joined again before the next sync: the last word counts.
    counts = store.sync({"consultation:9": {"p:1": False, "p:3": True}}, {}, ["consultation:9"], now + 1, 30)
    assert counts == {"consultation:9": 2}
    counts = store.sync({}, {"consultation:9": ["p:3"]}, ["consultation:9"], now + 31, 30)
    assert counts == {"consultation:9": 1}, "p:2 was not refreshed within the TTL"
    assert store.redis.ttl(store.key("consultation:9")) > 0


def test_no_store_means_counting_locally() -> None:
    from civic.realtime.presence import store_for

    assert store_for(SimpleNamespace()) is None  # type: ignore[arg-type]
