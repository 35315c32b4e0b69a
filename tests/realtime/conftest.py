"""Fixtures for the WebSocket hub: a real uvicorn server on a free port, real `websockets` clients.

`serve(...)` builds a runtime on the suite's database and backend (embedded: SQLite and the
in-process bus; CIVIC_TEST_BACKEND=postgres: PostgreSQL and Redis Streams) with the relay running
inside the web process, so an action's event travels outbox → relay → backend → hub → socket as
in production. The server runs in a thread with its own event loop; tests talk to it through
sockets only.

`world` is a small civic scene made through the real actions: an agency with a convener and a
moderator, an analyst elsewhere, citizens, a published consultation in its support phase with
one proposal, and a draft consultation. Its setup events are published before the server starts,
so no test sees them as live traffic.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from civic.app import create_app
from civic.events.envelope import emit
from civic.events.handlers import HandlerSet
from civic.identity.models import Role
from civic.identity.sessions import start_session
from civic.participation.actions import submit_proposal, support_proposal, unsupport_proposal
from civic.participation.consultations import create_consultation, do_change_phase, do_publish_consultation
from civic.participation.events import PROPOSAL_SUPPORTED, SupportChanged
from civic.participation.models import Phase
from civic.participation.schemas import ConsultationInput, ProposalInput
from civic.realtime.hub import Hub
from civic.runtime import Runtime, build_runtime
from tests.conftest import BACKEND, make_settings
from tests.factories import make_account, make_agency, make_official

PRODUCTION = BACKEND == "postgres"
TIMEOUT = 10.0  # the longest any single wait in these tests may take


@dataclass
class World:
    agency_id: int
    other_agency_id: int
    consultation_id: int
    draft_id: int
    proposal_id: int
    ids: dict[str, int] = field(default_factory=dict)  # account ids by role name
    tokens: dict[str, str] = field(default_factory=dict)  # session tokens by role name


_HASHES: dict[str, str] = {}


def _hash_once(runtime: Runtime) -> None:
    """Nobody here logs in with a password (sessions are started directly): hash it once per run
    instead of once per account, which was most of each test's setup."""
    real = runtime.passwords.hash

    def cached(password: str) -> str:
        if password not in _HASHES:
            _HASHES[password] = real(password)
        return _HASHES[password]

    runtime.passwords.hash = cached  # type: ignore[method-assign]


def build_world(runtime: Runtime) -> World:
    settings = runtime.settings
    _hash_once(runtime)
    with runtime.db.transaction() as s:
        agency = make_agency(s, "Ministry")
        other = make_agency(s, "Elsewhere")
        people = {
            "convener": make_official(runtime, s, agency, Role.CONVENER),
            "moderator": make_official(runtime, s, agency, Role.MODERATOR),
            "analyst": make_official(runtime, s, other, Role.ANALYST),
            "author": make_account(runtime, s),
            "citizen": make_account(runtime, s),
            **{f"supporter{n}": make_account(runtime, s) for n in range(4)},
        }
        convener = people["convener"]
        consultation = create_consultation(
            s,
            convener,
            ConsultationInput(
                agency_id=agency.id,  # type: ignore[arg-type]
                title="Bus lanes on the avenue",
                summary="Where should the new bus lanes go?",
                body="Tell us.",
                support_threshold=10_000,
            ),
        )
        do_publish_consultation(s, convener, consultation)
        do_change_phase(s, convener, consultation, Phase.PROPOSALS)
        proposal = submit_proposal(
            s,
            people["author"],
            consultation.id,  # type: ignore[arg-type]
            ProposalInput(title="A lane on Nizami street", body="It is where the buses queue."),
        )
        do_change_phase(s, convener, consultation, Phase.SUPPORT)
        draft = create_consultation(
            s,
            convener,
            ConsultationInput(
                agency_id=agency.id,  # type: ignore[arg-type]
                title="Not yet announced",
                summary="A draft only the agency sees.",
                body="Draft.",
            ),
        )
        world = World(
            agency_id=agency.id,  # type: ignore[arg-type]
            other_agency_id=other.id,  # type: ignore[arg-type]
            consultation_id=consultation.id,  # type: ignore[arg-type]
            draft_id=draft.id,  # type: ignore[arg-type]
            proposal_id=proposal.id,  # type: ignore[arg-type]
        )
        for name, account in people.items():
            world.ids[name] = account.id  # type: ignore[assignment]
            world.tokens[name] = start_session(s, settings, account)
    runtime.relay.drain()  # setup events go out now, before any server follows the log
    return world


@dataclass
class LiveServer:
    runtime: Runtime
    hub: Hub
    port: int
    world: World

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @asynccontextmanager
    async def connect(
        self, who: str | None = None, *, origin: str | None = None, **kwargs: Any
    ) -> AsyncIterator[WsClient]:
        """A socket as `who` (a World role name; None: anonymous), closed afterwards."""
        headers = {"Cookie": f"civic_session={self.world.tokens[who]}"} if who else {}
        async with connect(
            self.url,
            additional_headers=headers,
            origin=origin,  # type: ignore[arg-type]
            compression=None,
            open_timeout=TIMEOUT,
            close_timeout=2,
            **kwargs,
        ) as ws:
            client = WsClient(ws)
            client.welcome = await client.expect("welcome")
            yield client

    # ---- making events -------------------------------------------------------------------------

    def support(self, who: str) -> None:
        """A real support through the participation action: the event goes out by the relay."""
        with self.runtime.db.transaction() as s:
            account = _account(s, self.world.ids[who])
            support_proposal(s, account, self.world.proposal_id)

    def unsupport(self, who: str) -> None:
        with self.runtime.db.transaction() as s:
            unsupport_proposal(s, _account(s, self.world.ids[who]), self.world.proposal_id)

    def emit_supports(self, count: int, start: int = 1) -> None:
        """`count` proposal.supported events in one transaction (bulk traffic, no rows changed)."""
        w = self.world
        with self.runtime.db.transaction() as s:
            for n in range(start, start + count):
                payload = SupportChanged(
                    proposal_id=w.proposal_id,
                    consultation_id=w.consultation_id,
                    agency_id=w.agency_id,
                    author_id=w.ids["author"],
                    support_count=n,
                )
                emit(s, PROPOSAL_SUPPORTED, payload, actor_id=None)

    def offset(self, topic: str) -> int:
        return self.runtime.backend.last_offset(topic)

    def wait_offset(self, topic: str, at_least: int, timeout: float = TIMEOUT) -> None:
        """Until the relay has published the topic up to `at_least` (bounded)."""
        deadline = time.monotonic() + timeout
        while self.offset(topic) < at_least:
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic} stayed at offset {self.offset(topic)}, wanted {at_least}")
            time.sleep(0.01)


