"""Presence: how many pages are following a consultation right now, across every web process.

Counted: sockets subscribed to a `consultation:{id}` topic (two tabs count twice). Nothing about
who they are is stored or sent: a socket is known only by a connection id that is random per
process plus a counter, and the frame carries a number.

- Embedded (one process, the in-process bus): the count is this hub's own subscriber count.
- Redis: one sorted set per topic, `{prefix}:presence:{topic}`, member = connection id, score =
  when its process last vouched for it. Every web process adds and removes its own sockets and
  re-scores all of them every `presence_ttl_seconds / 3`; a member older than the TTL (its process
  was killed) is pruned when counting, and the key expires once no process refreshes it.

Counts are announced by one loop per hub, every `presence_seconds`: a topic whose count changed
since the last announcement gets one `presence` frame for all its subscribers here (coalesced:
at most one per topic per period, however many come and go); sockets that subscribed since and
have not heard the count yet get it even when it did not change. Remote changes are noticed by
the same read, so a count is at most one period (plus the Redis round trip) old.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

from civic.events.backends import EventBackend
from civic.events.backends.redis_streams import RedisStreamsBackend
from civic.events.topics import parse
from civic.realtime import protocol
from civic.realtime.connection import Connection

PRESENCE_KINDS = frozenset({"consultation"})


def counted(topic: str) -> bool:
    """Whether the hub counts the followers of `topic`."""
    kind, number = parse(topic)
    return number is not None and kind in PRESENCE_KINDS


class RedisPresence:
    """The cross-process counts. `sync` is one pipelined round trip and runs in a thread."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.redis = client
        self.prefix = prefix

    def key(self, topic: str) -> str:
        return f"{self.prefix}:presence:{topic}"

    def sync(
        self,
        changes: dict[str, dict[str, bool]],
        refresh: dict[str, list[str]],
        topics: Iterable[str],
        now: float,
        ttl: float,
    ) -> dict[str, int]:
        """Apply joins (True) and leaves (False), re-score `refresh`, and count the members of
        `topics` vouched for within `ttl` seconds of `now` (older ones are removed)."""
        expire = max(1, int(ttl * 2))
        pipe = self.redis.pipeline(transaction=False)
        touched: dict[str, dict[str, float]] = {}
        for topic, members in refresh.items():
            touched.setdefault(topic, {}).update(dict.fromkeys(members, now))
        for topic, change in changes.items():
            joined = {member: now for member, present in change.items() if present}
            left = [member for member, present in change.items() if not present]
            if joined:
                touched.setdefault(topic, {}).update(joined)
            if left:
                pipe.zrem(self.key(topic), *left)
                if topic in touched:
                    for member in left:
                        touched[topic].pop(member, None)
        for topic, members in touched.items():
            if members:
                pipe.zadd(self.key(topic), members)
                pipe.expire(self.key(topic), expire)
        wanted = list(topics)
        for topic in wanted:
            pipe.zremrangebyscore(self.key(topic), "-inf", now - ttl)
            pipe.zcard(self.key(topic))
        results = pipe.execute()
        cards = results[len(results) - 2 * len(wanted) :]
        return {topic: int(cards[2 * i + 1]) for i, topic in enumerate(wanted)}


def store_for(backend: EventBackend) -> RedisPresence | None:
    """The Redis store when events go through Redis (several web processes); None: count locally."""
    if isinstance(backend, RedisStreamsBackend):
        return RedisPresence(backend.redis, backend.prefix)
    return None


class Announcer:
    """The hub's side: which sockets joined or left since the last round, and what each topic's
    subscribers here were last told. Runs on the event loop; only `RedisPresence.sync` blocks."""

    def __init__(self, store: RedisPresence | None) -> None:
        self.store = store
        self.changes: dict[str, dict[str, bool]] = {}  # topic -> connection id -> joined (False: left)
        self.newcomers: dict[str, set[Connection]] = {}  # not yet told the count
        self.told: dict[str, int] = {}  # topic -> count last announced here
        self.refreshed = 0.0  # when every local member was last re-scored in Redis

    def joined(self, topic: str, connection: Connection) -> None:
        if self.store is not None:
            self.changes.setdefault(topic, {})[connection.conn_id] = True
        self.newcomers.setdefault(topic, set()).add(connection)

    def left(self, topic: str, connection: Connection) -> None:
        if self.store is not None:
            self.changes.setdefault(topic, {})[connection.conn_id] = False
        waiting = self.newcomers.get(topic)
        if waiting is not None:
            waiting.discard(connection)
            if not waiting:
                del self.newcomers[topic]

    def due_refresh(self, now: float, ttl: float) -> bool:
        return now - self.refreshed >= ttl / 3

    def take_changes(self) -> dict[str, dict[str, bool]]:
        changes, self.changes = self.changes, {}
        return changes

    def restore_changes(self, changes: dict[str, dict[str, bool]]) -> None:
        """A failed sync: its changes are applied next time, under any newer ones."""
        for topic, change in changes.items():
            newer = self.changes.setdefault(topic, {})
            for member, present in change.items():
                newer.setdefault(member, present)

    def announce(self, counts: dict[str, int], subscribers: dict[str, set[Connection]]) -> int:
        """Send each topic's count to its live subscribers here if it changed, else to those who
        have not heard it; returns the frames sent."""
        sent = 0
        for topic, count in counts.items():
            followers = subscribers.get(topic)
            if not followers:
                continue
            if self.told.get(topic) != count:
                audience: Iterable[Connection] = tuple(followers)
            else:
                audience = tuple(self.newcomers.get(topic, ()))
                if not audience:
                    continue
            self.told[topic] = count
            frame = protocol.presence(topic, count)
            waiting: set[Connection] = set()
            for connection in audience:
                state = connection.topics.get(topic)
                if state is None:
                    continue
                if state.pending is not None:  # still replaying: tell it once it is live
                    waiting.add(connection)
                    continue
                if connection.send(frame):
                    sent += 1
            if waiting:
                self.newcomers[topic] = waiting
            else:
                self.newcomers.pop(topic, None)
        for topic in [t for t in self.told if t not in subscribers]:
            del self.told[topic]
        return sent
