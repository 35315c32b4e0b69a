"""Rate limits for abuse-prone actions, counted in Redis in production and in memory embedded.

Built on the `limits` library's moving window, so several web processes share one count. When
Redis cannot be reached the limited action is refused with a 503 rather than let through
uncounted: a log-in that cannot count failures must not become a free guessing window.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import TypeVar

from limits import parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine
from sqlmodel import Session

from civic.errors import RateLimited, ServiceUnavailable
from civic.i18n import N_, _
from civic.settings import Settings

T = TypeVar("T")

UNAVAILABLE = N_(
    "This is briefly unavailable (the rate-limit store cannot be reached); please retry shortly."
)


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        uri = settings.redis_url or "memory://"
        options = {"key_prefix": f"{settings.redis_prefix}:rl"} if settings.redis_url else {}
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri, wrap_exceptions=True, **options))
        self._limits = {
            "login_failure": parse(settings.login_failure_limit),
            "login_failure_ip": parse(settings.login_failure_ip_limit),
            "registration": parse(settings.registration_limit),
            "posting": parse(settings.posting_limit),
            "reporting": parse(settings.reporting_limit),
        }

    def check(self, name: str, key: str, message: str) -> None:
        """Raise RateLimited if `name` is exhausted for `key`; does not count a hit."""
        item = self._limits[name]
        if not _available(lambda: self._limiter.test(item, key)):
            reset_at, _remaining = _available(lambda: self._limiter.get_window_stats(item, key))
            raise RateLimited(message, retry_after=max(1, int(reset_at - time.time())))

    def take(self, name: str, key: str, message: str) -> None:
        """Count one `name` action for `key`, refusing it (RateLimited) when the limit is used up."""
        self.check(name, key, message)
        self.hit(name, key)

    def hit(self, name: str, key: str) -> None:
        _available(lambda: self._limiter.hit(self._limits[name], key))

    def clear(self, name: str, key: str) -> None:
        _available(lambda: self._limiter.clear(self._limits[name], key))


# Domain code gets a session, not the runtime: the runtime attaches its limits to the engine, so
# "count one post for this account" can be said where the post is made (engagement's leaderboards
# reach their Redis the same way).
_ATTACHED: weakref.WeakKeyDictionary[Engine, RateLimits] = weakref.WeakKeyDictionary()


def attach(engine: Engine, limits: RateLimits) -> None:
    _ATTACHED[engine] = limits


def take_for(session: Session, name: str, key: str, message: str) -> None:
    """`RateLimits.take` on the limits attached to this session's database (none: not limited)."""
    bind = session.get_bind()
    limits = _ATTACHED.get(bind if isinstance(bind, Engine) else bind.engine)
    if limits is not None:
        limits.take(name, key, message)


def _available(call: Callable[[], T]) -> T:
    try:
        return call()
    except StorageError as exc:
        raise ServiceUnavailable(_(UNAVAILABLE)) from exc
