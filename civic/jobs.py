"""Background jobs by name: run inline in the embedded mode, queued on RQ in production.

Jobs are only sent after the transaction that decided on them commits (callers use
`civic.db.after_commit`), and the database, not the queue, remembers what is still to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

JobRunner = Callable[[str, tuple[Any, ...]], None]


class Jobs(Protocol):
    def enqueue(self, name: str, *args: Any) -> None: ...

    def backlog(self) -> int:
        """Jobs sent and still waiting for a worker."""
        ...

    def close(self) -> None: ...


class InlineJobs:
    """Runs each job at once in the calling thread; a failure is logged, never raised to the caller."""

    def __init__(self, runner: JobRunner) -> None:
        self._runner = runner

    def enqueue(self, name: str, *args: Any) -> None:
        try:
            self._runner(name, args)
        except Exception:
            log.exception("inline job %s%r failed", name, args)

    def backlog(self) -> int:
        return 0

    def close(self) -> None:
        pass


class RQJobs:
    """Queues `civic.runtime.run_job(name, *args)` on RQ for `civic worker` processes."""

    def __init__(self, redis_url: str, queue_name: str, *, job_timeout: int = 300) -> None:
        from redis import Redis
        from rq import Queue

        self.queue = Queue(queue_name, connection=Redis.from_url(redis_url))
        self.job_timeout = job_timeout

    def enqueue(self, name: str, *args: Any) -> None:
        self.queue.enqueue(
            "civic.runtime.run_job",
            name,
            *args,
            job_timeout=self.job_timeout,
            result_ttl=0,
            failure_ttl=86_400,
        )

    def backlog(self) -> int:
        return self.queue.count

    def close(self) -> None:
        """Release the Redis connections, so a process that builds runtimes (tests) does not leak them."""
        self.queue.connection.close()
