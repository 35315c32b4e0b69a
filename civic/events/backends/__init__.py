"""Where published events go: an in-process log (embedded) or Redis Streams (production).

Both keep, per topic, an offset counter and a bounded history, and one global log that every
web process follows. Offsets are only meaningful together with the backend's epoch: when the
epoch changes (Redis lost its data, the embedded process restarted) clients must reload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from civic.events.envelope import Envelope


@dataclass(frozen=True)
class Published:
    """An event as the backend delivered it: serialised once, with its place in each topic."""

    event_id: str
    event_json: str
    epoch: str
    offsets: dict[str, int]
    position: str  # place in the global log, for followers


@dataclass(frozen=True)
class History:
    """Events of one topic after an offset, or `reset` when they can no longer be replayed."""

    events: list[Published]
    reset: bool = False


class EventBackend(Protocol):
    def publish(self, envelopes: Sequence[Envelope]) -> list[Published | None]:
        """Publish in order; an event id published before (a relay retry) yields None, not a copy."""
        ...

    def history(self, topic: str, after_offset: int, epoch: str, limit: int = 1000) -> History: ...

    def read(self, after_position: str | None, block_seconds: float, limit: int = 500) -> list[Published]:
        """Events of the global log after a position ("$"/None: only new ones), waiting up to block_seconds."""
        ...

    def current_epoch(self) -> str: ...

    def end_position(self) -> str:
        """The global log's current end ("0"-like when empty): a follower starts reading exactly
        there, since re-reading with "$" after an empty read would lose an event published between."""
        ...

    def last_offset(self, topic: str) -> int:
        """The offset of the topic's last event (0 when none): where a "from now" subscriber resumes."""
        ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...
