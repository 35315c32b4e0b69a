"""Rate limits for abuse-prone actions, counted in Redis in production and in memory embedded.

Built on the `limits` library's moving window, so several web processes share one count. When
Redis cannot be reached the limited action is refused with a 503 rather than let through
uncounted: a log-in that cannot count failures must not become a free guessing window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from limits import parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from civic.errors import RateLimited, ServiceUnavailable
from civic.settings import Settings

T = TypeVar("T")

UNAVAILABLE = "This is briefly unavailable (the rate-limit store cannot be reached); please retry shortly."


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        uri = settings.redis_url or "memory://"
        options = {"key_prefix": f"{settings.redis_prefix}:rl"} if settings.redis_url else {}
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri, wrap_exceptions=True, **options))
        self._limits = {
            "login_failure": parse(settings.login_failure_limit),
            "login_failure_ip": parse(settings.login_failure_ip_limit),
            "registration": parse(settings.registration_limit),
        }

    def check(self, name: str, key: str, message: str) -> None:
        """Raise RateLimited if `name` is exhausted for `key`; does not count a hit."""
        item = self._limits[name]
        if not _available(lambda: self._limiter.test(item, key)):
            reset_at, _remaining = _available(lambda: self._limiter.get_window_stats(item, key))
            raise RateLimited(message, retry_after=max(1, int(reset_at - time.time())))

    def hit(self, name: str, key: str) -> None:
        _available(lambda: self._limiter.hit(self._limits[name], key))

    def clear(self, name: str, key: str) -> None:
        _available(lambda: self._limiter.clear(self._limits[name], key))


def _available(call: Callable[[], T]) -> T:
    try:
        return call()
    except StorageError as exc:
        raise ServiceUnavailable(UNAVAILABLE) from exc
