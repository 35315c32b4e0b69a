"""HTTP writes through the whole pipeline: supports per second on 2 web processes + 1 worker.

    python -m bench.http_bench [--quick]

civic: `civic serve --workers 2` (two uvicorn processes on one port) and `civic worker`, real
subprocesses in production mode on a scratch PostgreSQL database and a Redis prefix of their own.
The scene is seeded through civic's own actions (an agency, a convener, a consultation in its
support phase, proposals by their authors, citizens with sessions); its setup events are published
with no handlers, so the worker starts with nothing queued. Logged-in citizens then PUT
`/api/proposals/{id}/support` (each (citizen, proposal) once: a repeat writes nothing) from
several load-generator processes (`bench.http_load`, httpx async, `concurrency` requests in
flight in all). A WebSocket client subscribed to the consultation counts the `proposal.supported`
events it receives; after the load, the run waits (bounded) for every event to reach it and for the
handler deliveries (engagement's points among them) to finish, and reports how many did.

baseline: `bench/baseline_app.py` (Starlette + SQLAlchemy, one INSERT per PUT) under uvicorn with
2 processes on the same PostgreSQL, driven by the same load generators with the same requests.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    PG_ADMIN_URL,
    REDIS_URL,
    REPO,
    Figure,
    Progress,
    Step,
    child_env,
    percentile,
    redis_prefix,
    rq_queue_for,
    scratch_database,
    stamp_head,
    tail,
)

SECRET = "civic-bench-secret-key-not-for-production"
CSRF_COOKIE = "bench-csrf-cookie-value"


@dataclass
class Sizes:
    citizens: int
    proposals: int
    concurrency: int
    load_procs: int
    warmup: float
    duration: float
    settle_timeout: float


FULL = Sizes(
    citizens=1000, proposals=30, concurrency=300, load_procs=2, warmup=2, duration=10, settle_timeout=240
)
QUICK = Sizes(
    citizens=80, proposals=8, concurrency=40, load_procs=1, warmup=0.5, duration=1.0, settle_timeout=45
)


@dataclass
class Scene:
    consultation_id: int
    proposal_ids: list[int]
    tokens: list[str]
    watcher_token: str


@dataclass
class Load:
    ok: int = 0
    errors: int = 0
    window_ok: int = 0
    exhausted: bool = False
    statuses: dict[str, int] = field(default_factory=dict)
    lat: list[float] = field(default_factory=list)
    duration: float = 1.0

    @property
    def per_s(self) -> float:
        return self.window_ok / self.duration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(workdir: Path, url: str, prefix: str) -> Any:
    from civic.settings import Settings

    return Settings(
        var_dir=workdir / "var",
        database_url=url,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        rq_queue=rq_queue_for(prefix),
        secret_key=SECRET,
        secure_cookies=False,
        relay_in_web=False,
        registration_limit="1000000/hour",
        argon2_memory_kib=19_456,
        argon2_time_cost=2,
        argon2_parallelism=1,
    )


def seed(runtime: Any, citizens: int, proposals: int) -> Scene:
    """The scene through civic's own actions; events published with no handler attached."""
    from civic.identity.actions import do_grant_role, do_register
    from civic.identity.models import Agency, AgencyKind, Role
    from civic.identity.schemas import Registration
    from civic.identity.sessions import start_session
    from civic.participation.consultations import (
        create_consultation,
        do_change_phase,
        do_publish_consultation,
    )
    from civic.participation.models import Phase
    from civic.participation.proposals import submit_proposal
    from civic.participation.schemas import ConsultationInput, ProposalInput

    password = "bench password 12345"
    hashed = runtime.passwords.hash(password)

    def person(s: Any, n: str, kind: str = "citizen", agency_id: int | None = None) -> Any:
        data = Registration(email=f"{n}@bench.example.az", display_name=f"Bench {n}", password=password)
        return do_register(s, data, hashed, kind=kind, agency_id=agency_id)

    with runtime.db.transaction() as s:
        agency = Agency(
            slug="bench-agency", name="Bench agency", name_az="Bench agency", kind=AgencyKind.AGENCY
        )
        s.add(agency)
        s.flush()
        convener = person(s, "convener", "official", agency.id)
        do_grant_role(s, convener, Role.CONVENER, agency_id=agency.id)
        consultation = create_consultation(
            s,
            convener,
            ConsultationInput(
                agency_id=agency.id,  # type: ignore[arg-type]
                title="Benchmark consultation",
                summary="Supports under load.",
                body="Benchmark.",
                support_threshold=10_000_000,
            ),
        )
        do_publish_consultation(s, convener, consultation)
        do_change_phase(s, convener, consultation, Phase.PROPOSALS)
        proposal_ids = []
        for n in range(proposals):
            author = person(s, f"author{n}")
            p = submit_proposal(
                s,
                author,
                consultation.id,
                ProposalInput(title=f"Proposal {n}", body="Made by the benchmark."),
            )
            proposal_ids.append(p.id)
        do_change_phase(s, convener, consultation, Phase.SUPPORT)
        tokens = [start_session(s, runtime.settings, person(s, f"citizen{n}")) for n in range(citizens)]
        watcher = start_session(s, runtime.settings, person(s, "watcher"))
    while runtime.relay.drain():
        pass
    return Scene(consultation.id, proposal_ids, tokens, watcher)  # type: ignore[arg-type]


