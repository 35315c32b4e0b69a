"""The hub: one follower per web process reading the global event log, fanning out to sockets;
one heartbeat loop for all sockets; presence counts (presence.py).

Every web process follows the backend's global log itself, from its own position (no consumer
group: a group would split the events between processes). Reads block, so they run in a worker
thread of their own; each batch is dispatched on the event loop: for every (event, topic) the
frame is built once and offered to each subscribed socket, which writes it at once or queues it
in its bounded backlog. Offering never awaits, so one slow browser cannot delay the others (it
is cut off instead; see connection.py).

When the backend fails (Redis restarting), the follower retries with backoff from the position
it had, so nothing published meanwhile is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from civic.events.backends import EventBackend, Published
from civic.realtime import presence, protocol
from civic.realtime.config import HubConfig
from civic.realtime.connection import Connection

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class HubStats:
    events: int = 0  # events read from the global log
    frames: int = 0  # frames offered to sockets
    cut_off: int = 0  # sockets closed for falling behind
    follow_errors: int = 0
    presence_frames: int = 0
    presence_errors: int = 0


class Hub:
    def __init__(self, backend: EventBackend, config: HubConfig) -> None:
        self.backend = backend
        self.config = config
        self.stats = HubStats()
        self.position: str | None = None
        self.connections: set[Connection] = set()
        self.open_sockets = 0  # endpoints still running (a closing socket has left `connections`)
        self._subscribers: dict[str, set[Connection]] = {}
        self._follower: asyncio.Task[None] | None = None
        self._loops: list[asyncio.Task[None]] = []
        # Unique across processes: the presence store tells sockets of different processes apart.
        self._process_id = uuid.uuid4().hex[:12]
        self._ids = itertools.count(1)
        self.presence = presence.Announcer(presence.store_for(backend))
        self._loop: asyncio.AbstractEventLoop | None = None
        # The follower's blocking read holds a thread for its whole wait: give it its own, so it
        # never competes with request handlers for the shared pool.
        self._limiter = anyio.CapacityLimiter(1)
        # Handshakes and subscriptions (session, grants, history) share a few of the pool's
        # threads: a reconnect storm of thousands of sockets after a deploy queues here instead
        # of taking every thread HTTP requests need (and growing the process by a thread stack
        # and malloc arena each).
        self._socket_limiter = anyio.CapacityLimiter(config.socket_threads)

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Fix the starting position at the log's current end, then follow it.

        Idempotent. An app serves from one event loop; when a second loop runs the same app's
        lifespan (two test clients at once) the hub stays with the first one.
        """
        if self._follower is not None:
            return
        self._loop = asyncio.get_running_loop()
        try:
            self.position = await anyio.to_thread.run_sync(self.backend.end_position)
        except Exception as exc:  # the backend is down: the follower keeps trying
            log.warning("realtime hub: cannot read the log's end yet (%s); will retry", exc)
        self._follower = asyncio.create_task(self._follow(), name="civic-realtime-follower")
        self._loops = [
            asyncio.create_task(self._heartbeats(), name="civic-realtime-heartbeats"),
            asyncio.create_task(self._presence_loop(), name="civic-realtime-presence"),
        ]

    async def stop(self) -> None:
        """Stop following and close every socket with 1001 (going away)."""
        if self._loop is not asyncio.get_running_loop():
            return
        self._loop = None
        for task in [*self._loops, self._follower]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._follower, self._loops = None, []
        for connection in list(self.connections):
            connection.close_soon(protocol.CLOSE_GOING_AWAY, "server shutting down")
        deadline = time.monotonic() + self.config.close_timeout_seconds + 1
        while self.open_sockets and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self.presence.store is not None:  # leave the shared counts now, not after the TTL
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._sync_presence([]), 2)

    # ---- registry -----------------------------------------------------------------------------

    def new_connection_id(self) -> str:
        return f"{self._process_id}:{next(self._ids)}"

    def attach(self, connection: Connection) -> None:
        self.connections.add(connection)
        self.open_sockets += 1

    def finished(self, connection: Connection) -> None:
        """The socket's endpoint has returned."""
        self.open_sockets -= 1

    def detach(self, connection: Connection) -> None:
        """Forget a socket everywhere (called as soon as it is decided to close)."""
        if connection in self.connections and connection.close_code == protocol.CLOSE_TOO_SLOW:
            self.stats.cut_off += 1
        self.connections.discard(connection)
        for topic in connection.topics:
            self._unlink(topic, connection)

    def subscribe(self, connection: Connection, topic: str) -> None:
        if connection.stopping:  # it left the hub already: registering it now would leak it
            return
        subscribers = self._subscribers.setdefault(topic, set())
        if connection not in subscribers:
            subscribers.add(connection)
            if presence.counted(topic):
                self.presence.joined(topic, connection)

    def unsubscribe(self, connection: Connection, topic: str) -> None:
        connection.topics.pop(topic, None)
        self._unlink(topic, connection)

    def _unlink(self, topic: str, connection: Connection) -> None:
        subscribers = self._subscribers.get(topic)
        if subscribers is not None and connection in subscribers:
            subscribers.discard(connection)
            if presence.counted(topic):
                self.presence.left(topic, connection)
            if not subscribers:
                del self._subscribers[topic]

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    # ---- following and fan-out ----------------------------------------------------------------

    @property
    def batch_limit(self) -> int:
        """Events dispatched at once. A socket whose buffers fill during a batch queues the rest
        in its backlog, drained only after the batch, so a batch must fit in a backlog many times
        over (one event is a frame per subscribed topic): otherwise a fast client would be cut
        off by a burst it had no chance to read."""
        return max(1, min(500, self.config.queue_frames // 8))

    async def _follow(self) -> None:
        failures = 0
        while True:
            try:
                if self.position is None:
                    self.position = await self._in_thread(self.backend.end_position)
                batch = await self._in_thread(
                    self.backend.read, self.position, self.config.follow_block_seconds, self.batch_limit
                )
            except Exception as exc:
                failures += 1
                self.stats.follow_errors += 1
                delay = min(0.1 * 2**failures, self.config.follow_max_backoff_seconds)
                log.warning("realtime hub: reading events failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            if batch:
                self.dispatch(batch)
                self.position = batch[-1].position

    async def in_pool(self, func: Callable[..., T], *args: Any) -> T:
        """Run a blocking call of a socket's (database, backend) in the shared thread pool, at
        most `socket_threads` at a time."""
        return await anyio.to_thread.run_sync(func, *args, limiter=self._socket_limiter)

    async def _in_thread(self, func: Callable[..., T], *args: Any) -> T:
        # Abandoned on cancel: at shutdown the read finishes on its own within its block time.
        return await anyio.to_thread.run_sync(func, *args, limiter=self._limiter, abandon_on_cancel=True)

    # ---- heartbeats and presence ---------------------------------------------------------------

    async def _heartbeats(self) -> None:
        """One loop for every socket: a heartbeat each period (a socket that cannot take it is
        found dead by the write, or cut off when its backlog is full)."""
        while True:
            await asyncio.sleep(self.config.heartbeat_seconds)
            for connection in tuple(self.connections):
                connection.send(protocol.HEARTBEAT)

    async def _presence_loop(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.config.presence_seconds)
            topics = [t for t in self._subscribers if presence.counted(t)]
            try:
                if self.presence.store is None:
                    counts = {t: len(self._subscribers[t]) for t in topics}
                else:
                    counts = await self._sync_presence(topics)
            except Exception as exc:
                self.stats.presence_errors += 1
                if not failing:  # once per outage, not every period
                    log.warning("realtime hub: presence counts unavailable (%s)", exc)
                failing = True
                continue
            failing = False
            self.stats.presence_frames += self.presence.announce(counts, self._subscribers)

    async def _sync_presence(self, topics: list[str]) -> dict[str, int]:
        """Write our joins, leaves and (every TTL/3) refreshes to Redis; read the counts."""
        announcer, store = self.presence, self.presence.store
        assert store is not None
        now = time.time()
        refresh: dict[str, list[str]] = {}
        ttl = self.config.presence_ttl_seconds
        if announcer.due_refresh(now, ttl):
            refresh = {
                t: [c.conn_id for c in subs] for t, subs in self._subscribers.items() if presence.counted(t)
            }
        if not (topics or refresh or announcer.changes):
            return {}
        changes = announcer.take_changes()
        try:
            counts = await anyio.to_thread.run_sync(store.sync, changes, refresh, topics, now, ttl)
        except BaseException:
            announcer.restore_changes(changes)
            raise
        if refresh:
            announcer.refreshed = now
        return counts

    def dispatch(self, batch: list[Published]) -> None:
        """Offer each event to the sockets following each of its topics; never awaits.

        A batch goes out topic by topic and, within a topic, socket by socket (each socket's
        frames in offset order, one after the other) rather than event by event: consecutive
        small writes to one TCP socket cost the kernel much less than the same writes spread
        over a thousand sockets. Order is promised within a topic only (PROTOCOL.md)."""
        started = time.perf_counter()
        frames: dict[str, list[tuple[str, int, str]]] = {}
        for published in batch:
            self.stats.events += 1
            for topic, offset in published.offsets.items():
                if topic in self._subscribers:
                    frame = protocol.event(topic, offset, published.epoch, published.event_json)
                    frames.setdefault(topic, []).append((published.epoch, offset, frame))
        for topic, entries in frames.items():
            # A copy: a socket cut off while we iterate leaves the set.
            subscribers = tuple(self._subscribers.get(topic, ()))
            for connection in subscribers:
                for epoch, offset, frame in entries:
                    connection.offer(topic, epoch, offset, frame)
            self.stats.frames += len(subscribers) * len(entries)
        elapsed = time.perf_counter() - started
        if elapsed > 0.05:
            log.info("realtime hub: dispatching %d events took %.0f ms", len(batch), elapsed * 1000)
