"""The socket's edges: who may open one, what happens to bad input, and how it ends."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from civic.realtime import protocol
from tests.realtime.conftest import TIMEOUT, LiveServer, Serve


async def closed_with(client_ws, timeout: float = TIMEOUT) -> int | None:  # type: ignore[no-untyped-def]
    """Read until the server closes; its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(1000):
            await asyncio.wait_for(client_ws.recv(), timeout)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_a_page_from_another_site_cannot_open_a_socket_with_the_visitors_cookie(
    live: LiveServer,
) -> None:
    for origin in ("https://evil.example", "http://127.0.0.1.evil.example", "null"):
        with pytest.raises(InvalidStatus) as refused:
            async with live.connect("citizen", origin=origin):
                pass
        assert refused.value.response.status_code == 403
    assert live.hub.connections == set()


async def test_the_sites_own_origin_and_clients_without_one_are_welcome(serve: Serve) -> None:
    live = serve(base_url="https://civic.example")
    for origin in (f"http://127.0.0.1:{live.port}", "https://civic.example", None):
        async with live.connect("citizen", origin=origin) as client:
            assert client.welcome["account"] == live.world.ids["citizen"]


async def test_a_visitor_without_a_session_is_anonymous(live: LiveServer) -> None:
    async with live.connect() as client:
        assert client.welcome["account"] is None
        assert client.welcome["epoch"]


async def test_malformed_frames_get_an_error_and_the_socket_keeps_working(live: LiveServer) -> None:
    topic = f"consultation:{live.world.consultation_id}"
    async with live.connect("citizen") as client:
        for bad in (
            "not json",
            "[1, 2]",
            '{"no": "type"}',
            '{"type": "dance"}',
            '{"type": "subscribe"}',
            '{"type": "subscribe", "topics": {"consultation:1": {"epoch": "e"}}}',
            "[" * 10_000,
        ):
            await client.send(bad)
            error = await client.expect("error")
            assert error["code"] == "bad_frame" and error["message"]
        await client.ws.send(b"\x00binary")
        assert (await client.expect("error"))["code"] == "bad_frame"

        await client.send({"type": "ping", "id": 7})
        assert await client.recv() == {"type": "pong", "id": 7}
        assert (await client.subscribe([topic]))[topic]["type"] == "subscribed"


async def test_a_client_that_keeps_sending_garbage_is_closed_with_1008(serve: Serve) -> None:
    live = serve(hub={"max_bad_frames": 3})
    async with live.connect() as client:
        for _ in range(4):
            await client.send("garbage")
        assert await closed_with(client.ws) == protocol.CLOSE_POLICY


async def test_an_oversized_frame_closes_the_socket_with_1009(live: LiveServer) -> None:
    async with live.connect() as client:
        await client.send({"type": "ping", "id": "x" * (17 * 1024)})
        assert await closed_with(client.ws) == protocol.CLOSE_TOO_BIG


async def test_topics_beyond_the_sockets_limit_are_refused(serve: Serve) -> None:
    live = serve(hub={"max_topics": 2})
    w = live.world
    wanted = [f"consultation:{w.consultation_id}", f"proposal:{w.proposal_id}", f"user:{w.ids['citizen']}"]
    async with live.connect("citizen") as client:
        answers = await client.subscribe(wanted[:2])
        assert [answers[t]["type"] for t in wanted[:2]] == ["subscribed", "subscribed"]
        answers = await client.subscribe(wanted[2:])
        assert answers[wanted[2]]["code"] == "too_many_topics"
        # A single message naming more topics than a socket may follow is refused whole.
        await client.send({"type": "subscribe", "topics": [f"topic:{n}" for n in range(3)]})
        assert (await client.expect("error"))["code"] == "too_many_topics"


async def test_a_socket_is_asked_to_reconnect_when_its_lifetime_ends(serve: Serve) -> None:
    live = serve(hub={"max_lifetime_seconds": 0.3})
    async with live.connect() as client:
        assert await closed_with(client.ws) == protocol.CLOSE_RECONNECT


async def test_heartbeats_flow_while_nothing_happens(serve: Serve) -> None:
    live = serve(hub={"heartbeat_seconds": 0.1})
    async with live.connect() as client:
        assert client.welcome["heartbeat"] == 0.1
        raw = [await asyncio.wait_for(client.ws.recv(), TIMEOUT) for _ in range(2)]
        assert raw == ['{"type":"heartbeat"}'] * 2


async def test_stopping_the_hub_closes_sockets_with_going_away(live: LiveServer) -> None:
    async with live.connect() as client:
        loop = live.hub._loop
        assert loop is not None
        stopping = asyncio.run_coroutine_threadsafe(live.hub.stop(), loop)
        assert await closed_with(client.ws) == protocol.CLOSE_GOING_AWAY
        await asyncio.wrap_future(stopping)
    assert live.hub.connections == set()