def _account(session: Any, account_id: int) -> Any:
    from civic.identity.models import Account

    return session.get(Account, account_id)


class WsClient:
    """A thin JSON layer over a websockets connection, with bounded waits everywhere."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] = {}
        self.presence: list[dict[str, Any]] = []  # presence frames, set aside by `recv`

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next frame that is not a heartbeat or a presence count (those are kept in
        `presence`: they come whenever a topic's viewer count changes, unrelated to events)."""
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if frame["type"] == "presence":
                self.presence.append(frame)
            elif frame["type"] != "heartbeat":
                return frame  # type: ignore[no-any-return]

    async def presence_count(self, topic: str, count: int, timeout: float = TIMEOUT) -> None:
        """Read until `topic`'s latest presence frame says `count` (frames seen before included)."""

        def latest() -> int | None:
            counts = [f["count"] for f in self.presence if f["topic"] == topic]
            return counts[-1] if counts else None

        deadline = asyncio.get_running_loop().time() + timeout
        while latest() != count:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(
                    f"{topic}: presence stayed at {latest()}, wanted {count}: {self.presence}"
                )
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                continue  # the deadline check above says what was seen
            frame = json.loads(raw)
            if frame["type"] == "presence":
                self.presence.append(frame)
            elif frame["type"] != "heartbeat":
                raise AssertionError(f"expected a presence frame, got {frame}")

    async def expect(self, kind: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        frame = await self.recv(timeout)
        assert frame["type"] == kind, f"expected a {kind} frame, got {frame}"
        return frame

    async def subscribe(self, topics: dict[str, Any] | list[str]) -> dict[str, dict[str, Any]]:
        """Subscribe and collect each topic's answer (subscribed, or error), resets noted by topic."""
        await self.send({"type": "subscribe", "topics": topics})
        answers: dict[str, dict[str, Any]] = {}
        while len([k for k in answers if not k.startswith("reset:")]) < len(topics):
            frame = await self.recv()
            if frame["type"] == "reset":
                answers[f"reset:{frame['topic']}"] = frame
                continue
            assert frame["type"] in ("subscribed", "error"), frame
            answers[frame["topic"]] = frame
        return answers

    async def events(self, count: int, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        out = []
        for _ in range(count):
            frame = await self.recv(timeout)
            assert frame["type"] == "event", f"expected an event, got {frame}"
            out.append(frame)
        return out

    async def roundtrip(self) -> list[dict[str, Any]]:
        """Frames that arrive before the answer to a ping: what was queued for us until now."""
        await self.send({"type": "ping", "id": "sync"})
        before = []
        while True:
            frame = await self.recv()
            if frame == {"type": "pong", "id": "sync"}:
                return before
            before.append(frame)


def run_server(app: Any, send_buffer: int | None = None) -> tuple[uvicorn.Server, threading.Thread, int]:
    """uvicorn on a free port in a thread. `send_buffer` caps each accepted socket's kernel send
    buffer (Linux copies it from the listening socket), so a client that stops reading makes the
    server's writes back up after kilobytes instead of megabytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=1024 * 1024,
        lifespan="on",
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return server, thread, port


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(TIMEOUT + 5)
    assert not thread.is_alive(), "the test server did not stop"


Serve = Callable[..., LiveServer]


@pytest.fixture
def serve(tmp_path: Path, database_url: str, redis_prefix: str) -> Iterator[Serve]:
    """Start servers with Settings overrides and hub limits (`hub={...}`); stopped afterwards."""
    started: list[tuple[uvicorn.Server, threading.Thread, Runtime]] = []

    def start(
        *, hub: dict[str, Any] | None = None, send_buffer: int | None = None, **overrides: Any
    ) -> LiveServer:
        settings = make_settings(tmp_path, database_url, redis_prefix, relay_in_web=True, **overrides)
        # No module handlers: the hub is under test, and thousands of bulk events would otherwise
        # each run (embedded) or queue (production) a points job.
        runtime = build_runtime(settings, handlers=HandlerSet(()))
        world = build_world(runtime)
        app = create_app(runtime=runtime)
        app.state.hub.config = replace(app.state.hub.config, **(hub or {}))
        server, thread, port = run_server(app, send_buffer)
        started.append((server, thread, runtime))
        return LiveServer(runtime=runtime, hub=app.state.hub, port=port, world=world)

    yield start
    for server, thread, runtime in started:
        stop_server(server, thread)
        if PRODUCTION:
            runtime.jobs.queue.empty()  # type: ignore[attr-defined]
        runtime.close()


@pytest.fixture
def live(serve: Serve) -> LiveServer:
    return serve()
