"""The hub: one follower per web process reading the global event log, fanning out to sockets.

Every web process follows the backend's global log itself, from its own position (no consumer
group: a group would split the events between processes). Reads block, so they run in a worker
thread of their own; each batch is dispatched on the event loop: for every (event, topic) the
frame is built once and offered to each subscribed socket's bounded queue. Offering never
awaits, so one slow browser cannot delay the others (it is cut off instead; see connection.py).

When the backend fails (Redis restarting), the follower retries with backoff from the position
it had, so nothing published meanwhile is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from civic.events.backends import EventBackend, Published
from civic.realtime import protocol
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


class Hub:
    def __init__(self, backend: EventBackend, config: HubConfig) -> None:
        self.backend = backend
        self.config = config
        self.stats = HubStats()
        self.position: str | None = None
        self.connections: set[Connection] = set()
        self._subscribers: dict[str, set[Connection]] = {}
        self._follower: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # The follower's blocking read holds a thread for its whole wait: give it its own, so it
        # never competes with request handlers for the shared pool.
        self._limiter = anyio.CapacityLimiter(1)

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

    async def stop(self) -> None:
        """Stop following and close every socket with 1001 (going away)."""
        if self._loop is not asyncio.get_running_loop():
            return
        self._loop = None
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
            self._follower = None
        connections = list(self.connections)
        for connection in connections:
            connection.close_soon(protocol.CLOSE_GOING_AWAY, "server shutting down")
        if connections:
            waits = [asyncio.create_task(c.done.wait()) for c in connections]
            _done, still = await asyncio.wait(waits, timeout=self.config.close_timeout_seconds + 1)
            for task in still:
                task.cancel()

    # ---- registry -----------------------------------------------------------------------------

    def attach(self, connection: Connection) -> None:
        self.connections.add(connection)

    def detach(self, connection: Connection) -> None:
        """Forget a socket everywhere (called as soon as it is decided to close)."""
        if connection in self.connections and connection.close_code == protocol.CLOSE_TOO_SLOW:
            self.stats.cut_off += 1
        self.connections.discard(connection)
        for topic in connection.topics:
            self._unlink(topic, connection)

    def subscribe(self, connection: Connection, topic: str) -> None:
        self._subscribers.setdefault(topic, set()).add(connection)

    def unsubscribe(self, connection: Connection, topic: str) -> None:
        connection.topics.pop(topic, None)
        self._unlink(topic, connection)

    def _unlink(self, topic: str, connection: Connection) -> None:
        subscribers = self._subscribers.get(topic)
        if subscribers is not None:
            subscribers.discard(connection)
            if not subscribers:
                del self._subscribers[topic]

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    # ---- following and fan-out ----------------------------------------------------------------

    @property
    def batch_limit(self) -> int:
        """Events dispatched at once. Senders only drain between batches, so a batch must fit in a
        socket's queue many times over (one event is a frame per subscribed topic): otherwise a
        fast client would be cut off by a burst it had no chance to read."""
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

    async def _in_thread(self, func: Callable[..., T], *args: Any) -> T:
        # Abandoned on cancel: at shutdown the read finishes on its own within its block time.
        return await anyio.to_thread.run_sync(func, *args, limiter=self._limiter, abandon_on_cancel=True)

    def dispatch(self, batch: list[Published]) -> None:
        """Offer each event to the sockets following each of its topics; never awaits."""
        started = time.perf_counter()
        for published in batch:
            self.stats.events += 1
            for topic, offset in published.offsets.items():
                subscribers = self._subscribers.get(topic)
                if not subscribers:
                    continue
                frame = protocol.event(topic, offset, published.epoch, published.event_json)
                # A copy: a socket cut off while we iterate leaves the set.
                for connection in tuple(subscribers):
                    connection.offer(topic, published.epoch, offset, frame)
                    self.stats.frames += 1
        elapsed = time.perf_counter() - started
        if elapsed > 0.05:
            log.info("realtime hub: dispatching %d events took %.0f ms", len(batch), elapsed * 1000)
