"""On PostgreSQL a commit in one process wakes the relay in another at once (NOTIFY/LISTEN)."""

from __future__ import annotations

import threading
import time

import pytest

from civic.events.envelope import emit
from civic.events.notify import OutboxListener
from tests.events.conftest import MakeRuntime
from tests.events.kinds import PING, Ping

pytestmark = pytest.mark.services


def test_a_commit_elsewhere_wakes_a_relay_that_would_otherwise_sleep_for_30_seconds(
    make_runtime: MakeRuntime,
):
    worker = make_runtime(relay_poll_seconds=30)
    web = make_runtime()  # another Database: its commits cannot set the worker's threading.Event
    stop = threading.Event()
    thread = threading.Thread(target=worker.relay.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(0.5)  # let the relay reach its wait
        with web.db.transaction() as session:
            emit(session, PING, Ping(n=1, topics=["test:notify"]), actor_id=None)
        deadline = time.monotonic() + 5
        history = None
        while time.monotonic() < deadline:
            history = worker.backend.history("test:notify", 0, worker.backend.current_epoch())
            if history.events:
                break
            time.sleep(0.05)
        assert history is not None and len(history.events) == 1, "the relay slept through the commit"
    finally:
        stop.set()
        with web.db.transaction() as session:  # wake it so it sees `stop`
            emit(session, PING, Ping(n=2, topics=["test:notify"]), actor_id=None)
        thread.join(timeout=10)
        assert not thread.is_alive()


def test_a_rolled_back_transaction_notifies_nobody(make_runtime: MakeRuntime):
    runtime = make_runtime()
    listener = OutboxListener(runtime.db.url)
    try:
        assert listener.wait(0.05) is False  # connects and listens
        with pytest.raises(RuntimeError), runtime.db.transaction() as session:
            emit(session, PING, Ping(n=1), actor_id=None)
            raise RuntimeError("changed my mind")
        assert listener.wait(0.5) is False
        with runtime.db.transaction() as session:
            emit(session, PING, Ping(n=2), actor_id=None)
        assert listener.wait(2) is True
    finally:
        listener.close()
