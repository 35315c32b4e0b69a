"""Running a coroutine eagerly: up to its first real wait, now, without a task.

Writing a frame to a socket whose buffer has room never waits (uvicorn's ASGI `send` only awaits
flow control), yet awaiting it from a sender task costs a task wake-up per frame and per socket,
and 1,000 of those queued behind one another are most of an event's fan-out latency. So the hub
starts each write as Python 3.12's eager tasks would: step the coroutine by hand; if it finished,
that was the write. Only when it really waits (the client is not reading fast enough) does a task
take over, and `finish` drives the suspended coroutine to its end exactly as a Task would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class Suspended:
    """A coroutine stopped at its first wait, with what it waits on."""

    __slots__ = ("coro", "waiting")

    def __init__(self, coro: Coroutine[Any, Any, Any], waiting: Any) -> None:
        self.coro = coro
        self.waiting = waiting


def start(coro: Coroutine[Any, Any, Any]) -> Suspended | None:
    """Run `coro` until it finishes (None) or waits (the rest, to `finish` in a task).

    Its exceptions propagate to the caller, as they would from `await coro`."""
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None
    return Suspended(coro, waiting)


async def finish(suspended: Suspended) -> None:
    """Drive a suspended coroutine to completion inside the current task: wait for what it waits
    on, resume it, repeat. Cancelling the task throws into the coroutine at its wait, as a Task's
    cancellation would."""
    coro, waiting = suspended.coro, suspended.waiting
    while True:
        try:
            if waiting is None:  # a bare `yield`: asyncio.sleep(0)
                await asyncio.sleep(0)
            else:
                # Wait on its future in our task, as the task that never was would have: a
                # cancellation cancels that future and lands in the coroutine below.
                waiting._asyncio_future_blocking = False
                await waiting
        except BaseException as exc:
            try:
                waiting = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting = coro.send(None)
        except StopIteration:
            return
