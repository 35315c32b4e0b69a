"""Two facts the hub needs that the EventBackend protocol does not (yet) expose:

- `log_end`: the global log's current end, so the follower starts exactly there. Re-reading with
  "$" after every empty read would lose an event published between two reads.
- `topic_offset`: a topic's last offset, so a client subscribing "from now" is told a position
  it can later resume from, read *after* the subscription is registered so no event falls in
  between.

A backend that grows `end_position()` / `last_offset(topic)` methods is asked directly; until
then the two shipped backends are read through their (documented) storage layout. Both calls
block (Redis round trips): run them in a worker thread.
"""

from __future__ import annotations

from civic.events.backends import EventBackend
from civic.events.backends.memory import MemoryBackend
from civic.events.backends.redis_streams import RedisStreamsBackend


def log_end(backend: EventBackend) -> str:
    """The position of the last event in the global log ("0"-like when empty)."""
    method = getattr(backend, "end_position", None)
    if callable(method):
        return str(method())
    if isinstance(backend, RedisStreamsBackend):
        last = backend.redis.xrevrange(f"{backend.prefix}:all", "+", "-", count=1)
        return str(last[0][0]) if last else "0-0"
    if isinstance(backend, MemoryBackend):
        with backend._cond:
            return str(backend._position)
    return "$"  # an unknown backend: may miss an event between two empty reads


def topic_offset(backend: EventBackend, topic: str) -> int:
    """The offset of the topic's last event (0 when it has none)."""
    method = getattr(backend, "last_offset", None)
    if callable(method):
        return int(method(topic))
    if isinstance(backend, RedisStreamsBackend):
        return int(backend.redis.get(f"{backend.prefix}:off:{topic}") or 0)
    if isinstance(backend, MemoryBackend):
        with backend._cond:
            return backend._offsets.get(topic, 0)
    raise TypeError(f"{type(backend).__name__} cannot tell a topic's last offset")
