"""Scale-out on the real services: two `civic serve` processes and a `civic worker` on one
PostgreSQL database and one Redis prefix, with real `websockets` clients on both web processes.

What the tests prove, each against the topic streams Redis holds (the record of what was
published, in offset order):
- an action on either web process and an event a worker's handler emits reach the clients of
  both web processes, each exactly once and in per-topic offset order;
- Redis dropping the web processes' connections (CLIENT KILL) loses nothing;
- a web process killed with SIGKILL mid-stream: its client resumes on the other process with
  its last (epoch, offset) and gets exactly what it missed;
- Redis losing the prefix's data (a new epoch) tells live and reconnecting clients `reset`.

Restarting the shared Redis would break every other test running on this machine, so its data
loss is simulated by deleting this test's prefix, epoch included.

The processes are started once for the module; a test that needs a web process the previous one
killed starts it again.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from alembic import command
from sqlalchemy import create_engine, func, text
from sqlmodel import col, select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from civic.events.models import DeliveryStatus, HandlerDelivery, OutboxEvent
from civic.http.guard import csrf_token_for
from civic.migrate import alembic_config
from civic.runtime import Runtime, build_runtime
from civic.wiring import import_models
from tests.conftest import PG_ADMIN_URL, REDIS_URL, make_settings, with_code_under_test
from tests.realtime.conftest import TIMEOUT, World, WsClient, build_world

pytestmark = pytest.mark.services

REPO = Path(__file__).resolve().parents[2]
SECRET = "multiprocess-test-secret-key"
CHEAP_ARGON2 = {
    "CIVIC_ARGON2_MEMORY_KIB": "19456",
    "CIVIC_ARGON2_TIME_COST": "2",
    "CIVIC_ARGON2_PARALLELISM": "1",
}
REDIS_PORT_HEX = f"{urlsplit(REDIS_URL).port or 6379:04X}"  # as /proc/net/tcp writes ports


# ---- the processes ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:] or "(empty)"
    except OSError:
        return "(no log)"


@dataclass
class Proc:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@dataclass
class Cluster:
    """Two web processes ("a", "b"), one worker, the test's own runtime on the same database."""

    runtime: Runtime
    world: World
    env: dict[str, str]
    workdir: Path
    procs: dict[str, Proc] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.runtime.settings.redis_prefix

    @property
    def redis(self) -> redis.Redis:
        return self.runtime.backend.redis  # type: ignore[attr-defined,no-any-return]

    def spawn(self, name: str) -> Proc:
        args = ["worker"]
        port = None
        if name != "worker":
            port = _free_port()
            args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
        log = self.workdir / f"{name}-{len(list(self.workdir.glob(f'{name}-*.log')))}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "civic.cli", *args],
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs[name] = Proc(name, proc, log, port)
        return self.procs[name]

    def wait_healthy(self, *names: str) -> None:
        deadline = time.monotonic() + 30
        for name in names:
            proc = self.procs[name]
            while True:
                if not proc.alive():
                    pytest.fail(f"{name} exited ({proc.proc.returncode}):\n{_tail(proc.log)}", pytrace=False)
                try:
                    if httpx.get(f"{proc.http}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"{name} never became healthy:\n{_tail(proc.log)}", pytrace=False)
                time.sleep(0.1)
        worker = self.procs["worker"]
        if not worker.alive():
            pytest.fail(f"civic worker exited:\n{_tail(worker.log)}", pytrace=False)

    def web(self, name: str) -> Proc:
        """The web process `name`, started again if a test killed it."""
        if not self.procs[name].alive():
            self.spawn(name)
            self.wait_healthy(name)
        return self.procs[name]

    # ---- acting over HTTP, as a browser would --------------------------------------------------

    def act(self, web: str, who: str, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        csrf = uuid.uuid4().hex
        response = httpx.request(
            method,
            f"{self.procs[web].http}{path}",
            json=body,
            cookies={"civic_session": self.world.tokens[who], "civic_csrf": csrf},
            headers={"X-CSRF-Token": csrf_token_for(SECRET, csrf)},
            timeout=TIMEOUT,
        )
        assert response.status_code < 300, f"{method} {path} on {web}: {response.status_code} {response.text}"

    def support(self, web: str, who: str, on: bool = True) -> None:
        self.act(web, who, "PUT" if on else "DELETE", f"/api/proposals/{self.world.proposal_id}/support")

    def comment(self, web: str, who: str, body: str) -> None:
        self.act(web, who, "POST", f"/api/proposals/{self.world.proposal_id}/comments", {"body": body})

    # ---- what Redis holds -------------------------------------------------------------------------

    def settle(self, timeout: float = 20) -> None:
        """Until every event is published and every handler delivery is done (handlers emit too)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 2:
            with self.runtime.db.transaction() as s:
                unpublished = s.exec(
                    select(func.count())
                    .select_from(OutboxEvent)
                    .where(col(OutboxEvent.published_at).is_(None))
                ).one()
                pending = s.exec(
                    select(func.count())
                    .select_from(HandlerDelivery)
                    .where(HandlerDelivery.status == DeliveryStatus.PENDING)
                ).one()
            quiet = quiet + 1 if unpublished == 0 and pending == 0 else 0
            assert time.monotonic() < deadline, f"not settled: {unpublished} unpublished, {pending} pending"
            time.sleep(0.1)

    def stream(self, topic: str, after: int = 0) -> list[tuple[int, str]]:
        """(offset, event id) of the topic's events after `after`, as published."""
        entries = self.redis.xrange(f"{self.prefix}:t:{topic}", min=f"({after}-0", max="+")
        return [(int(entry_id.split("-")[0]), fields["i"]) for entry_id, fields in entries]

    def last_offset(self, topic: str) -> int:
        return self.runtime.backend.last_offset(topic)

    def redis_connections(self, name: str) -> list[dict[str, Any]]:
        """This web process's connections to Redis (found by its sockets' local ports)."""
        pid = self.procs[name].proc.pid
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        ports = set()
        for table in ("tcp", "tcp6"):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                parts = line.split()
                local, remote, inode = parts[1], parts[2], parts[9]
                if inode in inodes and remote.endswith(f":{REDIS_PORT_HEX}"):
                    ports.add(int(local.rsplit(":", 1)[1], 16))
        return [c for c in self.redis.client_list() if int(c["addr"].rsplit(":", 1)[1]) in ports]


def _env(database_url: str, prefix: str, rq_queue: str, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVIC_")}
    env.update(CHEAP_ARGON2)
    env.update(
        {
            "CIVIC_DATABASE_URL": database_url,
            "CIVIC_REDIS_URL": REDIS_URL,
            "CIVIC_REDIS_PREFIX": prefix,
            "CIVIC_RQ_QUEUE": rq_queue,
            "CIVIC_SECRET_KEY": SECRET,
            "CIVIC_SECURE_COOKIES": "false",
            "CIVIC_VAR_DIR": str(workdir / "var"),
            "CIVIC_LOG_LEVEL": "warning",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return with_code_under_test(env)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    token = uuid.uuid4().hex[:10]
    name = f"civic_test_mp_{token}"
    prefix, rq_queue = f"civictest:{token}", f"civic-{token}"
    workdir = tmp_path_factory.mktemp("multiprocess")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # No WAL flush wait at commit: no test here crashes PostgreSQL itself.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = re.sub(r"/[^/]*$", f"/{name}", PG_ADMIN_URL)
    env = _env(url, prefix, rq_queue, workdir)
    runtime: Runtime | None = None
    cluster: Cluster | None = None
    try:
        # The schema as the models declare it, stamped at the head revision so `civic serve` and
        # `civic worker` accept it: this test is about delivery, not about whether the migrations
        # are in step with the models (tests/test_migrations.py is).
        engine = create_engine(url)
        import_models().metadata.create_all(engine)
        engine.dispose()
        command.stamp(alembic_config(url), "head")
        settings = make_settings(workdir, url, prefix, secret_key=SECRET, rq_queue=rq_queue)
        runtime = build_runtime(settings)
        world = build_world(runtime)  # its events are relayed here; their handler jobs wait in RQ
        cluster = Cluster(runtime, world, env, workdir)
        for proc in ("worker", "a", "b"):
            cluster.spawn(proc)
        cluster.wait_healthy("a", "b")
        yield cluster
    finally:
        if cluster is not None:
            for proc in cluster.procs.values():
                proc.stop()
        if runtime is not None:
            runtime.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        try:
            from rq import Queue

            Queue(rq_queue, connection=client).empty()
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


# ---- clients ----------------------------------------------------------------------------------


class Tracker:
    """One reader's view: its position per topic, and every event id it received, checked as it
    arrives: each event must be the next offset of its topic in the current epoch."""

    def __init__(self) -> None:
        self.at: dict[str, tuple[str, int]] = {}  # after a live reset, offset -1: any comes next
        self.ids: dict[str, list[str]] = {}
        self.resets: list[dict[str, Any]] = []

    def take(self, frame: dict[str, Any]) -> None:
        kind, topic = frame["type"], frame.get("topic")
        if kind == "subscribed":
            self.at[topic] = (frame["epoch"], frame["offset"])
            self.ids.setdefault(topic, [])
        elif kind == "reset":
            self.resets.append(frame)
            self.at[topic] = (frame["epoch"], -1)
            self.ids[topic] = []
        elif kind == "event":
            epoch, last = self.at[topic]
            assert frame["epoch"] == epoch, f"{topic}: event of epoch {frame['epoch']} while at {epoch}"
            if last >= 0:
                assert frame["offset"] == last + 1, (
                    f"{topic}: offset {frame['offset']} after {last} (gap or repeat)"
                )
            self.at[topic] = (epoch, frame["offset"])
            self.ids[topic].append(frame["event"]["id"])
        else:
            raise AssertionError(f"unexpected frame {frame}")


class Reader:
    def __init__(self, client: WsClient, tracker: Tracker) -> None:
        self.client = client
        self.tracker = tracker

    async def subscribe(self, topics: dict[str, Any]) -> None:
        """Subscribe and read up to each topic's `subscribed` (resets before it are recorded)."""
        await self.client.send({"type": "subscribe", "topics": topics})
        waiting = set(topics)
        while waiting:
            frame = await self.client.recv()
            self.tracker.take(frame)
            if frame["type"] == "subscribed":
                waiting.discard(frame["topic"])

    async def until(
        self, offsets: dict[str, int], epoch: str | None = None, timeout: float = TIMEOUT
    ) -> None:
        """Read until every topic reached its offset (in `epoch`, when given)."""
        deadline = time.monotonic() + timeout

        def behind(topic: str, offset: int) -> bool:
            at_epoch, at = self.tracker.at[topic]
            return at < offset or (epoch is not None and at_epoch != epoch)

        while any(behind(t, o) for t, o in offsets.items()):
            self.tracker.take(await self.client.recv(max(0.1, deadline - time.monotonic())))

    async def quiet(self) -> None:
        """Nothing more is queued for this client (no repeats after the last event)."""
        assert await self.client.roundtrip() == []


@asynccontextmanager
async def reader(
    web: Proc, cluster: Cluster, who: str, tracker: Tracker | None = None
) -> AsyncIterator[Reader]:
    async with connect(
        web.ws,
        additional_headers={"Cookie": f"civic_session={cluster.world.tokens[who]}"},
        compression=None,
        open_timeout=TIMEOUT,
        close_timeout=2,
    ) as ws:
        client = WsClient(ws)
        client.welcome = await client.expect("welcome")
        yield Reader(client, tracker or Tracker())


def topics_of(cluster: Cluster, who: str) -> list[str]:
    w = cluster.world
    return [f"consultation:{w.consultation_id}", f"proposal:{w.proposal_id}", f"user:{w.ids[who]}"]


def from_now(topics: list[str]) -> dict[str, Any]:
    return {topic: {} for topic in topics}


async def check_against_redis(cluster: Cluster, readers: list[tuple[Reader, dict[str, int]]]) -> None:
    """Each reader received exactly the topic's published events after its start, and no more."""
    await asyncio.to_thread(cluster.settle)
    for r, start in readers:
        await r.until({t: cluster.last_offset(t) for t in start})
        await r.quiet()
        for topic, begin in start.items():
            assert r.tracker.ids[topic] == [i for _o, i in cluster.stream(topic, begin)], topic


def starts(r: Reader) -> dict[str, int]:
    return {t: o for t, (_e, o) in r.tracker.at.items()}


# ---- the tests ---------------------------------------------------------------------------------


async def test_actions_on_either_web_process_and_worker_events_reach_clients_on_both(
    cluster: Cluster,
) -> None:
    a, b = cluster.web("a"), cluster.web("b")
    topics = topics_of(cluster, "supporter0")
    user_topic = topics[2]
    async with reader(a, cluster, "supporter0") as on_a, reader(b, cluster, "supporter0") as on_b:
        await on_a.subscribe(from_now(topics))
        await on_b.subscribe(from_now(topics))
        begin_a, begin_b = starts(on_a), starts(on_b)

        await asyncio.to_thread(cluster.support, "a", "supporter0")  # on A
        await asyncio.to_thread(cluster.support, "b", "supporter1")  # on B
        await asyncio.to_thread(cluster.comment, "b", "supporter0", "Yes, and a shelter too.")
        await asyncio.to_thread(cluster.comment, "a", "citizen", "Agreed.")

        await check_against_redis(cluster, [(on_a, begin_a), (on_b, begin_b)])
        for r in (on_a, on_b):
            assert len(r.tracker.ids[topics[0]]) == 4  # 2 supports, 2 comments
        # Emitted by the worker's engagement handler, not by any web process.
        awarded = [
            json.loads(fields["e"])["type"]
            for _id, fields in cluster.redis.xrange(
                f"{cluster.prefix}:t:{user_topic}", min=f"({begin_a[user_topic]}-0"
            )
        ]
        assert awarded.count("points.awarded") == 2  # a support and a comment
        assert on_a.tracker.ids[user_topic] == on_b.tracker.ids[user_topic]


async def test_both_web_processes_survive_redis_dropping_their_connections(cluster: Cluster) -> None:
    a, b = cluster.web("a"), cluster.web("b")
    topics = topics_of(cluster, "supporter1")
    async with reader(a, cluster, "supporter1") as on_a, reader(b, cluster, "supporter1") as on_b:
        await on_a.subscribe(from_now(topics))
        await on_b.subscribe(from_now(topics))
        begin_a, begin_b = starts(on_a), starts(on_b)
        await asyncio.sleep(0.3)  # both followers are inside their blocking XREAD
        for name in ("a", "b"):
            connections = await asyncio.to_thread(cluster.redis_connections, name)
            assert any(c["cmd"] == "xread" for c in connections), (
                f"{name}'s follower is not reading: {connections}"
            )
            for c in connections:
                await asyncio.to_thread(cluster.redis.client_kill_filter, _id=c["id"])

        await asyncio.to_thread(cluster.support, "a", "supporter1", False)
        await asyncio.to_thread(cluster.support, "b", "supporter1", True)
        await asyncio.to_thread(cluster.comment, "a", "supporter1", "Still here.")
        await check_against_redis(cluster, [(on_a, begin_a), (on_b, begin_b)])
        assert len(on_a.tracker.ids[topics[0]]) == 3
        assert a.alive() and b.alive()


async def test_a_client_of_a_killed_web_process_resumes_on_the_other_without_gap_or_repeat(
    cluster: Cluster,
) -> None:
    a, b = cluster.web("a"), cluster.web("b")
    topics = topics_of(cluster, "supporter0")
    consultation = topics[0]
    moved = Tracker()  # one browser tab: first on A, then on B
    done = threading.Event()
    failures: list[BaseException] = []

    def keep_acting() -> None:
        """Supports toggled on B (the survivor) while A dies."""
        try:
            for n in range(30):
                cluster.support("b", f"supporter{2 + n % 2}", on=(n // 2) % 2 == 0)
        except BaseException as exc:
            failures.append(exc)
        finally:
            done.set()

    async with reader(b, cluster, "supporter0") as stays:
        async with reader(a, cluster, "supporter0", moved) as on_a:
            await on_a.subscribe(from_now(topics))
            await stays.subscribe(from_now(topics))
            begin_moved, begin_stays = starts(on_a), starts(stays)
            writer = threading.Thread(target=keep_acting)
            writer.start()
            await on_a.until({consultation: begin_moved[consultation] + 4})
            a.proc.send_signal(signal.SIGKILL)  # mid-stream
            with pytest.raises(ConnectionClosed):
                for _ in range(100):
                    on_a.tracker.take(await on_a.client.recv())
        await asyncio.to_thread(a.proc.wait, TIMEOUT)
        killed_at = moved.at[consultation][1]
        assert not done.is_set() and killed_at < begin_moved[consultation] + 30, "A died mid-stream"

        async with reader(b, cluster, "supporter0", moved) as resumed:
            await resumed.subscribe({t: {"epoch": e, "offset": o} for t, (e, o) in moved.at.items()})
            await asyncio.to_thread(writer.join, 30)
            assert failures == []
            await check_against_redis(cluster, [(resumed, begin_moved), (stays, begin_stays)])
        assert len(moved.ids[consultation]) == 30
        assert moved.ids == stays.tracker.ids


async def test_redis_losing_the_streams_tells_live_and_reconnecting_clients_to_reset(
    cluster: Cluster,
) -> None:
    a, b = cluster.web("a"), cluster.web("b")
    topics = topics_of(cluster, "supporter0")
    consultation, proposal, user = topics
    offline = Tracker()
    async with reader(a, cluster, "supporter0", offline) as r:
        await r.subscribe(from_now(topics))
    old_epoch = offline.at[consultation][0]
    async with reader(a, cluster, "supporter0") as on_a, reader(b, cluster, "supporter0") as on_b:
        await on_a.subscribe(from_now(topics))
        await on_b.subscribe(from_now(topics))

        # Redis lost everything of ours: streams, offset counters, the epoch, the dedupe ids.
        keys = await asyncio.to_thread(
            lambda: list(cluster.redis.scan_iter(match=f"{cluster.prefix}:*", count=1000))
        )
        assert f"{cluster.prefix}:epoch" in keys
        await asyncio.to_thread(cluster.redis.delete, *keys)

        await asyncio.to_thread(cluster.comment, "b", "supporter0", "After the outage.")
        await asyncio.to_thread(cluster.settle)
        new_epoch = cluster.runtime.backend.current_epoch()
        assert new_epoch != old_epoch
        for live_reader in (on_a, on_b):
            await live_reader.until({consultation: 1, proposal: 1, user: 1}, new_epoch)
            await live_reader.quiet()
            tracker = live_reader.tracker
            assert sorted(f["topic"] for f in tracker.resets) == sorted(topics)
            assert {f["epoch"] for f in tracker.resets} == {new_epoch}
            for topic in topics:
                assert tracker.at[topic] == (new_epoch, 1)
                assert tracker.ids[topic] == [i for _o, i in cluster.stream(topic)]

    # A client that was away across the loss: its old positions mean nothing any more.
    async with reader(b, cluster, "supporter0", offline) as back:
        await back.subscribe({t: {"epoch": e, "offset": o} for t, (e, o) in offline.at.items()})
        assert {f["topic"] for f in offline.resets} == set(topics)
        assert {t: at for t, at in offline.at.items()} == {t: (new_epoch, 1) for t in topics}
        await back.quiet()
        await asyncio.to_thread(cluster.comment, "a", "citizen", "Back to normal.")
        await back.until({consultation: 2, proposal: 2}, new_epoch)
        assert back.tracker.ids[consultation][-1] == cluster.stream(consultation)[-1][1]


async def test_redis_restored_from_an_older_snapshot_is_a_new_epoch_not_reused_offsets(
    cluster: Cluster,
) -> None:
    """Redis restarted from a snapshot (RDB, or AOF losing its last second) keeps the epoch but
    forgets the newest events, so their offsets would be handed out again: clients that received
    the lost events would drop the new ones as repeats, and a reconnecting client would skip them.
    The publisher notices the log lost what it wrote and starts a new epoch."""
    a, b = cluster.web("a"), cluster.web("b")
    topics = topics_of(cluster, "supporter1")
    consultation, proposal, _user = topics
    r = cluster.redis
    await asyncio.to_thread(cluster.settle)
    keys = await asyncio.to_thread(lambda: list(r.scan_iter(match=f"{cluster.prefix}:*", count=1000)))
    snapshot = {key: r.dump(key) for key in keys}

    offline = Tracker()
    async with reader(a, cluster, "supporter1") as on_a, reader(b, cluster, "supporter1") as on_b:
        await on_a.subscribe(from_now(topics))
        await on_b.subscribe(from_now(topics))
        async with reader(b, cluster, "supporter1", offline) as away:
            await away.subscribe(from_now(topics))
            old_epoch, begin = offline.at[consultation]
            for n in range(3):
                await asyncio.to_thread(cluster.comment, "a", "citizen", f"Lost in the restart {n}.")
            await away.until({consultation: begin + 3})
        await asyncio.to_thread(cluster.settle)
        for live_reader in (on_a, on_b):
            await live_reader.until({consultation: begin + 3})

        # Redis comes back from the snapshot: the three comments are gone, the epoch is the same.
        def restore() -> None:
            now = list(r.scan_iter(match=f"{cluster.prefix}:*", count=1000))
            r.delete(*now)
            for key, dumped in snapshot.items():
                r.restore(key, 0, dumped, replace=True)

        await asyncio.to_thread(restore)
        assert cluster.last_offset(consultation) == begin
        await asyncio.to_thread(cluster.comment, "b", "citizen", "After the restart.")
        await asyncio.to_thread(cluster.settle)
        new_epoch = cluster.runtime.backend.current_epoch()
        assert new_epoch != old_epoch
        after = cluster.stream(consultation, begin)
        assert [o for o, _i in after] == [begin + 1], "Redis handed out the lost offset again"
        for live_reader in (on_a, on_b):
            await live_reader.until(
                {consultation: begin + 1, proposal: cluster.last_offset(proposal)}, new_epoch
            )
            assert {f["topic"] for f in live_reader.tracker.resets} >= {consultation, proposal}
            assert live_reader.tracker.ids[consultation] == [after[0][1]]

    async with reader(a, cluster, "supporter1", offline) as back:
        await back.subscribe({t: {"epoch": e, "offset": o} for t, (e, o) in offline.at.items()})
        assert {f["topic"] for f in offline.resets} == set(topics)
        assert offline.at[consultation] == (new_epoch, begin + 1)
        await back.quiet()
