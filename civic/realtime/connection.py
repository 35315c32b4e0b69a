"""One browser's socket: its subscriptions and its bounded backlog.

The hub hands frames to `offer` synchronously, on the event loop, never awaiting. A socket that
is keeping up is written to at once (`eager.start`: the write completes without waiting, no task
is woken), so one event reaches 1,000 sockets in one pass, as `websockets.broadcast()` does. When
a write has to wait (the client reads slower than we send), a drain task takes over and later
frames queue behind it in a bounded backlog; a socket whose backlog is full is cut off with 4008
("resume") instead of slowing the fan-out to everyone else or growing the server's memory.

An idle socket therefore costs no task of its own here (the endpoint's reader is the only one),
no queue, and no timer but its lifetime: heartbeats come from one hub-wide loop.

Per topic, `last` is the highest offset the client has (sent by us, or its own resume point):
any frame at or below it is a duplicate and is dropped. While a subscription replays history,
live frames for that topic are held in `pending` and released after the replay, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.websockets import WebSocket

from civic.realtime import eager, protocol
from civic.realtime.config import HubConfig

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TopicState:
    epoch: str = ""
    last: int = 0
    pending: list[tuple[str, int, str]] | None = field(default_factory=list)  # (epoch, offset, frame)


class Connection:
    __slots__ = (
        "_drainer",
        "_interrupting",
        "_on_close",
        "_room",
        "account_id",
        "backlog",
        "close_code",
        "close_reason",
        "config",
        "conn_id",
        "frames_sent",
        "gone",
        "reader",
        "session_token",
        "stopping",
        "topics",
        "websocket",
    )

    def __init__(
        self,
        websocket: WebSocket,
        config: HubConfig,
        *,
        account_id: int | None,
        session_token: str | None,
        on_close: Callable[[Connection], None],
        conn_id: str = "",
    ) -> None:
        self.websocket = websocket
        self.config = config
        self.account_id = account_id
        self.session_token = session_token
        self.conn_id = conn_id  # unique across processes; presence counts it, nothing else
        self.topics: dict[str, TopicState] = {}
        self.backlog: deque[str] | None = None  # frames waiting behind a write that had to wait
        self.close_code: int | None = None
        self.close_reason = ""
        self.stopping = False  # set when the server decided to close this socket (or it broke)
        self.gone = False  # a write failed: the socket is gone, no close frame can be sent
        self.frames_sent = 0
        self.reader: asyncio.Task[None] | None = None  # the task reading client frames
        self._interrupting = False
        self._drainer: asyncio.Task[None] | None = None
        self._room: asyncio.Future[None] | None = None  # a replay waiting for backlog room
        self._on_close = on_close

    # ---- called by the hub's fan-out (sync, on the loop) --------------------------------------

    def offer(self, topic: str, epoch: str, offset: int, frame: str) -> None:
        """A live event frame for one of our topics."""
        state = self.topics.get(topic)
        if state is None or self.stopping:
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
        """Write a frame now, or queue it behind a write that is waiting; never waits itself.
        A full backlog cuts the client off with 4008."""
        if self.stopping:
            return False
        backlog = self.backlog
        if backlog is None:
            self._write(frame)
            return not self.gone
        if len(backlog) >= self.config.queue_frames:
            self.close_soon(protocol.CLOSE_TOO_SLOW, "too far behind; reconnect and resume")
            return False
        backlog.append(frame)
        return True

    async def put(self, frame: str) -> None:
        """Send a frame, waiting for backlog room: for replays and answers, which may only slow
        this client's own reader."""
        while (
            not self.stopping and self.backlog is not None and len(self.backlog) >= self.config.queue_frames
        ):
            if self._room is None:
                self._room = asyncio.get_running_loop().create_future()
            await self._room
        self.send(frame)

    def close_soon(self, code: int, reason: str) -> None:
        """Decide to close: stop taking frames now, leave the hub now, end the read loop; the
        endpoint then sends the close frame."""
        if self.stopping:
            return
        self.close_code, self.close_reason = code, reason
        self._stop()

    # ---- writing --------------------------------------------------------------------------------

    def _write(self, frame: str) -> None:
        try:
            rest = eager.start(self.websocket.send_text(frame))
        except Exception as exc:
            self._lost(exc)
            return
        if rest is None:
            self.frames_sent += 1
            return
        self.backlog = deque()
        self._drainer = asyncio.get_running_loop().create_task(self._drain(rest), name="ws-drain")

    async def _drain(self, first: eager.Suspended) -> None:
        """Finish the write that had to wait, then the frames queued behind it; then the socket
        is written to directly again."""
        try:
            await eager.finish(first)
            self.frames_sent += 1
            backlog = self.backlog
            while backlog and not self.stopping:
                frame = backlog.popleft()
                self._wake_putters()
                await self.websocket.send_text(frame)
                self.frames_sent += 1
            self.backlog = None
            self._drainer = None
            self._wake_putters()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._lost(exc)

    def _wake_putters(self) -> None:
        room, self._room = self._room, None
        if room is not None and not room.done():
            room.set_result(None)

    def _lost(self, exc: BaseException) -> None:
        """A write failed: the client is gone. Nothing more can be sent, not even a close frame."""
        log.debug("realtime: writing to a socket failed (%s)", exc)
        self.gone = True
        if self.close_code is None:
            self.close_code, self.close_reason = 1006, "gone"
        self._stop()

    def _stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        self.backlog = None
        self._wake_putters()
        self._on_close(self)
        reader = self.reader
        if reader is not None and reader is not asyncio.current_task():
            self._interrupting = True
            reader.cancel()

    def interrupted(self, task: asyncio.Task[None]) -> bool:
        """Whether the reader's CancelledError is our interruption (`_stop`), now undone;
        False when something else (server shutdown) cancels the task as well."""
        if not self._interrupting:
            return False
        self._interrupting = False
        return task.uncancel() == 0

    def stop_writing(self) -> None:
        """Abandon a write that is still waiting (the endpoint is about to close the socket)."""
        if self._drainer is not None:
            self._drainer.cancel()
            self._drainer = None
        self.backlog = None

    async def close_socket(self) -> None:
        """Send our close frame, giving up after a timeout: a client that reads nothing cannot
        receive it, and the socket must not be held open waiting for one."""
        code = self.close_code or 1000
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.websocket.close(code, self.close_reason), self.config.close_timeout_seconds
            )
