"""Rate limits for abuse-prone actions, counted in Redis in production and in memory embedded.

Built on the `limits` library's moving window, so several web processes share one count.
"""

from __future__ import annotations

import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from civic.errors import RateLimited
from civic.settings import Settings


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        uri = settings.redis_url or "memory://"
        options = {"key_prefix": f"{settings.redis_prefix}:rl"} if settings.redis_url else {}
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri, **options))
        self._limits = {
            "login_failure": parse(settings.login_failure_limit),
            "login_failure_ip": parse(settings.login_failure_ip_limit),
            "registration": parse(settings.registration_limit),
        }

    def check(self, name: str, key: str, message: str) -> None:
        """Raise RateLimited if `name` is exhausted for `key`; does not count a hit."""
        item = self._limits[name]
        if not self._limiter.test(item, key):
            reset_at, _remaining = self._limiter.get_window_stats(item, key)
            raise RateLimited(message, retry_after=max(1, int(reset_at - time.time())))

    def hit(self, name: str, key: str) -> None:
        self._limiter.hit(self._limits[name], key)

    def clear(self, name: str, key: str) -> None:
        self._limiter.clear(self._limits[name], key)
