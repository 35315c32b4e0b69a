"""Memory per idle WebSocket: one `civic serve` web process (production mode) holding N idle,
subscribed connections, against a bare `websockets` server holding the same N.

    python -m bench.memory_bench [--quick]

The clients are `realtime_bench`'s raw RFC 6455 clients, in separate processes (a few thousand
sockets each); every one subscribes to a public consultation topic and then idles. The server's
RSS is read from /proc before the first client connects and once all are subscribed (plus a
second to settle); the growth divided by the clients is the cost of one connection, including
what opening that many costs once (threads, pools). The open-file limit is raised for the
servers and clients (they inherit it).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    PG_ADMIN_URL,
    Figure,
    Progress,
    Step,
    raise_nofile,
    redis_prefix,
    rss_kib,
    scratch_database,
    stamp_head,
)


def _hold(url: str, topic: str, clients: int, procs: int) -> list[subprocess.Popen[str]]:
    """`clients` subscribed idle sockets from `procs` client processes (pinned to CPU 1)."""
    from bench import realtime_bench

    per = [clients // procs + (i < clients % procs) for i in range(procs)]
    spawned = [realtime_bench.spawn(["_clients", url, topic, str(n), "0"], 1) for n in per if n]
    for proc in spawned:
        realtime_bench.expect(proc, "ready")
    return spawned


def _release(clients: list[subprocess.Popen[str]]) -> None:
    for proc in clients:
        if proc.stdin:
            proc.stdin.close()
    for proc in clients:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def measure(pid: int, url: str, topic: str, clients: int, procs: int) -> tuple[int, int]:
    """(RSS before, RSS with every client subscribed and idle), KiB."""
    time.sleep(1)
    before = rss_kib(pid)
    held = _hold(url, topic, clients, procs)
    try:
        time.sleep(1.5)
        return before, rss_kib(pid)
    finally:
        _release(held)


def baseline(clients: int, procs: int, step: Step) -> tuple[int, int]:
    from bench import realtime_bench

    server = realtime_bench.spawn(["_server", "baseline"], 0)
    try:
        _, port, topic = realtime_bench.expect(server, "ready")
        step(f"baseline: bare websockets server, {clients:,} idle clients")
        return measure(server.pid, f"ws://127.0.0.1:{port}/ws", topic, clients, procs)
    finally:
        server.terminate()  # a graceful close of thousands of sockets would only cost time here
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


def civic(clients: int, procs: int, step: Step) -> tuple[int, int]:
    from bench import http_bench
    from civic.events.handlers import HandlerSet
    from civic.runtime import build_runtime

    with tempfile.TemporaryDirectory(prefix="civic-bench-mem-") as tmp, scratch_database(PG_ADMIN_URL) as url:
        workdir = Path(tmp)
        with redis_prefix() as prefix:
            stamp_head(url)
            runtime = build_runtime(http_bench._settings(workdir, url, prefix), handlers=HandlerSet(()))
            try:
                scene = http_bench.seed(runtime, 1, 1)
            finally:
                runtime.close()
            port = http_bench._free_port()
            processes = http_bench.Processes(workdir)
            try:
                web = processes.start(
                    "web",
                    [sys.executable, "-m", "civic.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                    http_bench.civic_env(workdir, url, prefix),
                )  # fmt: skip
                processes.wait_healthy(f"http://127.0.0.1:{port}")
                step(f"civic: `civic serve --workers 1` (production mode), {clients:,} idle clients")
                return measure(
                    web.pid,
                    f"ws://127.0.0.1:{port}/ws",
                    f"consultation:{scene.consultation_id}",
                    clients,
                    procs,
                )
            finally:
                processes.stop()


def run(quick: bool = False, step: Step | None = None) -> list[Figure]:
    step = step or Progress()
    clients, procs = (200, 1) if quick else (5_000, 4)
    raise_nofile(clients + 4096)
    b0, b1 = baseline(clients, procs, step)
    c0, c1 = civic(clients, procs, step)
    per, base_per = (c1 - c0) / clients, (b1 - b0) / clients
    step(
        f"civic {c0:,} → {c1:,} KiB ({per:.1f} KiB/conn); baseline {b0:,} → {b1:,} KiB ({base_per:.1f} KiB/conn)"
    )
    return [
        Figure("memory.kib_per_conn", f"Memory: web process RSS per idle WebSocket ({clients:,})", "KiB", per, base_per,
               "bare websockets server", "value < 32 KiB", per < 32,
               f"RSS {c0 / 1024:,.0f} → {c1 / 1024:,.0f} MiB (baseline {b0 / 1024:,.0f} → {b1 / 1024:,.0f} MiB)"),
    ]  # fmt: skip


if __name__ == "__main__":
    import json

    out: Any = [f.as_json() for f in run(quick="--quick" in sys.argv)]
    print(json.dumps(out, indent=1))
