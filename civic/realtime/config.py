"""The hub's limits, in one place.

Every limit exists to keep one misbehaving (or just slow) browser from costing the others: a
bounded backlog per socket instead of a growing one, a cap on topics and frame size, a lifetime
after which the socket reconnects so nothing is held forever.

Settings does not declare these yet; `from_settings` reads `ws_*` fields when the settings grow
them (see PROTOCOL.md) and otherwise uses the defaults below. Tests replace `hub.config` before
the server starts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class HubConfig:
    queue_frames: int = 1000  # frames queued behind a waiting write before the socket is cut off with 4008
    max_frame_bytes: int = 16 * 1024  # a bigger client message closes the socket with 1009
    max_topics: int = 100  # subscriptions per socket
    max_replay: int = 500  # missed events replayed per subscribe message; a bigger gap is a reset
    max_bad_frames: int = 20  # malformed messages tolerated per socket before closing with 1008
    heartbeat_seconds: float = (
        25.0  # a JSON heartbeat, so browsers (which cannot see pings) detect dead links
    )
    max_lifetime_seconds: float = 3600.0  # then close with 4000: reconnect and resume
    close_timeout_seconds: float = 5.0  # a close frame that cannot be written by then: drop the socket
    follow_block_seconds: float = 1.0  # how long one read of the global log waits for new events
    follow_max_backoff_seconds: float = 5.0  # retry delay cap when the backend (Redis) fails
    socket_threads: int = 4  # pool threads handshakes and subscriptions may use at once
    presence_seconds: float = 2.0  # viewer counts are announced at most this often per topic
    presence_ttl_seconds: float = 30.0  # a socket not vouched for by its process for this long is not counted

    @classmethod
    def from_settings(cls, settings: Any) -> HubConfig:
        """Take `ws_<name>` from the settings for every field they define, defaults for the rest."""
        values = {}
        for field in fields(cls):
            value = getattr(settings, f"ws_{field.name}", None)
            if value is not None:
                values[field.name] = value
        return cls(**values)
