"""Events reach the sockets that follow their topics, exactly once and in order — live, after a
reconnect, and while other clients fall behind or the backend fails."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
from websockets.exceptions import ConnectionClosed

from civic.realtime import protocol
from tests.realtime.conftest import PRODUCTION, TIMEOUT, LiveServer, Serve


def consultation(live: LiveServer) -> str:
    return f"consultation:{live.world.consultation_id}"


async def test_a_citizens_support_reaches_everyone_following_the_consultation_and_the_proposal(
    live: LiveServer,
) -> None:
    topic, proposal = consultation(live), f"proposal:{live.world.proposal_id}"
    async with live.connect("citizen") as citizen, live.connect() as visitor:
        at = (await citizen.subscribe([topic]))[topic]
        assert at["epoch"] == citizen.welcome["epoch"]
        assert (await visitor.subscribe([proposal]))[proposal]["type"] == "subscribed"

        await asyncio.to_thread(live.support, "supporter0")  # the real action: outbox → relay → hub

        (frame,) = await citizen.events(1)
        assert (frame["topic"], frame["offset"], frame["epoch"]) == (topic, at["offset"] + 1, at["epoch"])
        event = frame["event"]
        assert event["type"] == "proposal.supported"
        assert event["data"]["support_count"] == 1
        assert event["actor"] is None, "who supported what must not ride on a public topic"
        (seen,) = await visitor.events(1)
        assert seen["topic"] == proposal and seen["event"] == event


async def test_a_reconnecting_client_gets_exactly_the_events_it_missed_in_order(live: LiveServer) -> None:
    topic = consultation(live)
    async with live.connect("citizen") as client:
        epoch = (await client.subscribe([topic]))[topic]["epoch"]
        await asyncio.to_thread(live.support, "supporter0")
        (last,) = await client.events(1)
    # Offline: three things happen.
    await asyncio.to_thread(live.support, "supporter1")
    await asyncio.to_thread(live.support, "supporter2")
    await asyncio.to_thread(live.unsupport, "supporter0")
    await asyncio.to_thread(live.wait_offset, topic, last["offset"] + 3)

    async with live.connect("citizen") as client:
        answer = await client.subscribe({topic: {"epoch": epoch, "offset": last["offset"]}})
        assert answer[topic] == {
            "type": "subscribed",
            "topic": topic,
            "epoch": epoch,
            "offset": last["offset"],
        }
        missed = await client.events(3)
        assert [f["offset"] for f in missed] == [last["offset"] + n for n in (1, 2, 3)]
        assert [f["event"]["type"] for f in missed] == ["proposal.supported"] * 2 + ["proposal.unsupported"]
        assert [f["event"]["data"]["support_count"] for f in missed] == [2, 3, 2]
        assert await client.roundtrip() == [], "nothing beyond the missed events (no duplicates)"
        # …and then it is live again, right after the replay.
        await asyncio.to_thread(live.support, "supporter3")
        (next_frame,) = await client.events(1)
        assert next_frame["offset"] == last["offset"] + 4


async def test_resuming_while_events_keep_coming_loses_and_repeats_nothing(live: LiveServer) -> None:
    """The subscription registers before it reads history, so the replay and the live stream
    overlap rather than leave a gap; the overlap is dropped by offset."""
    topic = consultation(live)
    async with live.connect("citizen") as client:
        epoch = (await client.subscribe([topic]))[topic]["epoch"]
    start = live.offset(topic)
    await asyncio.to_thread(live.emit_supports, 40)
    stop = threading.Event()

    def keep_emitting() -> None:
        n = 41
        while not stop.is_set() and n < 200:
            live.emit_supports(1, start=n)
            n += 1

    writer = threading.Thread(target=keep_emitting)
    writer.start()
    try:
        async with live.connect("citizen") as client:
            await client.subscribe({topic: {"epoch": epoch, "offset": start}})
            offsets = [f["offset"] for f in await client.events(120)]
    finally:
        stop.set()
        writer.join(TIMEOUT)
    assert offsets == list(range(start + 1, start + 121))


async def test_a_gap_older_than_the_kept_history_is_answered_with_reset(serve: Serve) -> None:
    live = serve(stream_history=5)
    topic = consultation(live)
    async with live.connect("citizen") as client:
        at = (await client.subscribe([topic]))[topic]
    # Redis trims whole nodes of ~100 entries ("MAXLEN ~"): enough events that the start is gone.
    await asyncio.to_thread(live.emit_supports, 250)
    await asyncio.to_thread(live.wait_offset, topic, at["offset"] + 250)

    async with live.connect("citizen") as client:
        answer = await client.subscribe({topic: {"epoch": at["epoch"], "offset": at["offset"]}})
        assert answer[f"reset:{topic}"] == {"type": "reset", "topic": topic, "epoch": at["epoch"]}
        # The subscription goes on from now: the page reloads its state and follows new events.
        assert answer[topic]["offset"] == at["offset"] + 250
        assert await client.roundtrip() == []


async def test_more_missed_events_than_the_replay_limit_is_a_reset(serve: Serve) -> None:
    live = serve(hub={"max_replay": 10})
    topic = consultation(live)
    async with live.connect("citizen") as client:
        at = (await client.subscribe([topic]))[topic]
    await asyncio.to_thread(live.emit_supports, 11)
    await asyncio.to_thread(live.wait_offset, topic, at["offset"] + 11)
    async with live.connect("citizen") as client:
        answer = await client.subscribe({topic: {"epoch": at["epoch"], "offset": at["offset"]}})
        assert f"reset:{topic}" in answer
        assert await client.roundtrip() == []


async def test_a_position_from_another_epoch_is_answered_with_reset(live: LiveServer) -> None:
    topic = consultation(live)
    async with live.connect("citizen") as client:
        answer = await client.subscribe({topic: {"epoch": "before-a-restart", "offset": 3}})
        epoch = client.welcome["epoch"]
        assert answer[f"reset:{topic}"] == {"type": "reset", "topic": topic, "epoch": epoch}
        assert answer[topic] == {
            "type": "subscribed",
            "topic": topic,
            "epoch": epoch,
            "offset": live.offset(topic),
        }


async def test_a_client_that_stops_reading_is_cut_off_with_4008_while_the_others_get_everything(
    serve: Serve,
) -> None:
    # Small kernel buffers on both ends, so the laggard backs up after kilobytes, not megabytes.
    live = serve(hub={"queue_frames": 50}, send_buffer=16_384)
    topic = consultation(live)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: sets the window
    raw.connect(("127.0.0.1", live.port))
    async with live.connect("citizen") as fast, live.connect(sock=raw, max_queue=1) as slow:
        start = (await fast.subscribe([topic]))[topic]["offset"]
        await slow.subscribe([topic])
        count = 3000
        await asyncio.to_thread(live.emit_supports, count)

        offsets = [f["offset"] for f in await fast.events(count)]
        assert offsets == list(range(start + 1, start + count + 1))

        received = 0
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(count + 10):
                await slow.recv()
                received += 1
        assert closed.value.rcvd is not None and closed.value.rcvd.code == protocol.CLOSE_TOO_SLOW
        assert received < count
        assert live.hub.stats.cut_off == 1


async def test_the_follower_survives_backend_errors_and_misses_nothing_published_meanwhile(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = consultation(live)
    backend = live.runtime.backend
    real_read = backend.read
    failures = {"left": 3}

    def flaky_read(*args, **kwargs):  # type: ignore[no-untyped-def]
        if failures["left"] > 0:
            failures["left"] -= 1
            raise ConnectionError("Redis went away")
        return real_read(*args, **kwargs)

    async with live.connect("citizen") as client:
        at = (await client.subscribe([topic]))[topic]
        monkeypatch.setattr(backend, "read", flaky_read)
        for _ in range(int(TIMEOUT / 0.05)):  # the follower's current read ends within its block time
            if live.hub.stats.follow_errors:
                break
            await asyncio.sleep(0.05)
        assert live.hub.stats.follow_errors >= 1
        await asyncio.to_thread(live.emit_supports, 5)  # published while the follower is failing

        offsets = [f["offset"] for f in await client.events(5)]
        assert offsets == [at["offset"] + n for n in range(1, 6)]
        assert failures["left"] == 0


@pytest.mark.services
@pytest.mark.skipif(not PRODUCTION, reason="kills a real Redis connection")
async def test_the_follower_reconnects_when_redis_drops_its_connection(live: LiveServer) -> None:
    topic = consultation(live)
    redis = live.runtime.backend.redis  # type: ignore[attr-defined]
    async with live.connect("citizen") as client:
        at = (await client.subscribe([topic]))[topic]
        await asyncio.sleep(0.2)  # the follower is inside its blocking XREAD
        killed = 0
        for entry in await asyncio.to_thread(redis.client_list):
            if entry.get("cmd") == "xread":
                killed += await asyncio.to_thread(redis.client_kill_filter, _id=entry["id"])
        assert killed >= 1
        await asyncio.to_thread(live.emit_supports, 3)
        offsets = [f["offset"] for f in await client.events(3)]
        assert offsets == [at["offset"] + n for n in (1, 2, 3)]


async def test_an_unsubscribed_topic_stops_delivering(live: LiveServer) -> None:
    topic, proposal = consultation(live), f"proposal:{live.world.proposal_id}"
    async with live.connect("citizen") as client:
        await client.subscribe([topic, proposal])
        await client.send({"type": "unsubscribe", "topics": [topic]})
        assert await client.recv() == {"type": "unsubscribed", "topic": topic}
        await asyncio.to_thread(live.support, "supporter0")
        (frame,) = await client.events(1)
        assert frame["topic"] == proposal
        assert await client.roundtrip() == []
        assert live.hub.subscriber_count(topic) == 0


async def test_subscribing_twice_replays_nothing_and_says_where_the_topic_stands(live: LiveServer) -> None:
    topic = consultation(live)
    async with live.connect("citizen") as client:
        first = (await client.subscribe([topic]))[topic]
        await asyncio.to_thread(live.support, "supporter0")
        await client.events(1)
        again = (await client.subscribe({topic: {"epoch": first["epoch"], "offset": 0}}))[topic]
        assert again["offset"] == first["offset"] + 1
        assert await client.roundtrip() == []