# ---- processes --------------------------------------------------------------------------------


class Processes:
    """Subprocesses with their logs; all stopped (TERM, then KILL) on exit."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(args, cwd=self.workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append((name, proc, log))
        return proc

    def check(self) -> None:
        for name, proc, log in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail(log)}")

    def wait_healthy(self, url: str, timeout: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            self.check()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                logs = "\n".join(f"{n}:\n{tail(log)}" for n, _p, log in self.procs)
                raise RuntimeError(f"{url} never became healthy:\n{logs}")
            time.sleep(0.2)

    def stop(self) -> None:
        for _name, proc, _log in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for _name, proc, _log in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.procs.clear()


def civic_env(workdir: Path, url: str, prefix: str) -> dict[str, str]:
    from civic.trust.keys import new_signing_key, new_vault_key

    return child_env(
        CIVIC_DATABASE_URL=url,
        CIVIC_REDIS_URL=REDIS_URL,
        CIVIC_REDIS_PREFIX=prefix,
        CIVIC_RQ_QUEUE=rq_queue_for(prefix),
        CIVIC_SECRET_KEY=SECRET,
        CIVIC_SECURE_COOKIES="false",
        CIVIC_VAR_DIR=str(workdir / "var"),
        CIVIC_LOG_LEVEL="warning",
        CIVIC_VAULT_KEY=new_vault_key(),
        CIVIC_LEDGER_SIGNING_KEY=new_signing_key(),
        CIVIC_ARGON2_MEMORY_KIB="19456",
        CIVIC_ARGON2_TIME_COST="2",
        CIVIC_ARGON2_PARALLELISM="1",
    )


# ---- the load -----------------------------------------------------------------------------------


def run_load(base_url: str, items: list[tuple[str, str]], sizes: Sizes, workdir: Path, tag: str) -> Load:
    """Drive `items` (cookie header, path) from `sizes.load_procs` processes over one time window."""
    from civic.http.guard import csrf_token_for

    headers = {"X-CSRF-Token": csrf_token_for(SECRET, CSRF_COOKIE), "Content-Type": "application/json"}
    start_at = time.time() + 2.5  # every process imported and connected by then
    procs, outs = [], []
    for i in range(sizes.load_procs):
        spec = {
            "base_url": base_url,
            "items": items[i :: sizes.load_procs],
            "headers": headers,
            "concurrency": max(1, sizes.concurrency // sizes.load_procs),
            "start_at": start_at,
            "warmup": sizes.warmup,
            "duration": sizes.duration,
        }
        spec_path, out = workdir / f"load-{tag}-{i}.json", workdir / f"load-{tag}-{i}.out.json"
        spec_path.write_text(json.dumps(spec))
        outs.append(out)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.http_load", str(spec_path), str(out)], cwd=REPO, env=child_env()
            )
        )
    for proc in procs:
        if proc.wait(timeout=sizes.warmup + sizes.duration + 120) != 0:
            raise RuntimeError(f"a load generator failed ({proc.returncode})")
    load = Load(duration=sizes.duration)
    for out in outs:
        r = json.loads(out.read_text())
        load.ok += r["ok"]
        load.errors += r["errors"]
        load.window_ok += r["window_ok"]
        load.exhausted |= r["exhausted"]
        load.lat.extend(r["lat"])
        for k, v in r["statuses"].items():
            load.statuses[k] = load.statuses.get(k, 0) + v
    return load


def support_items(scene: Scene) -> list[tuple[str, str]]:
    cookie = "civic_session={}; civic_csrf=" + CSRF_COOKIE
    items = [
        (cookie.format(t), f"/api/proposals/{p}/support") for t in scene.tokens for p in scene.proposal_ids
    ]
    random.Random(3).shuffle(items)
    return items


# ---- the WebSocket watcher ------------------------------------------------------------------------


class Watcher:
    """One logged-in socket on the consultation topic, counting `proposal.supported` events."""

    def __init__(self, url: str, token: str, topic: str) -> None:
        self.url, self.token, self.topic = url, token, topic
        self.count = 0
        self.error: str | None = None
        self.subscribed = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        from websockets.asyncio.client import connect

        try:
            async with connect(
                self.url, additional_headers={"Cookie": f"civic_session={self.token}"}, compression=None,
                max_size=2**22,
            ) as ws:  # fmt: skip
                await ws.send(json.dumps({"type": "subscribe", "topics": [self.topic]}))
                while not self.stopping.is_set():
                    try:
                        frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                    except TimeoutError:
                        continue
                    if frame.get("type") == "subscribed":
                        self.subscribed.set()
                    elif frame.get("type") == "event" and frame["event"]["type"] == "proposal.supported":
                        self.count += 1
        except Exception as exc:  # reported as a figure's note, not a crash of the suite
            self.error = f"{exc.__class__.__name__}: {exc}"
            self.subscribed.set()

    def start(self) -> None:
        self.thread.start()
        if not self.subscribed.wait(30) or self.error:
            raise RuntimeError(f"the WebSocket watcher could not subscribe: {self.error or 'timeout'}")

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)


def pipeline_counts(runtime: Any) -> dict[str, Any]:
    """Supports recorded; their events published; handler deliveries done of all; points entries."""
    from sqlalchemy import text

    with runtime.db.transaction() as s:
        one = lambda sql: int(s.execute(text(sql)).scalar_one())  # noqa: E731
        return {
            "supports": one("SELECT count(*) FROM support"),
            "events": one("SELECT count(*) FROM outbox_event WHERE type = 'proposal.supported'"),
            "published": one(
                "SELECT count(*) FROM outbox_event WHERE type = 'proposal.supported' AND published_at IS NOT NULL"
            ),
            "deliveries": one(
                "SELECT count(*) FROM handler_delivery d JOIN outbox_event e ON e.seq = d.event_seq "
                "WHERE e.type = 'proposal.supported'"
            ),
            "deliveries_done": one(
                "SELECT count(*) FROM handler_delivery d JOIN outbox_event e ON e.seq = d.event_seq "
                "WHERE e.type = 'proposal.supported' AND d.status = 'done'"
            ),
            "points_entries": one(
                "SELECT count(*) FROM points_entry p JOIN outbox_event e ON e.id = p.event_id "
                "WHERE e.type = 'proposal.supported'"
            ),
            "events_with_points": one(
                "SELECT count(DISTINCT p.event_id) FROM points_entry p JOIN outbox_event e ON e.id = p.event_id "
                "WHERE e.type = 'proposal.supported'"
            ),
        }


# ---- the two sides --------------------------------------------------------------------------------


def measure_baseline(url: str, items: list[tuple[str, str]], sizes: Sizes, workdir: Path, step: Step) -> Load:
    from bench.baseline_app import create_table

    create_table(url)
    port = _free_port()
    procs = Processes(workdir)
    try:
        step(f"baseline: uvicorn bench.baseline_app:app --workers 2 on :{port}")
        procs.start(
            "baseline",
            [sys.executable, "-m", "uvicorn", "bench.baseline_app:app", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "2", "--log-level", "warning", "--no-access-log"],
            child_env(BENCH_BASELINE_DB=url),
        )  # fmt: skip
        procs.wait_healthy(f"http://127.0.0.1:{port}")
        time.sleep(1)  # both worker processes up
        step(f"baseline: {sizes.concurrency} requests in flight for {sizes.warmup:g}+{sizes.duration:g} s")
        load = run_load(f"http://127.0.0.1:{port}", items, sizes, workdir, "baseline")
    finally:
        procs.stop()
    step(
        f"baseline: {load.per_s:,.0f} writes/s, p50 {percentile(load.lat, 50):.0f} ms, p99 {percentile(load.lat, 99):.0f} ms"
    )
    return load


def measure_civic(
    url: str, prefix: str, scene: Scene, runtime: Any, sizes: Sizes, workdir: Path, step: Step
) -> tuple[Load, dict[str, Any], int, float]:
    port = _free_port()
    env = civic_env(workdir, url, prefix)
    procs = Processes(workdir)
    watcher = None
    try:
        step(f"civic: `civic worker` + `civic serve --workers 2` on :{port} (production mode)")
        procs.start("worker", [sys.executable, "-m", "civic.cli", "worker"], env)
        procs.start(
            "web", [sys.executable, "-m", "civic.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"], env
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        procs.wait_healthy(base)
        time.sleep(1)
        watcher = Watcher(
            f"ws://127.0.0.1:{port}/ws", scene.watcher_token, f"consultation:{scene.consultation_id}"
        )
        watcher.start()
        step(f"civic: {sizes.concurrency} requests in flight for {sizes.warmup:g}+{sizes.duration:g} s")
        load = run_load(base, support_items(scene), sizes, workdir, "civic")
        step(f"civic: {load.per_s:,.0f} supports/s, p50 {percentile(load.lat, 50):.0f} ms, p99 {percentile(load.lat, 99):.0f} ms; "
             f"statuses {load.statuses}; waiting for the WebSocket and the handlers")  # fmt: skip
        started = time.monotonic()
        deadline = started + sizes.settle_timeout
        counts = pipeline_counts(runtime)
        done_at_end = counts["deliveries_done"]
        ws_caught_up: float | None = None
        last_report = started
        while time.monotonic() < deadline:
            procs.check()
            counts = pipeline_counts(runtime)
            if ws_caught_up is None and watcher.count >= counts["supports"]:
                ws_caught_up = time.monotonic() - started
            if (
                watcher.count >= counts["supports"]
                and counts["deliveries"]
                and counts["deliveries_done"] >= counts["deliveries"]
            ):
                break
            if time.monotonic() - last_report > 15:
                step(f"civic: WebSocket {watcher.count}/{counts['supports']}, handler deliveries "
                     f"{counts['deliveries_done']}/{counts['deliveries']}")  # fmt: skip
                last_report = time.monotonic()
            time.sleep(0.5)
        settle = time.monotonic() - started
        counts["ws_caught_up_s"] = ws_caught_up
        counts["drain_per_s"] = round((counts["deliveries_done"] - done_at_end) / max(settle, 1e-9), 1)
        time.sleep(0.5)
        delivered = watcher.count
        step(f"civic: after {settle:.0f} s: WebSocket {delivered}/{counts['supports']}, handler deliveries "
             f"{counts['deliveries_done']}/{counts['deliveries']}, points entries {counts['points_entries']}")  # fmt: skip
        return load, counts, delivered, settle
    finally:
        if watcher is not None:
            watcher.stop()
        procs.stop()


def run(quick: bool = False, step: Step | None = None) -> list[Figure]:
    from civic.events.handlers import HandlerSet
    from civic.runtime import build_runtime

    step = step or Progress()
    sizes = QUICK if quick else FULL
    with (
        tempfile.TemporaryDirectory(prefix="civic-bench-http-") as tmp,
        scratch_database(PG_ADMIN_URL) as url,
    ):
        workdir = Path(tmp)
        with redis_prefix() as prefix:
            stamp_head(url)
            runtime = build_runtime(_settings(workdir, url, prefix), handlers=HandlerSet(()))
            try:
                step(f"seeding {sizes.citizens} citizens with sessions, {sizes.proposals} proposals")
                scene = seed(runtime, sizes.citizens, sizes.proposals)
                items = support_items(scene)
                baseline = measure_baseline(url, items, sizes, workdir, step)
                civic, counts, delivered, settle = measure_civic(
                    url, prefix, scene, runtime, sizes, workdir, step
                )
            finally:
                runtime.close()
    return figures(civic, baseline, counts, delivered, settle, sizes)


def figures(
    civic: Load, baseline: Load, counts: dict[str, Any], delivered: int, settle: float, sizes: Sizes
) -> list[Figure]:
    note = f"{sizes.concurrency} in flight, 2 web processes"
    if civic.errors:
        note += f"; civic non-200: {civic.errors} ({civic.statuses})"
    if civic.exhausted:
        note += "; ran out of (citizen, proposal) pairs: raise the scene's size"
    supports = counts["supports"]
    return [
        Figure("http.writes_per_s", "HTTP writes: supports/s (2 web + worker)", "req/s", civic.per_s, baseline.per_s,
               "Starlette+SQLAlchemy INSERT, 2 procs", "ratio ≥ 0.5", civic.per_s / baseline.per_s >= 0.5, note),
        Figure("http.p50_ms", "HTTP writes: latency p50", "ms", percentile(civic.lat, 50), percentile(baseline.lat, 50),
               "same baseline"),
        Figure("http.p99_ms", "HTTP writes: latency p99", "ms", percentile(civic.lat, 99), percentile(baseline.lat, 99),
               "same baseline"),
        Figure("http.ws_delivered", "HTTP writes: events at the WebSocket client", "events", delivered, supports,
               "supports recorded", "ratio = 1", delivered == supports,
               f"all of them {counts['ws_caught_up_s']:.1f} s after the load's end" if counts["ws_caught_up_s"] is not None
               else f"not all within {settle:.0f} s of the load's end"),
        Figure("http.handlers_done", "HTTP writes: handler deliveries done", "deliveries", counts["deliveries_done"],
               counts["deliveries"] or 1, "deliveries made by the relay", "ratio = 1",
               counts["deliveries"] > 0 and counts["deliveries_done"] == counts["deliveries"],
               f"{counts['events']} proposal.supported events; {counts['events_with_points']} of them awarded points "
               f"({counts['points_entries']} points entries); waited {settle:.0f} s, the worker finishing "
               f"{counts['drain_per_s']:g} deliveries/s after the load"),
    ]  # fmt: skip


if __name__ == "__main__":
    for f in run(quick="--quick" in sys.argv):
        print(json.dumps(f.as_json()))
