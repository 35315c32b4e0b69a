"""The soak: mixed load for a long stretch (10 minutes by default) against the production setup —
2 web processes and 1 worker on PostgreSQL + Redis — reporting errors, latency percentiles per
kind of request, WebSocket messages received, and how the processes' memory moves.

    python -m bench.soak [--minutes 10] [--rate 25] [--out bench-results/soak.json]

Citizens browse pages, support and comment; moderators keep the live dashboard open (their
sockets on the moderation and dashboard topics) and reload the queue. A refusal the platform is
meant to give (a 429 from the posting limits) is counted apart from errors. Memory is sampled
every 15 s; growth compares the last minute's average with the second minute's (after warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    Progress,
    check_services,
    percentile,
    redis_prefix,
    rss_kib,
    scratch_database,
    stamp_head,
)
from bench.http_bench import (
    CSRF_COOKIE,
    SECRET,
    Processes,
    _free_port,
    _settings,
    civic_env,
    seed,
)

PAGES = ("/", "/consultations", "/consultations/{c}", "/proposals/{p}", "/leaderboards", "/dashboard")
# kind → weight in the mix
MIX = {"page": 50, "support": 25, "comment": 10, "moderator_page": 10, "api_read": 5}


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: int = 0
    refused: int = 0  # 429: the posting limits doing their job
    error_samples: list[str] = field(default_factory=list)

    def record(self, kind: str, status: int | str, ms: float) -> None:
        self.statuses[kind][str(status)] += 1
        if status == 429:
            self.refused += 1
        elif not (isinstance(status, int) and status < 400):
            self.errors += 1
            if len(self.error_samples) < 10:
                self.error_samples.append(f"{kind}: {status}")
        else:
            self.latencies[kind].append(ms)


@dataclass
class Sockets:
    received: int = 0
    errors: list[str] = field(default_factory=list)


def process_tree_rss(pid: int) -> int:
    """RSS of a process and its children (uvicorn's supervisor and its workers), in KiB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += rss_kib(current)
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending.extend(int(c) for c in children)
    return total


def seed_moderators(runtime: Any, agency_id: int, count: int) -> list[str]:
    from civic.identity.actions import do_grant_role, do_register
    from civic.identity.models import Role
    from civic.identity.schemas import Registration
    from civic.identity.sessions import start_session

    hashed = runtime.passwords.hash("bench password 12345")
    tokens = []
    with runtime.db.transaction() as s:
        for n in range(count):
            data = Registration(
                email=f"moderator{n}@bench.example.az", display_name=f"Moderator {n}", password="x" * 12
            )
            account = do_register(s, data, hashed, kind="official", agency_id=agency_id)
            do_grant_role(s, account, Role.MODERATOR, agency_id=agency_id)
            tokens.append(start_session(s, runtime.settings, account))
    return tokens


def open_for_comments(runtime: Any, consultation_id: int) -> int:
    """Comments are taken in the support phase too; returns the consultation's agency."""
    from civic.participation.models import Consultation

    with runtime.db.transaction() as s:
        consultation = s.get(Consultation, consultation_id)
        assert consultation is not None
        return int(consultation.agency_id)


async def watch(url: str, token: str, topics: list[str], sockets: Sockets, stop: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    try:
        async with connect(
            url, additional_headers={"Cookie": f"civic_session={token}"}, compression=None, max_size=2**22
        ) as ws:
            await ws.send(json.dumps({"type": "subscribe", "topics": topics}))
            while not stop.is_set():
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except TimeoutError:
                    continue
                if frame.get("type") == "event":
                    sockets.received += 1
                elif frame.get("type") == "error":
                    sockets.errors.append(str(frame)[:200])
    except Exception as exc:
        sockets.errors.append(f"{exc.__class__.__name__}: {exc}"[:200])


async def drive(
    base: str,
    scene: Any,
    moderator_tokens: list[str],
    agency_id: int,
    seconds: float,
    rate: float,
    tally: Tally,
    sockets: Sockets,
    watchers: int,
) -> None:
    import httpx

    from civic.http.guard import csrf_token_for

    rng = random.Random(7)
    csrf = {"X-CSRF-Token": csrf_token_for(SECRET, CSRF_COOKIE)}
    cookie = "civic_session={}; civic_csrf=" + CSRF_COOKIE
    kinds, weights = list(MIX), list(MIX.values())
    stop = asyncio.Event()
    ws_url = base.replace("http", "ws", 1) + "/ws"
    socket_tasks = [
        asyncio.create_task(
            watch(
                ws_url,
                scene.tokens[i % len(scene.tokens)],
                [f"consultation:{scene.consultation_id}"],
                sockets,
                stop,
            )
        )
        for i in range(watchers)
    ] + [
        asyncio.create_task(
            watch(
                ws_url,
                token,
                [f"moderation:agency:{agency_id}", f"dashboard:agency:{agency_id}"],
                sockets,
                stop,
            )
        )
        for token in moderator_tokens
    ]
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    in_flight: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def one(kind: str) -> None:
            token = rng.choice(scene.tokens)
            proposal = rng.choice(scene.proposal_ids)
            headers = {"Cookie": cookie.format(token)}
            started = time.perf_counter()
            try:
                if kind == "page":
                    path = rng.choice(PAGES).format(c=scene.consultation_id, p=proposal)
                    response = await client.get(path, headers=headers)
                elif kind == "support":
                    response = await client.put(
                        f"/api/proposals/{proposal}/support", headers={**headers, **csrf}
                    )
                elif kind == "comment":
                    response = await client.post(
                        f"/api/proposals/{proposal}/comments",
                        json={"body": f"Soak comment {rng.randrange(10**9)}: I agree, and night buses too."},
                        headers={**headers, **csrf},
                    )
                elif kind == "moderator_page":
                    token = rng.choice(moderator_tokens)
                    path = rng.choice(("/moderation", "/moderation/dashboard", "/console/scorecard"))
                    response = await client.get(path, headers={"Cookie": cookie.format(token)})
                else:
                    response = await client.get(f"/api/proposals/{proposal}", headers=headers)
                status: int | str = response.status_code
            except httpx.HTTPError as exc:
                status = exc.__class__.__name__
            tally.record(kind, status, (time.perf_counter() - started) * 1000)

        began = time.monotonic()
        sent = 0
        while (elapsed := time.monotonic() - began) < seconds:
            due = int(elapsed * rate)
            while sent < due:
                task = asyncio.create_task(one(rng.choices(kinds, weights)[0]))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                sent += 1
            await asyncio.sleep(0.02)
        await asyncio.gather(*in_flight)
    await asyncio.sleep(2)  # the last events reach the sockets
    stop.set()
    await asyncio.gather(*socket_tasks)


def summarize(
    tally: Tally, sockets: Sockets, samples: list[dict[str, Any]], seconds: float
) -> dict[str, Any]:
    def growth(name: str) -> dict[str, Any]:
        values = [(s["t"], s[name]) for s in samples]
        second_minute = [v for t, v in values if 60 <= t < 120] or [v for _t, v in values[:2]]
        last_minute = [v for t, v in values if t >= values[-1][0] - 60]
        start, end = sum(second_minute) / len(second_minute), sum(last_minute) / len(last_minute)
        return {
            "start_kib": round(start),
            "end_kib": round(end),
            "growth_pct": round((end / start - 1) * 100, 1),
        }

    total = sum(sum(by.values()) for by in tally.statuses.values())
    return {
        "seconds": seconds,
        "requests": total,
        "requests_per_s": round(total / seconds, 1),
        "errors": tally.errors,
        "error_samples": tally.error_samples,
        "refused_429": tally.refused,
        "latency_ms": {
            kind: {
                "n": len(values),
                "p50": round(percentile(values, 50), 1),
                "p95": round(percentile(values, 95), 1),
                "p99": round(percentile(values, 99), 1),
                "max": round(max(values), 1),
            }
            for kind, values in sorted(tally.latencies.items())
            if values
        },
        "statuses": {kind: dict(by) for kind, by in tally.statuses.items()},
        "websocket_messages": sockets.received,
        "websocket_errors": sockets.errors[:10],
        "memory": {name: growth(name) for name in ("web", "worker")},
        "samples": samples,
    }


def run(
    minutes: float, rate: float, citizens: int, proposals: int, watchers: int, step: Progress
) -> dict[str, Any]:
    from civic.events.handlers import HandlerSet
    from civic.runtime import build_runtime

    check_services()
    seconds = minutes * 60
    with (
        scratch_database() as url,
        redis_prefix() as prefix,
        tempfile.TemporaryDirectory(prefix="civic-soak-") as tmp,
    ):
        workdir = Path(tmp)
        stamp_head(url)
        # Seeding's own events are published without deliveries: the load's events are measured.
        runtime = build_runtime(_settings(workdir, url, prefix), handlers=HandlerSet(()))
        try:
            step(f"seeding {citizens} citizens, {proposals} proposals, 2 moderators")
            scene = seed(runtime, citizens, proposals)
            agency_id = open_for_comments(runtime, scene.consultation_id)
            moderators = seed_moderators(runtime, agency_id, 2)
        finally:
            runtime.close()
        port = _free_port()
        env = civic_env(workdir, url, prefix)
        env["CIVIC_POSTING_LIMIT"] = "10/minute"
        procs = Processes(workdir)
        try:
            worker = procs.start("worker", [sys.executable, "-m", "civic.cli", "worker"], env)
            web = procs.start(
                "web",
                [sys.executable, "-m", "civic.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                env,
            )  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            procs.wait_healthy(base)
            samples: list[dict[str, Any]] = []
            tally, sockets = Tally(), Sockets()
            began = time.monotonic()
            stop_sampling = threading.Event()

            def sample() -> None:
                while not stop_sampling.is_set():
                    t = time.monotonic() - began
                    samples.append(
                        {
                            "t": round(t, 1),
                            "web": process_tree_rss(web.pid),
                            "worker": process_tree_rss(worker.pid),
                            "requests": sum(sum(by.values()) for by in tally.statuses.values()),
                            "errors": tally.errors,
                        }
                    )
                    if len(samples) % 4 == 1:
                        step(
                            f"{t / 60:4.1f} min: {samples[-1]['requests']} requests, {tally.errors} errors, "
                            f"{sockets.received} WebSocket messages, web RSS {samples[-1]['web'] / 1024:.0f} MiB"
                        )
                    stop_sampling.wait(15)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            step(f"mixed load at {rate:g} requests/s for {minutes:g} min, {watchers} + 2 sockets open")
            asyncio.run(drive(base, scene, moderators, agency_id, seconds, rate, tally, sockets, watchers))
            stop_sampling.set()
            sampler.join(5)
            procs.check()
            return summarize(tally, sockets, samples, seconds)
        finally:
            procs.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=25.0, help="requests per second")
    parser.add_argument("--citizens", type=int, default=300)
    parser.add_argument("--proposals", type=int, default=20)
    parser.add_argument("--watchers", type=int, default=40, help="citizens' sockets on the consultation")
    parser.add_argument("--out", type=Path, default=Path("bench-results/soak.json"))
    args = parser.parse_args(argv)
    step = Progress()
    result = run(args.minutes, args.rate, args.citizens, args.proposals, args.watchers, step)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"\nsoak: {result['requests']} requests in {args.minutes:g} min, {result['errors']} errors, "
          f"{result['refused_429']} refused by the posting limit (429), "
          f"{result['websocket_messages']} WebSocket messages")  # fmt: skip
    print(f"{'kind':<16}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind, lat in result["latency_ms"].items():
        print(f"{kind:<16}{lat['n']:>7}{lat['p50']:>9}{lat['p95']:>9}{lat['p99']:>9}{lat['max']:>9}")
    for name, memory in result["memory"].items():
        print(f"{name} RSS: {memory['start_kib'] / 1024:.0f} MiB → {memory['end_kib'] / 1024:.0f} MiB "
              f"({memory['growth_pct']:+.1f}%)")  # fmt: skip
    print(f"written to {args.out}")
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
