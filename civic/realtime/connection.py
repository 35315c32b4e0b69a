"""One browser's socket: its subscriptions, its bounded queue and the task that drains it.

The hub hands frames to `offer` synchronously, on the event loop, never awaiting: a socket whose
queue is full is cut off with 4008 ("resume") instead of slowing the fan-out to everyone else.
Only the sender task writes to the socket, so a client that stops reading blocks nothing but
its own sender.

Per topic, `last` is the highest offset the client has (sent by us, or its own resume point):
any frame at or below it is a duplicate and is dropped. While a subscription replays history,
live frames for that topic are held in `pending` and released after the replay, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.websockets import WebSocket

from civic.realtime import protocol
from civic.realtime.config import HubConfig

log = logging.getLogger(__name__)


@dataclass
class TopicState:
    epoch: str = ""
    last: int = 0
    pending: list[tuple[str, int, str]] | None = field(default_factory=list)  # (epoch, offset, frame)


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        config: HubConfig,
        *,
        account_id: int | None,
        session_token: str | None,
        on_close: Callable[[Connection], None],
    ) -> None:
        self.websocket = websocket
        self.config = config
        self.account_id = account_id
        self.session_token = session_token
        self.topics: dict[str, TopicState] = {}
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=config.queue_frames)
        self.close_code: int | None = None
        self.close_reason = ""
        self.stopping = asyncio.Event()  # set when the server decided to close this socket
        self.done = asyncio.Event()  # set when the socket is finished
        self.frames_sent = 0
        self._on_close = on_close

    # ---- called by the hub's fan-out (sync, on the loop) --------------------------------------

    def offer(self, topic: str, epoch: str, offset: int, frame: str) -> None:
        """A live event frame for one of our topics."""
        state = self.topics.get(topic)
        if state is None or self.stopping.is_set():
            return
        if state.pending is not None:
            if len(state.pending) >= self.config.queue_frames:
                self.close_soon(protocol.CLOSE_TOO_SLOW, "too far behind; reconnect and resume")
                return
            state.pending.append((epoch, offset, frame))
            return
        self.deliver(topic, state, epoch, offset, frame)

    def deliver(self, topic: str, state: TopicState, epoch: str, offset: int, frame: str) -> None:
        for out in self.accept(topic, state, epoch, offset, frame):
            self.send(out)

    def accept(self, topic: str, state: TopicState, epoch: str, offset: int, frame: str) -> list[str]:
        """The frames to send for an event at `offset`: none if the client has it already."""
        out = []
        if epoch != state.epoch:
            # The backend started a new epoch (Redis lost its data, or its newest writes): offsets
            # may have begun again at 1 or reuse ones the client had, and whatever the page shows
            # may be stale. The next event's offset, whatever it is, is the new position.
            state.epoch, state.last = epoch, 0
            out.append(protocol.reset(topic, epoch))
        if offset <= state.last:
            return out  # already sent by the replay, or the client had it
        if offset > state.last + 1 and state.last > 0:
            # Offsets within a topic have no holes, so events were lost on the way (the follower
            # fell behind the trimmed global log): the client must reload rather than go on
            # believing it is up to date.
            log.warning("realtime: %s jumped from offset %d to %d; sending reset", topic, state.last, offset)
            out.append(protocol.reset(topic, epoch))
        state.last = offset
        out.append(frame)
        return out

    def send(self, frame: str) -> bool:
        """Queue a frame without waiting; a full queue cuts the client off with 4008."""
        if self.stopping.is_set():
            return False
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close_soon(protocol.CLOSE_TOO_SLOW, "too far behind; reconnect and resume")
            return False
        return True

    async def put(self, frame: str) -> None:
        """Queue a frame, waiting for room: for replays, which only slow this client's own reader."""
        if not self.stopping.is_set():
            await self.queue.put(frame)

    def close_soon(self, code: int, reason: str) -> None:
        """Decide to close: stop taking frames now, leave the hub now; the socket closes shortly."""
        if self.stopping.is_set():
            return
        self.close_code, self.close_reason = code, reason
        self.stopping.set()
        self._on_close(self)

    # ---- the socket ---------------------------------------------------------------------------

    async def send_loop(self) -> None:
        while True:
            frame = await self.queue.get()
            await self.websocket.send_text(frame)
            self.frames_sent += 1

    async def heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_seconds)
            self.send(protocol.HEARTBEAT)

    async def close_socket(self) -> None:
        """Send our close frame, giving up after a timeout: a client that reads nothing cannot
        receive it, and the socket must not be held open waiting for one."""
        code = self.close_code or 1000
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.websocket.close(code, self.close_reason), self.config.close_timeout_seconds
            )
