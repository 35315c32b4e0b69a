"""Fault injection on the real services: `civic serve` and `civic worker` processes on a fresh
PostgreSQL database, with the faults made for real (SIGKILL, a Redis server killed and started
again empty, a TCP proxy to PostgreSQL cut and restored).

The process handling (spawning, health checks, acting over HTTP, waiting until the outbox and
the handler deliveries are settled) is tests/realtime/test_multiprocess.py's `Cluster`, reused
here as is. What this file adds is what those tests must not touch: a Redis server of the test's
own, which can be killed without breaking every other test on the machine, and a proxy in front
of PostgreSQL, so the database can vanish for a web process while it stays up for the test.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import redis
from alembic import command
from sqlalchemy import create_engine, func, text
from sqlmodel import col, select

from civic.events.models import OutboxEvent
from civic.migrate import alembic_config
from civic.runtime import Runtime, build_runtime
from civic.wiring import import_models
from tests.conftest import IN_CI, PG_ADMIN_URL, REDIS_URL, make_settings
from tests.realtime.conftest import World
from tests.realtime.test_multiprocess import SECRET, Cluster, Proc, _env, _free_port, _tail

__all__ = ["FaultCluster", "PrivateRedis", "TcpProxy", "count_events", "running_stack"]

BuildWorld = Callable[[Runtime], World]


@contextmanager
def fresh_database(tag: str) -> Iterator[str]:
    """A database of this test's own, schema from the models, stamped at head (as
    test_multiprocess does: `civic serve` and `civic worker` refuse an unmigrated one)."""
    name = f"civic_test_fault_{tag}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # No WAL flush wait at commit: no test here crashes PostgreSQL itself.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = re.sub(r"/[^/]*$", f"/{name}", PG_ADMIN_URL)
    try:
        engine = create_engine(url)
        import_models().metadata.create_all(engine)
        engine.dispose()
        command.stamp(alembic_config(url), "head")
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class FaultCluster(Cluster):
    """test_multiprocess's cluster, with any number of workers: every process named "worker…"
    runs `civic worker`, the others `civic serve`."""

    def spawn(self, name: str) -> Proc:
        if name == "worker" or not name.startswith("worker"):
            return super().spawn(name)
        log = self.workdir / f"{name}-{len(list(self.workdir.glob(f'{name}-*.log')))}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "civic.cli", "worker"],
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs[name] = Proc(name, proc, log)
        return self.procs[name]

    @property
    def workers(self) -> list[Proc]:
        return [p for name, p in self.procs.items() if name.startswith("worker")]


@contextmanager
def running_stack(
    workdir: Path,
    build: BuildWorld,
    *,
    tag: str,
    redis_url: str = REDIS_URL,
    web_database_url: Callable[[str], str] | None = None,
    processes: tuple[str, ...] = ("worker", "a"),
    **settings: Any,
) -> Iterator[FaultCluster]:
    """A fresh database, a Redis prefix of its own, the test's runtime and world on them, and the
    `processes` started ("worker", or a web process name). `settings` go to every process (as
    CIVIC_* variables) and to the test's runtime. `web_database_url(url)` gives the URL the web
    processes use (a proxy in front of PostgreSQL); the worker and the test use the real one."""
    token = uuid.uuid4().hex[:10]
    prefix, rq_queue = f"civictest:{token}", f"civic-{token}"
    with fresh_database(tag) as url:
        env = _env(url, prefix, rq_queue, workdir)
        env["CIVIC_REDIS_URL"] = redis_url
        env.update({f"CIVIC_{key.upper()}": str(value) for key, value in settings.items()})
        runtime = build_runtime(
            make_settings(
                workdir, url, prefix, secret_key=SECRET, rq_queue=rq_queue, redis_url=redis_url, **settings
            )
        )
        cluster = FaultCluster(runtime, build(runtime), env, workdir)
        try:
            for name in processes:
                if not name.startswith("worker") and web_database_url is not None:
                    cluster.env = {**env, "CIVIC_DATABASE_URL": web_database_url(url)}
                cluster.spawn(name)
                cluster.env = env
            webs = [name for name in processes if not name.startswith("worker")]
            if webs:
                cluster.wait_healthy(*webs)
            yield cluster
        finally:
            for proc in cluster.procs.values():
                proc.stop()
            runtime.close()
            _forget_prefix(redis_url, prefix, rq_queue)


def _forget_prefix(redis_url: str, prefix: str, rq_queue: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        from rq import Queue

        Queue(rq_queue, connection=client).empty()
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass  # a private Redis already gone
    finally:
        client.close()


def count_events(runtime: Runtime, kind: str, *, published: bool | None = None) -> int:
    query = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == kind)
    if published is not None:
        column = col(OutboxEvent.published_at)
        query = query.where(column.is_not(None) if published else column.is_(None))
    with runtime.db.transaction() as s:
        return int(s.exec(query).one())


def wait_for(what: str, check: Callable[[], bool], timeout: float, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


# ---- a Redis server of the test's own -------------------------------------------------------


REDIS_SERVER = shutil.which("redis-server")


class PrivateRedis:
    """`redis-server` on a free port, no snapshots, no append-only file: killed, it comes back
    empty, as a Redis that lost its memory does."""

    def __init__(self, workdir: Path) -> None:
        assert REDIS_SERVER is not None
        self.port = _free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.starts += 1
        log = self.workdir / f"redis-{self.starts}.log"
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    str(REDIS_SERVER),
                    "--port", str(self.port),
                    "--bind", "127.0.0.1",
                    "--save", "",
                    "--appendonly", "no",
                    "--daemonize", "no",
                    "--dir", str(self.workdir),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:

            def up() -> bool:
                if self.proc is not None and self.proc.poll() is not None:
                    raise AssertionError(f"redis-server exited:\n{_tail(log)}")
                with suppress(redis.RedisError):
                    return bool(client.ping())
                return False

            wait_for("the private redis-server", up, 10, every=0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown, nothing saved."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        self.kill()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if REDIS_SERVER is None:
        message = "redis-server is not on PATH: the Redis restart test needs a Redis server of its own"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# ---- a proxy that can cut PostgreSQL off ----------------------------------------------------


class TcpProxy:
    """A TCP relay on a free local port to `target`, in a thread with its own event loop.

    `cut()` closes the listener (new connections are refused) and aborts every open connection
    (the server seems gone); `restore()` listens again on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = _free_port()
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._thread.start()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def restore(self) -> None:
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    def close(self) -> None:
        with suppress(Exception):
            self._call(self._cut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def connections(self) -> int:
        return len(self._open) // 2

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open.update((writer, up_writer))
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self._open.discard(w)
                w.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.transport.abort()
