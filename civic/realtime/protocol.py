"""The WebSocket protocol's messages (PROTOCOL.md): parsing what clients send, building what the
server sends.

Client input is parsed into small dataclasses or refused with a `ProtocolError` whose code goes
back in an error frame; nothing here raises anything else on bad input. Event frames are built
by string concatenation around the envelope JSON the backend already serialised, so an event is
encoded once however many sockets receive it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Close codes. 4xxx are ours; a browser client reconnects (and resumes) on every code except
# the ones that say it sent something wrong.
CLOSE_GOING_AWAY = 1001  # server shutting down
CLOSE_POLICY = 1008  # too many malformed messages
CLOSE_TOO_BIG = 1009  # a message above the frame limit
CLOSE_SERVER_ERROR = 1011  # a bug on our side: reconnect
CLOSE_TRY_AGAIN = 1013  # the database or the event backend is unavailable right now
CLOSE_RECONNECT = 4000  # connection lifetime reached: reconnect and resume
CLOSE_TOO_SLOW = 4008  # the client fell behind its queue: reconnect and resume
CLOSE_ORIGIN = 4403  # refused before the handshake (the client sees HTTP 403)

MAX_TOPIC_LENGTH = 120
MAX_EPOCH_LENGTH = 64


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, topic: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.topic = topic


@dataclass(frozen=True)
class Position:
    """Where a client is in a topic: the last offset it has, in the epoch it was given."""

    epoch: str
    offset: int


@dataclass(frozen=True)
class Subscribe:
    topics: dict[str, Position | None]


@dataclass(frozen=True)
class Unsubscribe:
    topics: list[str]


@dataclass(frozen=True)
class Ping:
    id: str | int | None = None


ClientMessage = Subscribe | Unsubscribe | Ping


def parse(text: str, *, max_topics: int) -> ClientMessage:
    """Decode one client frame; raise ProtocolError("bad_frame" | "too_many_topics") if it is wrong."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("bad_frame", "Frames are JSON objects; this one is not JSON.") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError("bad_frame", 'Frames are JSON objects with a "type".')
    kind = data["type"]
    if kind == "ping":
        ping_id = data.get("id")
        return Ping(ping_id if isinstance(ping_id, str | int) and not isinstance(ping_id, bool) else None)
    if kind == "subscribe":
        return Subscribe(_subscribe_topics(data.get("topics"), max_topics))
    if kind == "unsubscribe":
        raw = data.get("topics")
        if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
            raise ProtocolError("bad_frame", '"unsubscribe" takes "topics": a list of topic names.')
        if len(raw) > max_topics:
            raise ProtocolError("too_many_topics", f"At most {max_topics} topics per message.")
        return Unsubscribe(list(dict.fromkeys(raw)))
    raise ProtocolError(
        "bad_frame", f"Unknown message type {kind[:40]!r}: use subscribe, unsubscribe or ping."
    )


def _subscribe_topics(raw: Any, max_topics: int) -> dict[str, Position | None]:
    # A plain list is accepted too: ["consultation:7"] means "only new events".
    if isinstance(raw, list):
        if not all(isinstance(topic, str) for topic in raw):
            raise ProtocolError("bad_frame", "Topic names are strings.")
        raw = dict.fromkeys(raw)
    if not isinstance(raw, dict) or not raw:
        raise ProtocolError(
            "bad_frame", '"subscribe" takes "topics": {"topic": {"epoch": "…", "offset": 12} or {}}.'
        )
    if len(raw) > max_topics:
        raise ProtocolError("too_many_topics", f"At most {max_topics} topics per message.")
    out: dict[str, Position | None] = {}
    for topic, where in raw.items():
        if not isinstance(topic, str) or not topic or len(topic) > MAX_TOPIC_LENGTH:
            raise ProtocolError("bad_frame", "Topic names are non-empty strings of at most 120 characters.")
        out[topic] = _position(topic, where)
    return out


def _position(topic: str, where: Any) -> Position | None:
    if where is None or where == {}:
        return None
    if not isinstance(where, dict):
        raise ProtocolError("bad_frame", "A topic's position is an object {epoch, offset}.", topic)
    epoch, offset = where.get("epoch"), where.get("offset")
    if epoch is None and offset is None:
        return None
    if (
        not isinstance(epoch, str)
        or not 0 < len(epoch) <= MAX_EPOCH_LENGTH
        or not isinstance(offset, int)
        or isinstance(offset, bool)
        or offset < 0
    ):
        raise ProtocolError(
            "bad_frame", "A position needs both an epoch (string) and an offset (integer >= 0).", topic
        )
    return Position(epoch, offset)


# ---- server frames ---------------------------------------------------------------------------


def _frame(**fields: Any) -> str:
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def welcome(epoch: str, account_id: int | None, heartbeat_seconds: float, max_frame_bytes: int) -> str:
    return _frame(
        type="welcome",
        epoch=epoch,
        account=account_id,
        heartbeat=heartbeat_seconds,
        max_frame_bytes=max_frame_bytes,
    )


def subscribed(topic: str, epoch: str, offset: int) -> str:
    return _frame(type="subscribed", topic=topic, epoch=epoch, offset=offset)


def unsubscribed(topic: str) -> str:
    return _frame(type="unsubscribed", topic=topic)


def reset(topic: str, epoch: str) -> str:
    return _frame(type="reset", topic=topic, epoch=epoch)


def error(code: str, message: str, topic: str | None = None) -> str:
    if topic is None:
        return _frame(type="error", code=code, message=message)
    return _frame(type="error", code=code, message=message, topic=topic)


def pong(ping_id: str | int | None) -> str:
    return _frame(type="pong") if ping_id is None else _frame(type="pong", id=ping_id)


HEARTBEAT = _frame(type="heartbeat")


def event(topic: str, offset: int, epoch: str, event_json: str) -> str:
    """An event frame around the envelope JSON as published (already serialised, embedded verbatim)."""
    return (
        '{"type":"event","topic":'
        + json.dumps(topic)
        + ',"offset":'
        + str(int(offset))
        + ',"epoch":'
        + json.dumps(epoch)
        + ',"event":'
        + event_json
        + "}"
    )


def presence(topic: str, count: int) -> str:
    """How many sockets follow `topic` now, across every web process: a number, never who."""
    return _frame(type="presence", topic=topic, count=count)
