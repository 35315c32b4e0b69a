"""`/ws`: the handshake (origin, session cookie) and the life of one socket.

The socket is authenticated by the same session cookie as the pages. Browsers send cookies on
cross-site WebSocket handshakes and the same-origin policy does not apply to WebSockets, so the
Origin header is the only thing that stops another site from opening a socket as the visitor
(cross-site WebSocket hijacking): a browser's handshake whose Origin is neither this host nor the
configured base URL is refused with HTTP 403. Clients without an Origin (not browsers) cannot
borrow anyone's cookie and are let through.

A socket has no task of its own beyond the one the server runs the endpoint in, which reads
client frames until the client leaves, the server decides to close it (too slow, lifetime
reached, abuse, shutdown: `close_soon` interrupts the read) or a write fails. Frames are written
by whoever produces them (connection.py); heartbeats come from the hub; the lifetime is a timer.
"""

from __future__ import annotations

import asyncio
import logging
import random
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from civic.db import Database
from civic.events.backends import EventBackend
from civic.identity.sessions import resolve_session
from civic.identity.web import session_cookie_name
from civic.realtime import protocol
from civic.realtime.connection import Connection
from civic.realtime.hub import Hub
from civic.realtime.protocol import Ping, ProtocolError, Subscribe, Unsubscribe
from civic.realtime.subscriptions import subscribe
from civic.settings import Settings

log = logging.getLogger(__name__)


def origin_allowed(origin: str | None, host: str | None, base_url: str) -> bool:
    """No Origin (not a browser), the Host's own origin, or the configured base URL's origin."""
    if origin is None:
        return True
    parts = urlsplit(origin.strip().lower())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # includes "null": sandboxed frames, file:// pages
    if host is not None and parts.netloc == host.strip().lower():
        return True
    base = urlsplit(base_url.strip().lower())
    return (parts.scheme, parts.netloc) == (base.scheme, base.netloc)


def identify(
    db: Database, settings: Settings, backend: EventBackend, token: str | None
) -> tuple[int | None, str]:
    """The logged-in account's id (None: anonymous) and the backend's current epoch."""
    account_id = None
    if token:
        with db.transaction() as session:
            account = resolve_session(session, settings, token)
            account_id = account.id if account is not None else None
    return account_id, backend.current_epoch()


async def websocket_endpoint(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    runtime = websocket.app.state.runtime
    settings: Settings = runtime.settings
    if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"), settings.base_url):
        await _deny(websocket)
        return
    token = websocket.cookies.get(session_cookie_name(settings)) or None
    try:
        account_id, epoch = await hub.in_pool(identify, runtime.db, settings, hub.backend, token)
    except Exception as exc:
        log.warning("realtime: cannot open a socket now (%s)", exc)
        await websocket.accept()
        await websocket.close(protocol.CLOSE_TRY_AGAIN, "try again later")
        return

    await websocket.accept()
    config = hub.config
    connection = Connection(
        websocket,
        config,
        account_id=account_id,
        session_token=token,
        on_close=hub.detach,
        conn_id=hub.new_connection_id(),
    )
    hub.attach(connection)
    connection.send(protocol.welcome(epoch, account_id, config.heartbeat_seconds, config.max_frame_bytes))
    try:
        await _run(connection, hub, runtime.db, settings)
    finally:
        hub.detach(connection)
        hub.finished(connection)


async def _deny(websocket: WebSocket) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(
            PlainTextResponse("This page's origin may not open live updates here.", status_code=403)
        )
    else:
        await websocket.close(protocol.CLOSE_ORIGIN)


async def _run(connection: Connection, hub: Hub, db: Database, settings: Settings) -> None:
    """Read client frames in this (the socket's own) task until the client leaves or the server
    decides to close, then send the close frame if there is anyone to receive it."""
    config = hub.config
    task = asyncio.current_task()
    assert task is not None
    lifetime = config.max_lifetime_seconds * random.uniform(0.9, 1.0)  # noqa: S311 (spreads reconnects)
    timer = asyncio.get_running_loop().call_later(
        lifetime,
        connection.close_soon,
        protocol.CLOSE_RECONNECT,
        "connection lifetime reached; reconnect and resume",
    )
    client_gone = False
    connection.reader = task  # close_soon interrupts the read (connection.py)
    try:
        if not connection.stopping:  # the welcome could not be written, or shutdown began
            await _read_loop(connection, hub, db, settings)
            client_gone = connection.close_code is None  # it returned: the client left, or we decided
    except asyncio.CancelledError:
        if not connection.interrupted(task):
            raise  # the server is cancelling this task, not us interrupting the read
    except (WebSocketDisconnect, OSError):
        client_gone = True
    except Exception:
        log.exception("realtime: handling a client frame failed")
        connection.close_soon(protocol.CLOSE_SERVER_ERROR, "server error; reconnect")
    finally:
        connection.reader = None
        timer.cancel()
        connection.stop_writing()
    if connection.close_code is not None and not (client_gone or connection.gone):
        await connection.close_socket()


async def _read_loop(connection: Connection, hub: Hub, db: Database, settings: Settings) -> None:
    """Handle client frames one at a time until the client leaves or is told to go."""
    config = hub.config
    websocket = connection.websocket
    bad_frames = 0
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        size = len(text.encode()) if text is not None else len(message.get("bytes") or b"")
        if size > config.max_frame_bytes:
            connection.close_soon(
                protocol.CLOSE_TOO_BIG, f"frames are limited to {config.max_frame_bytes} bytes"
            )
            return
        try:
            if text is None:
                raise ProtocolError("bad_frame", "Frames are JSON text, not binary.")
            request = protocol.parse(text, max_topics=config.max_topics)
        except ProtocolError as refused:
            bad_frames += 1
            if bad_frames > config.max_bad_frames:
                connection.close_soon(protocol.CLOSE_POLICY, "too many malformed frames")
                return
            await connection.put(protocol.error(refused.code, refused.message, refused.topic))
            continue
        if isinstance(request, Ping):
            await connection.put(protocol.pong(request.id))
        elif isinstance(request, Subscribe):
            await subscribe(hub, connection, db, settings, request)
        elif isinstance(request, Unsubscribe):
            for topic in request.topics:
                hub.unsubscribe(connection, topic)
                await connection.put(protocol.unsubscribed(topic))
        if connection.stopping:
            return


def routes() -> list[WebSocketRoute]:
    return [WebSocketRoute("/ws", websocket_endpoint, name="realtime")]
