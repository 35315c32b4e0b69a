"""The hub's pure parts, without a server: parsing, topic names, origins, and the per-socket
bookkeeping that makes delivery exactly-once and in order."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from civic.events.backends import Published
from civic.realtime import protocol
from civic.realtime.config import HubConfig
from civic.realtime.connection import Connection, TopicState
from civic.realtime.endpoint import origin_allowed
from civic.realtime.hub import Hub
from civic.realtime.protocol import Ping, Position, ProtocolError, Subscribe, Unsubscribe
from civic.realtime.subscriptions import Start, _begin
from civic.realtime.topics import known


def test_client_frames_parse_into_messages() -> None:
    parse = lambda text: protocol.parse(text, max_topics=5)  # noqa: E731
    assert parse('{"type":"ping"}') == Ping()
    assert parse('{"type":"ping","id":"a"}') == Ping("a")
    assert parse('{"type":"subscribe","topics":["consultation:7"]}') == Subscribe({"consultation:7": None})
    assert parse(
        '{"type":"subscribe","topics":{"consultation:7":{"epoch":"e1","offset":12},"user:3":{}}}'
    ) == (Subscribe({"consultation:7": Position("e1", 12), "user:3": None}))
    assert parse('{"type":"unsubscribe","topics":["a","a","b"]}') == Unsubscribe(["a", "b"])


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{", "bad_frame"),
        ('"ping"', "bad_frame"),
        ('{"type":1}', "bad_frame"),
        ('{"type":"subscribe","topics":{}}', "bad_frame"),
        ('{"type":"subscribe","topics":{"a":{"epoch":"e","offset":-1}}}', "bad_frame"),
        ('{"type":"subscribe","topics":{"a":{"epoch":"e","offset":true}}}', "bad_frame"),
        ('{"type":"subscribe","topics":{"a":{"offset":3}}}', "bad_frame"),
        ('{"type":"subscribe","topics":["a","b","c","d","e","f"]}', "too_many_topics"),
        ('{"type":"unsubscribe","topics":"a"}', "bad_frame"),
        ('{"type":"subscribe","topics":[{}]}', "bad_frame"),
        ('{"type":"subscribe","topics":["x' + "y" * 200 + '"]}', "bad_frame"),
        ("[" * 50_000, "bad_frame"),
    ],
)
def test_bad_client_frames_are_refused_with_a_code(text: str, code: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        protocol.parse(text, max_topics=5)
    assert refused.value.code == code


def test_an_event_frame_embeds_the_published_json_verbatim() -> None:
    envelope = '{"id":"x","type":"proposal.supported","data":{"n":"ü"}}'
    frame = protocol.event("proposal:1", 4, "ep", envelope)
    assert json.loads(frame) == {
        "type": "event",
        "topic": "proposal:1",
        "offset": 4,
        "epoch": "ep",
        "event": json.loads(envelope),
    }
    assert frame.endswith(envelope + "}")


@pytest.mark.parametrize(
    ("topic", "ok"),
    [
        ("consultation:7", True),
        ("proposal:12", True),
        ("user:3", True),
        ("moderation:agency:2", True),
        ("dashboard:agency:2", True),
        ("dashboard:global", True),
        ("consultation:07", False),
        ("consultation:0", False),
        ("dashboard:agency", False),
        ("moderation:3", False),
        ("user:3:extra", False),
    ],
)
def test_only_canonical_topic_names_are_known(topic: str, ok: bool) -> None:
    assert known(topic) is ok


@pytest.mark.parametrize(
    ("origin", "host", "ok"),
    [
        (None, "civic.example", True),
        ("https://civic.example", "civic.example", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("HTTPS://Civic.Example", "civic.example", True),
        ("https://base.example", "internal:8000", True),  # the configured base_url, behind a proxy
        ("https://evil.example", "civic.example", False),
        ("https://civic.example.evil", "civic.example", False),
        ("http://127.0.0.1:9999", "127.0.0.1:8000", False),
        ("null", "civic.example", False),
        ("file://", "civic.example", False),
    ],
)
def test_origins(origin: str | None, host: str, ok: bool) -> None:
    assert origin_allowed(origin, host, "https://base.example") is ok


def test_hub_limits_come_from_ws_settings_when_they_exist() -> None:
    assert HubConfig.from_settings(SimpleNamespace()) == HubConfig()
    config = HubConfig.from_settings(SimpleNamespace(ws_queue_frames=10, ws_max_lifetime_seconds=60.0))
    assert (config.queue_frames, config.max_lifetime_seconds) == (10, 60.0)


# ---- per-socket bookkeeping ----------------------------------------------------------------------


class FakeSocket:
    """Records what is written; a stalled one never finishes a write (a client not reading)."""

    def __init__(self, stalled: bool = False) -> None:
        self.sent: list[str] = []
        self.stalled = stalled

    async def send_text(self, frame: str) -> None:
        if self.stalled:
            await asyncio.get_running_loop().create_future()
        self.sent.append(frame)


def connection(queue_frames: int = 100, stalled: bool = False) -> tuple[Connection, list[Connection]]:
    closed: list[Connection] = []
    conn = Connection(
        FakeSocket(stalled),  # type: ignore[arg-type]
        HubConfig(queue_frames=queue_frames),
        account_id=None,
        session_token=None,
        on_close=closed.append,
    )
    return conn, closed


def queued(conn: Connection) -> list[Any]:
    """What was written to the socket since the last look, as (type, offset)."""
    out = []
    for raw in conn.websocket.sent:  # type: ignore[attr-defined]
        frame = json.loads(raw)
        out.append((frame["type"], frame.get("offset")))
    conn.websocket.sent.clear()  # type: ignore[attr-defined]
    return out


def published(offset: int, topic: str = "t:1", epoch: str = "e") -> Published:
    return Published(f"id{offset}", json.dumps({"id": f"id{offset}"}), epoch, {topic: offset}, str(offset))


async def test_replay_then_held_live_frames_arrive_in_order_without_duplicates() -> None:
    conn, _ = connection()
    state = TopicState()  # pending: the subscription is being set up
    conn.topics["t:1"] = state
    for offset in (3, 4, 5):  # live events that arrived while history was read (3 overlaps it)
        conn.offer("t:1", "e", offset, protocol.event("t:1", offset, "e", "{}"))
    await _begin(conn, "t:1", state, Start("e", 1, [published(2), published(3)]))
    assert queued(conn) == [("subscribed", 1), ("event", 2), ("event", 3), ("event", 4), ("event", 5)]
    conn.offer("t:1", "e", 5, protocol.event("t:1", 5, "e", "{}"))  # a repeat: dropped
    conn.offer("t:1", "e", 6, protocol.event("t:1", 6, "e", "{}"))
    assert queued(conn) == [("event", 6)]


async def test_a_new_epoch_on_the_live_stream_is_announced_as_a_reset() -> None:
    conn, _ = connection()
    conn.topics["t:1"] = TopicState(epoch="old", last=40, pending=None)
    conn.offer("t:1", "new", 1, protocol.event("t:1", 1, "new", "{}"))
    assert queued(conn) == [("reset", None), ("event", 1)]


async def test_a_hole_in_a_topics_offsets_is_announced_as_a_reset() -> None:
    conn, _ = connection()
    conn.topics["t:1"] = TopicState(epoch="e", last=4, pending=None)
    for offset in (5, 8):  # 6 and 7 never reached the hub
        conn.offer("t:1", "e", offset, protocol.event("t:1", offset, "e", "{}"))
    assert queued(conn) == [("event", 5), ("reset", None), ("event", 8)]


async def test_a_full_backlog_cuts_the_socket_off_and_takes_it_out_of_the_hub() -> None:
    conn, closed = connection(queue_frames=3, stalled=True)
    conn.topics["t:1"] = TopicState(epoch="e", pending=None)
    for offset in range(1, 5):  # 1 waits to be written, 2-4 fill the backlog
        conn.offer("t:1", "e", offset, protocol.event("t:1", offset, "e", "{}"))
    assert conn.close_code is None and conn.backlog is not None and len(conn.backlog) == 3
    conn.offer("t:1", "e", 5, protocol.event("t:1", 5, "e", "{}"))
    assert conn.close_code == protocol.CLOSE_TOO_SLOW
    assert closed == [conn]
    assert conn.send("{}") is False  # nothing more is taken once it is closing
    conn.stop_writing()


async def test_a_write_that_waits_is_finished_by_a_task_then_direct_writes_resume() -> None:
    conn, _ = connection()
    conn.topics["t:1"] = TopicState(epoch="e", pending=None)
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    socket = conn.websocket
    real = socket.send_text

    async def slow_once(frame: str) -> None:
        socket.send_text = real  # type: ignore[method-assign]
        await gate
        socket.sent.append(frame)  # type: ignore[attr-defined]

    socket.send_text = slow_once  # type: ignore[method-assign]
    for offset in (1, 2, 3):
        conn.offer("t:1", "e", offset, protocol.event("t:1", offset, "e", "{}"))
    assert queued(conn) == []  # 1 waits for the socket, 2 and 3 queue behind it
    gate.set_result(None)
    for _ in range(10):
        await asyncio.sleep(0)
    assert queued(conn) == [("event", 1), ("event", 2), ("event", 3)]
    assert conn.backlog is None
    conn.offer("t:1", "e", 4, protocol.event("t:1", 4, "e", "{}"))
    assert queued(conn) == [("event", 4)]  # written at once again: no task involved


async def test_the_hub_builds_each_frame_once_for_all_subscribers() -> None:
    hub = Hub(SimpleNamespace(), HubConfig())  # type: ignore[arg-type]
    a, _ = connection()
    b, _ = connection()
    for conn in (a, b):
        conn.topics["t:1"] = TopicState(epoch="e", pending=None)
        hub.subscribe(conn, "t:1")
    hub.dispatch([published(1), published(1, topic="other:1")])
    (frame_a,), (frame_b,) = a.websocket.sent, b.websocket.sent  # type: ignore[attr-defined]
    assert frame_a is frame_b
    assert hub.stats.events == 2 and hub.stats.frames == 2
