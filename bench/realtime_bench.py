"""Fan-out benchmark: civic's WebSocket hub against a bare `websockets.broadcast()` server.

    python -m bench.realtime_bench [--clients 1000] [--events 100] [--rate 50] [--seconds 4]
                                   [--modes baseline,embedded,redis] [--stall 100] [--out FILE]

Each mode starts one server process pinned to CPU 0 and several load-generator processes pinned
to CPU 1 (on a 2-core machine; `--server-cpu`/`--client-cpu` to change). In one run:

- baseline: a bare `websockets` server (asyncio API) that answers the same subscribe frames and
  sends each event with `websockets.broadcast()` to every subscribed connection;
- embedded: `civic` as `civic serve` runs it without Redis — SQLite, the in-process bus, the
  relay inside the web process. The events are emitted inside the server process (an action's
  transaction), so the server's CPU includes the commit and the relay;
- redis: `civic` in production mode — PostgreSQL, Redis Streams — with the relay in this driver
  process (it plays `civic worker`), so the server's CPU is following the stream and fanning out.

Every client subscribes to one consultation topic and checks each frame's offset: every event
must arrive exactly once per client, in order. Measured:

- burst: `--events` events at once; delivered frames/s (first emit to last receipt) and the
  server's CPU-µs per delivered frame (utime+stime of the server process over the burst);
- open loop: `--rate` events/s for `--seconds` on a fixed schedule (one transaction each);
  latency from the event's `occurred_at` (set inside the emitting transaction, just before its
  commit) to its receipt at each client, p50/p90/p99;
- memory per idle subscribed connection: the server's RSS growth over all connections / clients.

With `--stall N` every mode runs a second time with one client in N that stops reading right
after subscribing (its receive buffer set small, as a stuck browser tab's would fill): the other
clients' latency must not move, and neither may the server's memory (RSS at the end of the run
against RSS with all clients connected and idle).

Results print as a Markdown section (and go to `--out`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("CIVIC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CIVIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- civic: a world to follow and events to emit ------------------------------------------------


def civic_settings(mode: str, workdir: Path, database_url: str, prefix: str) -> Any:
    from civic.settings import Settings

    return Settings(
        var_dir=workdir / "var",
        database_url=database_url,
        redis_url=REDIS_URL if mode == "redis" else "",
        redis_prefix=prefix,
        rq_queue=f"bench-{prefix}",
        secret_key="bench-secret-key",
        relay_in_web=mode == "embedded",
        argon2_memory_kib=19_456,
        argon2_time_cost=2,
        argon2_parallelism=1,
    )


def emit_events(runtime: Any, world: dict[str, int], count: int, rate: float, start: int) -> None:
    """`count` proposal.supported events: one transaction for all when rate is 0 (a burst),
    else one transaction each on a fixed schedule (open loop: a late one does not delay the rest)."""
    from civic.events.envelope import emit
    from civic.participation.events import PROPOSAL_SUPPORTED, SupportChanged

    def one(session: Any, n: int) -> None:
        payload = SupportChanged(
            proposal_id=world["proposal_id"],
            consultation_id=world["consultation_id"],
            agency_id=world["agency_id"],
            author_id=world["author_id"],
            support_count=n,
        )
        emit(session, PROPOSAL_SUPPORTED, payload, actor_id=None)

    if rate <= 0:
        with runtime.db.transaction() as s:
            for n in range(start, start + count):
                one(s, n)
        return
    began = time.monotonic()
    for i in range(count):
        delay = began + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        with runtime.db.transaction() as s:
            one(s, start + i)


def build_civic_world(mode: str, workdir: Path, database_url: str, prefix: str) -> dict[str, int]:
    from civic.events.handlers import HandlerSet
    from civic.runtime import build_runtime
    from tests.realtime.conftest import build_world

    runtime = build_runtime(civic_settings(mode, workdir, database_url, prefix), handlers=HandlerSet(()))
    try:
        w = build_world(runtime)
        return {
            "agency_id": w.agency_id,
            "consultation_id": w.consultation_id,
            "proposal_id": w.proposal_id,
            "author_id": w.ids["author"],
        }
    finally:
        runtime.close()


# ---- servers (subprocesses; control on stdin, answers on stdout) ---------------------------------


def say(*words: object) -> None:
    print(*words, flush=True)


def serve_civic(mode: str, workdir: Path, database_url: str, prefix: str, world: dict[str, int]) -> None:
    import uvicorn

    from civic.app import create_app
    from civic.events.handlers import HandlerSet
    from civic.runtime import build_runtime

    runtime = build_runtime(civic_settings(mode, workdir, database_url, prefix), handlers=HandlerSet(()))
    app = create_app(runtime=runtime)
    # As `civic serve` runs uvicorn (cli._serve).
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        ws=os.environ.get("BENCH_UVICORN_WS", "auto"),
        ws_per_message_deflate=False,
        ws_max_size=64 * 1024,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    sent = {"n": 1}

    def control() -> None:
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        say("ready", port, f"consultation:{world['consultation_id']}")
        for line in sys.stdin:
            words = line.split()
            if words and words[0] == "stats":
                stats = dict(vars(app.state.hub.stats))
                stats["open_sockets"] = getattr(app.state.hub, "open_sockets", None)
                say("stats", json.dumps(stats))
            elif words and words[0] == "emit":
                count, rate = int(words[1]), float(words[2])
                emit_events(runtime, world, count, rate, sent["n"])
                sent["n"] += count
                say("emitted")
        server.should_exit = True

    threading.Thread(target=control, daemon=True).start()
    server.run()
    runtime.close()


def compact(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))  # as civic's frames


def serve_baseline() -> None:
    """The reference: per event one frame of the same shape as civic's, `broadcast()` to all."""
    from websockets.asyncio.server import broadcast, serve

    topic = "consultation:1"
    subscribed: set[Any] = set()
    body = compact(
        {"proposal_id": 1, "consultation_id": 1, "agency_id": 1, "author_id": 7, "support_count": 0}
    )

    async def handler(ws: Any) -> None:
        await ws.send(compact({"type": "welcome", "epoch": "baseline", "account": None}))
        try:
            async for _message in ws:
                subscribed.add(ws)
                await ws.send(
                    compact({"type": "subscribed", "topic": topic, "epoch": "baseline", "offset": 0})
                )
        finally:
            subscribed.discard(ws)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        offset = 0
        async with serve(handler, "127.0.0.1", 0, compression=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            say("ready", port, topic)
            while True:
                line = await loop.run_in_executor(None, sys.stdin.readline)
                words = line.split()
                if not words:
                    return
                if words[0] == "stats":
                    say("stats", json.dumps({"open_sockets": len(subscribed)}))
                    continue
                count, rate = int(words[1]), float(words[2])
                began = time.monotonic()
                # A burst is stamped once, as civic's burst is one transaction: latency counts from
                # the moment all of it could be sent, for both.
                stamp = datetime.now().astimezone().isoformat()
                for i in range(count):
                    if rate > 0:
                        await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
                        stamp = datetime.now().astimezone().isoformat()
                    offset += 1
                    envelope = (
                        '{"id":"'
                        + uuid.uuid4().hex
                        + '","seq":'
                        + str(offset)
                        + ',"type":"proposal.supported",'
                        '"v":1,"occurred_at":"' + stamp + '","actor":null,'
                        '"topics":["' + topic + '"],"data":' + body + "}"
                    )
                    frame = (
                        '{"type":"event","topic":"' + topic + '","offset":' + str(offset)
                        + ',"epoch":"baseline","event":' + envelope + "}"
                    )  # fmt: skip
                    broadcast(subscribed, frame)
                say("emitted")

    asyncio.run(main())


# ---- load generator ------------------------------------------------------------------------------


class RawClient(asyncio.Protocol):
    """A minimal WebSocket client (RFC 6455 over asyncio.Protocol): a Python `websockets` client
    costs tens of µs per frame, so a few thousand of them on one core could not keep up with one
    server and the latency measured would be the clients' own backlog. It reads unmasked text
    frames, answers pings, and looks only at each event's offset and `occurred_at`."""

    def __init__(self, topic: str, ready: asyncio.Future[None]) -> None:
        self.topic = topic
        self.ready = ready
        self.buffer = b""
        self.upgraded = False
        self.transport: Any = None
        self.last = 0
        self.got = 0
        self.stats: dict[str, Any] | None = None
        self.closed = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    def send_frame(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        size = len(payload)
        header = bytes([0x80 | opcode]) + (
            bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
        )
        self.transport.write(header + mask + masked)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(self.buffer[:200])
            self.upgraded, self.buffer = True, self.buffer[end + 4 :]
        buf, pos, now = self.buffer, 0, time.time()
        while len(buf) - pos >= 2:
            opcode, size, head = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, 2
            if size == 126:
                if len(buf) - pos < 4:
                    break
                size, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif size == 127:
                if len(buf) - pos < 10:
                    break
                size, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if len(buf) - pos < head + size:
                break
            payload = buf[pos + head : pos + head + size]
            pos += head + size
            if opcode == 1:
                self.on_text(payload, now)
            elif opcode == 9:
                self.send_frame(0xA, payload)
        self.buffer = buf[pos:]

    def on_text(self, payload: bytes, now: float) -> None:
        if payload.startswith(b'{"type":"event"'):
            i = payload.index(b'"offset":') + 9
            offset = int(payload[i : payload.index(b",", i)])
            stats = self.stats
            if stats is None:
                return
            if self.last and offset <= self.last:
                stats["repeats"] += 1
                return
            if self.last and offset > self.last + 1:
                stats["gaps"] += 1
            self.last = offset
            self.got += 1
            j = payload.index(b'"occurred_at":"') + 15
            sent = datetime.fromisoformat(payload[j : payload.index(b'"', j)].decode()).timestamp()
            stats["lat"].append(round((now - sent) * 1000, 2))
            stats["frames"] += 1
            stats["last"] = max(stats["last"], now)
        elif payload.startswith(b'{"type":"welcome"'):
            self.send_frame(1, json.dumps({"type": "subscribe", "topics": [self.topic]}).encode())
        elif payload.startswith(b'{"type":"subscribed"') and not self.ready.done():
            self.ready.set_result(None)


def run_clients(url: str, topic: str, count: int, stalling: int = 0) -> None:
    """`count` subscribed sockets, of which `stalling` stop reading once subscribed; per phase
    ("phase N" on stdin) waits for N events on each reading one and reports frames, repeats,
    gaps, sockets short, and the latency of every frame."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        clients: list[RawClient] = []
        stalled: list[RawClient] = []
        opening = asyncio.Semaphore(50)

        async def open_one(stall: bool) -> None:
            async with opening:
                ready: asyncio.Future[None] = loop.create_future()
                sock = None
                if stall:  # a small window, so the server's writes back up after kilobytes
                    sock = socket.socket()
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                    sock.setblocking(False)
                    await loop.sock_connect(sock, (host, int(port)))
                    _t, client = await loop.create_connection(lambda: RawClient(topic, ready), sock=sock)
                else:
                    _t, client = await loop.create_connection(
                        lambda: RawClient(topic, ready), host, int(port)
                    )
                await asyncio.wait_for(ready, 60)
                if stall:
                    client.transport.pause_reading()  # and never again
                    stalled.append(client)
                else:
                    clients.append(client)

        every = count // stalling if stalling else 0
        await asyncio.gather(*(open_one(bool(every) and i % every == every - 1) for i in range(count)))
        say("ready")
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line.strip():
                break
            wanted = int(line.split()[1])
            stats: dict[str, Any] = {"frames": 0, "repeats": 0, "gaps": 0, "short": 0, "lat": [], "last": 0.0}
            for client in clients:
                client.got, client.stats = 0, stats
            deadline = time.monotonic() + 120
            while any(c.got < wanted and not c.closed for c in clients) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            stats["short"] = sum(1 for c in clients if c.got < wanted)
            say(json.dumps(stats))
        for client in clients:
            client.send_frame(8, (1000).to_bytes(2, "big"))  # a clean close, so no server logs an error
        await asyncio.sleep(0.5)
        for client in clients + stalled:
            client.transport.close()

    asyncio.run(main())


# ---- the driver ----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def rss_kib(pid: int) -> int:
    match = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) if match else 0


def pinned(cpu: int) -> Any:
    return lambda: os.sched_setaffinity(0, {cpu})


def spawn(args: list[str], cpu: int, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.realtime_bench", *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=pinned(cpu),  # noqa: PLW1509
    )


def expect(proc: subprocess.Popen[str], word: str) -> list[str]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(word):
        raise RuntimeError(f"expected {word!r} from {proc.args}, got {line!r}")
    return line.split()


def percentile(values: list[float], q: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def run_mode(mode: str, args: argparse.Namespace, stall: int = 0) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"civic-bench-{mode}-"))
    token = uuid.uuid4().hex[:10]
    prefix = f"civicbench:{token}"
    database_url, admin, db_name = "", None, ""
    runtime = None
    world: dict[str, int] = {}
    if mode == "redis":
        from sqlalchemy import create_engine, text

        from civic.wiring import import_models

        db_name = f"civic_bench_{token}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{db_name}"'))
        database_url = re.sub(r"/[^/]*$", f"/{db_name}", PG_ADMIN_URL)
        engine = create_engine(database_url)
        import_models().metadata.create_all(engine)
        engine.dispose()
    elif mode == "embedded":
        (workdir / "var").mkdir()
        database_url = f"sqlite:///{workdir / 'var' / 'civic.sqlite3'}"
        from sqlalchemy import create_engine

        from civic.wiring import import_models

        engine = create_engine(database_url)
        import_models().metadata.create_all(engine)
        engine.dispose()
    if mode != "baseline":
        world = build_civic_world(mode, workdir, database_url, prefix)
    server = spawn(["_server", mode, str(workdir), database_url, prefix, json.dumps(world)], args.server_cpu)
    clients: list[subprocess.Popen[str]] = []
    try:
        _, port, topic = expect(server, "ready")
        if mode == "redis":
            from civic.events.handlers import HandlerSet
            from civic.runtime import build_runtime

            runtime = build_runtime(
                civic_settings(mode, workdir, database_url, prefix), handlers=HandlerSet(())
            )
            runtime.start_relay()  # this driver is the worker
        time.sleep(1)
        rss_before = rss_kib(server.pid)
        per = [args.clients // args.procs + (i < args.clients % args.procs) for i in range(args.procs)]
        starts = [sum(per[:i]) for i in range(len(per))]  # one client in `stall`, counted over all
        stalling = [(b + n) // stall - b // stall if stall else 0 for b, n in zip(starts, per, strict=True)]
        readers = sum(per) - sum(stalling)
        clients = [
            spawn(["_clients", f"ws://127.0.0.1:{port}/ws", topic, str(n), str(k)], args.client_cpu)
            for n, k in zip(per, stalling, strict=True)
            if n
        ]
        for proc in clients:
            expect(proc, "ready")
        time.sleep(1)
        rss_after = rss_kib(server.pid)
        sent = {"n": 1}

        def phase(count: int, rate: float) -> tuple[dict[str, Any], float, float, float]:
            for proc in clients:
                assert proc.stdin is not None
                proc.stdin.write(f"phase {count}\n")
                proc.stdin.flush()
            time.sleep(0.2)
            cpu0, wall0 = cpu_seconds(server.pid), time.time()
            if runtime is not None:
                emit_events(runtime, world, count, rate, sent["n"])
                sent["n"] += count
            else:
                assert server.stdin is not None
                server.stdin.write(f"emit {count} {rate}\n")
                server.stdin.flush()
                expect(server, "emitted")
            results = [json.loads(proc.stdout.readline()) for proc in clients]  # type: ignore[union-attr]
            cpu1 = cpu_seconds(server.pid)
            merged: dict[str, Any] = {"frames": 0, "repeats": 0, "gaps": 0, "short": 0, "lat": []}
            for r in results:
                for key in ("frames", "repeats", "gaps", "short"):
                    merged[key] += r[key]
                merged["lat"].extend(r["lat"])
            last = max(r["last"] for r in results)
            return merged, cpu1 - cpu0, wall0, last

        burst, burst_cpu, burst_start, burst_end = phase(args.events, 0)
        open_count = int(args.rate * args.seconds)
        log_end = runtime.backend.end_position() if runtime is not None else ""
        steady, _cpu, _s, _e = phase(open_count, args.rate)
        time.sleep(1)
        rss_end = rss_kib(server.pid)
        assert server.stdin is not None
        server.stdin.write("stats\n")
        server.stdin.flush()
        server_stats = json.loads(" ".join(expect(server, "stats")[1:]))
        to_bus: list[float] = []
        if runtime is not None:  # redis: when each event reached the stream (its entry id's time)
            for entry_id, fields in runtime.backend.redis.xrange(f"{prefix}:all", min=f"({log_end}", max="+"):
                occurred = datetime.fromisoformat(json.loads(fields["e"])["occurred_at"]).timestamp()
                to_bus.append(int(entry_id.split("-")[0]) - occurred * 1000)
        return {
            "mode": mode,
            "stalled": sum(stalling),
            "server": server_stats,
            "rss_growth_kib": rss_end - rss_after,
            "clients": readers,
            "burst_events": args.events,
            "burst_frames": burst["frames"],
            "burst_expected": args.events * readers,
            "burst_errors": burst["repeats"] + burst["gaps"] + burst["short"],
            "frames_per_s": burst["frames"] / max(1e-9, burst_end - burst_start),
            "cpu_us_per_frame": burst_cpu * 1e6 / max(1, burst["frames"]),
            "burst_p50": percentile(burst["lat"], 50),
            "burst_p90": percentile(burst["lat"], 90),
            "open_events": open_count,
            "open_frames": steady["frames"],
            "open_expected": open_count * readers,
            "open_errors": steady["repeats"] + steady["gaps"] + steady["short"],
            "p50": percentile(steady["lat"], 50),
            "p90": percentile(steady["lat"], 90),
            "p99": percentile(steady["lat"], 99),
            "kib_per_conn": (rss_after - rss_before) / max(1, sum(per)),
            "bus_p50": percentile(to_bus, 50) if to_bus else None,
            "bus_p90": percentile(to_bus, 90) if to_bus else None,
        }
    finally:
        for proc in clients:
            if proc.stdin:
                proc.stdin.close()
        for proc in clients:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if server.stdin:
            server.stdin.close()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        if runtime is not None:
            runtime.close()
        shutil.rmtree(workdir, ignore_errors=True)
        if admin is not None:
            from sqlalchemy import text

            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()
        if mode == "redis":
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    base = next((r for r in results if r["mode"] == "baseline" and not r["stalled"]), None)

    def ratio(r: dict[str, Any], key: str) -> str:
        return f"{r[key] / base[key]:.2f}×" if base and base[key] else "—"

    lines = [
        "## Real-time fan-out (`bench/realtime_bench.py`)",
        "",
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores (load average {args.load:.1f} at the start), loopback; server pinned to CPU {args.server_cpu}, "
        f"{args.procs} client processes pinned to CPU {args.client_cpu}; {args.clients} clients on one topic; "
        f"uvicorn ws={args.ws}. "
        f"Burst: {args.events} events at once. Open loop: {args.rate:g} events/s for {args.seconds:g} s. "
        "Latency: the event's `occurred_at` (inside the emitting transaction) to receipt at the client. "
        "CPU: the server process's utime+stime over the burst / frames delivered. "
        "Memory: server RSS growth / connected, subscribed, idle clients. "
        "Stalled: clients that stop reading once subscribed (not counted in frames or latency); "
        "RSS growth over the run: server RSS after both phases minus RSS with all clients idle.",
        "",
        "| mode | frames delivered (burst / open loop) | lost, repeated, out of order | frames/s | server CPU-µs per frame | vs baseline | burst latency p50 / p90 ms | open-loop p50 / p90 / p99 ms | KiB per idle connection | RSS growth over the run KiB | stalled clients cut off |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        label = f"{r['mode']}, {r['stalled']} stalled" if r["stalled"] else r["mode"]
        cut = r["server"].get("cut_off", "—") if r["stalled"] else "—"
        lines.append(
            f"| {label} | {r['burst_frames']}/{r['burst_expected']} / {r['open_frames']}/{r['open_expected']} "
            f"| {r['burst_errors'] + r['open_errors']} | {r['frames_per_s']:,.0f} | {r['cpu_us_per_frame']:.1f} "
            f"| {ratio(r, 'cpu_us_per_frame')} | {r['burst_p50']:.0f} / {r['burst_p90']:.0f} "
            f"| {r['p50']:.1f} / {r['p90']:.1f} / {r['p99']:.1f} | {r['kib_per_conn']:.1f} "
            f"| {r['rss_growth_kib']:,} | {cut} |"
        )
    for r in results:
        if r.get("bus_p50") is not None:
            lines.append(
                f"\n{r['mode']}{', stalled' if r['stalled'] else ''}: of the open-loop latency, `occurred_at` → entry in the Redis stream (commit, "
                f"NOTIFY, relay, publish) took p50 {r['bus_p50']:.1f} / p90 {r['bus_p90']:.1f} ms; the rest is "
                "the web process following the stream and fanning out, and the clients reading."
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_server":
        mode = sys.argv[2]
        if mode == "baseline":
            serve_baseline()
        else:
            serve_civic(mode, Path(sys.argv[3]), sys.argv[4], sys.argv[5], json.loads(sys.argv[6]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_clients":
        run_clients(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--modes", default="baseline,embedded,redis")
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--stall", type=int, default=0, help="also run each mode with 1 client in N not reading (0: don't)"
    )
    parser.add_argument(
        "--ws", default="auto", help="uvicorn's WebSocket implementation for civic (`civic serve`: auto)"
    )
    args = parser.parse_args()
    args.load = os.getloadavg()[0]  # other work on the machine skews every figure
    os.environ["BENCH_UVICORN_WS"] = args.ws
    results = []
    for mode in args.modes.split(","):
        for stall in (0, args.stall) if args.stall else (0,):
            print(f"… {mode} (1 in {stall} stalled)" if stall else f"… {mode}", file=sys.stderr, flush=True)
            results.append(run_mode(mode, args, stall))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    text = report(results, args)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
