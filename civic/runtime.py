"""Everything a process needs, built from Settings in one place: database, event backend,
relay, jobs, rate limits. The web app, the worker, the CLI and each test build their own.

Production is chosen by configuration alone (Warehouse's pattern): a Redis URL selects Redis
Streams and RQ; without one the same code runs on the in-process backend and inline jobs.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from civic.db import Database
from civic.events.backends import EventBackend
from civic.events.backends.memory import MemoryBackend
from civic.events.backends.redis_streams import RedisStreamsBackend
from civic.events.envelope import OUTBOX_WRITTEN
from civic.events.handlers import HandlerSet, RetryPolicy, run_delivery
from civic.events.relay import Relay
from civic.identity.passwords import Passwords
from civic.jobs import InlineJobs, Jobs, RQJobs
from civic.ratelimit import RateLimits
from civic.ratelimit import attach as attach_limits
from civic.settings import Mode, Settings
from civic.wiring import attach_services, default_handler_set, import_models

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    backend: EventBackend
    handlers: HandlerSet
    jobs: Jobs
    relay: Relay
    limits: RateLimits
    passwords: Passwords
    retry: RetryPolicy
    secret_key: str
    _relay_thread: threading.Thread | None = field(default=None, repr=False)
    _relay_stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def run_job(self, name: str, args: tuple[Any, ...]) -> None:
        if name == "deliver":
            for delivery_id in args:
                run_delivery(self.db, self.handlers, int(delivery_id), self.retry)
        else:
            raise ValueError(f"unknown job {name!r}")

    def send_deliveries(self, ids: list[int]) -> None:
        if isinstance(self.jobs, InlineJobs):
            self.jobs.enqueue("deliver", *ids)
        else:
            for delivery_id in ids:
                self.jobs.enqueue("deliver", delivery_id)

    def start_relay(self) -> None:
        """Run the outbox relay on a background thread (embedded mode, and `civic worker`)."""
        if self._relay_thread is not None:
            return
        self._relay_stop.clear()
        self._relay_thread = threading.Thread(
            target=self.relay.run_forever, args=(self._relay_stop,), name="civic-relay", daemon=True
        )
        self._relay_thread.start()

    def stop_relay(self) -> None:
        if self._relay_thread is None:
            return
        self._relay_stop.set()
        self.relay.wake()
        self._relay_thread.join(timeout=10)
        self._relay_thread = None

    def close(self) -> None:
        self.stop_relay()
        self.jobs.close()
        self.backend.close()
        self.db.dispose()


def build_runtime(settings: Settings, handlers: HandlerSet | None = None) -> Runtime:
    import_models()
    secret_key = settings.resolved_secret_key()
    db = Database(settings.effective_database_url)
    attach_services(db.engine, settings)
    backend: EventBackend
    if settings.mode is Mode.PRODUCTION:
        backend = RedisStreamsBackend(
            settings.redis_url, prefix=settings.redis_prefix, history=settings.stream_history
        )
    else:
        backend = MemoryBackend(history=settings.stream_history)
    handler_set = handlers if handlers is not None else default_handler_set()
    retry = RetryPolicy(settings.handler_max_attempts, settings.handler_backoff_seconds)
    runtime_box: list[Runtime] = []

    def send(ids: list[int]) -> None:
        runtime_box[0].send_deliveries(ids)

    relay = Relay(
        db,
        backend,
        handler_set,
        send,
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
        lease_seconds=settings.job_lease_seconds,
        backlog=lambda: runtime_box[0].jobs.backlog(),
    )
    limits = RateLimits(settings)
    jobs: Jobs
    if settings.mode is Mode.PRODUCTION:
        jobs = RQJobs(settings.redis_url, settings.rq_queue)
    else:
        jobs = InlineJobs(lambda name, args: runtime_box[0].run_job(name, args))
    runtime = Runtime(
        settings=settings,
        db=db,
        backend=backend,
        handlers=handler_set,
        jobs=jobs,
        relay=relay,
        limits=limits,
        passwords=Passwords(settings),
        retry=retry,
        secret_key=secret_key,
    )
    runtime_box.append(runtime)
    attach_limits(db.engine, limits)
    db.on_signal(OUTBOX_WRITTEN, relay.wake)
    return runtime


# The RQ worker process's runtime: RQ calls jobs by dotted path, so the worker sets it at start.
_worker_runtime: Runtime | None = None


def set_worker_runtime(runtime: Runtime | None) -> None:
    global _worker_runtime
    _worker_runtime = runtime


def run_job(name: str, *args: Any) -> None:
    """Entry point of every RQ job (see `civic.jobs.RQJobs`)."""
    if _worker_runtime is None:
        raise RuntimeError("civic.runtime.run_job called outside `civic worker`")
    _worker_runtime.run_job(name, args)
