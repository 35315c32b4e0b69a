"""Subscribing a socket to topics: authorize, then replay what it missed, then go live.

The order is what makes resuming exact. The socket is registered with the hub (its live frames
for the topic held back) *before* the backend is asked for history or the topic's last offset,
so every event is either in that answer or arrives live afterwards — usually both, and the
per-topic offset drops the copy. Held-back live frames are released only after the replay.

Frames produced here are queued with `Connection.put`, which waits for room: a big replay slows
only this socket's own reader, never the hub's fan-out.
"""

from __future__ import annotations

from dataclasses import dataclass

from civic.db import Database
from civic.events.backends import EventBackend, Published
from civic.identity.sessions import resolve_session
from civic.realtime import protocol, topics
from civic.realtime.connection import Connection, TopicState
from civic.realtime.hub import Hub
from civic.realtime.protocol import Position, Subscribe
from civic.settings import Settings


@dataclass(frozen=True)
class Start:
    """Where a new subscription begins: the position to announce and the events to replay first."""

    epoch: str
    offset: int
    events: list[Published]
    reset: bool = False


def authorize_topics(
    db: Database, settings: Settings, token: str | None, wanted: list[str]
) -> dict[str, topics.Refusal]:
    """The refusals among `wanted`, checked for whoever the session cookie says is logged in *now*
    (a session that ended since the socket opened counts as anonymous)."""
    with db.transaction() as session:
        account = resolve_session(session, settings, token) if token else None
        refusals = {}
        for topic in wanted:
            refusal = topics.check(session, account, topic)
            if refusal is not None:
                refusals[topic] = refusal
        return refusals


def starts(backend: EventBackend, wanted: dict[str, Position | None], max_replay: int) -> dict[str, Start]:
    """For each topic: replay from the client's position, or reset when that cannot be done
    (other epoch, trimmed history, more than `max_replay` missed in total), or start from now."""
    epoch = backend.current_epoch()
    budget = max_replay
    out: dict[str, Start] = {}
    for topic, position in wanted.items():
        if position is not None:
            history = backend.history(topic, position.offset, position.epoch, limit=budget + 1)
            if not history.reset and len(history.events) <= budget:
                budget -= len(history.events)
                out[topic] = Start(epoch, position.offset, history.events)
                continue
            out[topic] = Start(epoch, backend.last_offset(topic), [], reset=True)
        else:
            out[topic] = Start(epoch, backend.last_offset(topic), [])
    return out


async def subscribe(
    hub: Hub, connection: Connection, db: Database, settings: Settings, request: Subscribe
) -> None:
    """Answer every requested topic with `subscribed` (after a `reset` if needed) or an `error`."""
    config = hub.config
    wanted: dict[str, Position | None] = {}
    for topic, position in request.topics.items():
        state = connection.topics.get(topic)
        if state is not None:  # already following: say where it stands, replay nothing
            await connection.put(protocol.subscribed(topic, state.epoch, state.last))
        elif not topics.known(topic):
            await connection.put(
                protocol.error("unknown_topic", f"There is no topic {topic!r} to follow.", topic)
            )
        elif len(connection.topics) + len(wanted) >= config.max_topics:
            await connection.put(
                protocol.error(
                    "too_many_topics", f"A connection may follow at most {config.max_topics} topics.", topic
                )
            )
        else:
            wanted[topic] = position
    if not wanted:
        return

    try:
        refusals = await hub.in_pool(authorize_topics, db, settings, connection.session_token, list(wanted))
    except Exception:
        await _unavailable(connection, list(wanted))
        return
    for topic, refusal in refusals.items():
        del wanted[topic]
        await connection.put(protocol.error(refusal.code, refusal.message, topic))
    if not wanted or connection.stopping:
        return

    for topic in wanted:
        connection.topics[topic] = TopicState()  # pending: live frames are held until replayed
        hub.subscribe(connection, topic)
    try:
        begun = await hub.in_pool(starts, hub.backend, wanted, config.max_replay)
    except Exception:
        for topic in wanted:
            hub.unsubscribe(connection, topic)
        await _unavailable(connection, list(wanted))
        return

    for topic, start in begun.items():
        state = connection.topics.get(topic)
        if state is None:
            continue
        await _begin(connection, topic, state, start)


async def _begin(connection: Connection, topic: str, state: TopicState, start: Start) -> None:
    state.epoch, state.last = start.epoch, start.offset
    if start.reset:
        await connection.put(protocol.reset(topic, start.epoch))
    await connection.put(protocol.subscribed(topic, start.epoch, start.offset))
    for published in start.events:
        offset = published.offsets.get(topic)
        if offset is not None and offset > state.last:
            state.last = offset
            await connection.put(protocol.event(topic, offset, published.epoch, published.event_json))
    # Release the live frames held meanwhile; more may arrive while we wait for room, so loop
    # until none is left, and only then let live frames through directly (keeps them in order).
    while state.pending:
        held, state.pending = state.pending, []
        for epoch, offset, frame in held:
            for out in connection.accept(topic, state, epoch, offset, frame):
                await connection.put(out)
    state.pending = None


async def _unavailable(connection: Connection, wanted: list[str]) -> None:
    for topic in wanted:
        await connection.put(
            protocol.error("unavailable", "Live updates are unavailable right now; try again shortly.", topic)
        )
