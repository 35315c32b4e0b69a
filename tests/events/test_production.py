"""The production path on the real PostgreSQL and Redis: racing relays, RQ jobs, `civic worker`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from civic.events.backends import Published
from civic.events.envelope import Envelope
from civic.events.handlers import handler
from civic.events.models import DeliveryStatus
from civic.runtime import Runtime
from tests.conftest import PG_ADMIN_URL, REDIS_URL
from tests.events.conftest import (
    FrozenClock,
    MakeRuntime,
    deliveries,
    effects,
    emit_many,
    outbox_rows,
    record_effect,
    run_jobs,
    unpublished_count,
)
from tests.events.kinds import PING, Ping

pytestmark = pytest.mark.services

TOPICS = [f"test:race:{i}" for i in range(7)]


@handler("test.production.record", PING)
def record(session, envelope):  # type: ignore[no-untyped-def]
    record_effect(session, "test.production.record", envelope)


def _stream(runtime: Runtime, name: str) -> list[tuple[str, dict[str, str]]]:
    return runtime.backend.redis.xrange(f"{runtime.settings.redis_prefix}:{name}")  # type: ignore[attr-defined]


def _count_repeats(runtime: Runtime) -> list[int]:
    """Wrap the backend so every event id the relay offers twice is counted."""
    publish = runtime.backend.publish
    repeats: list[int] = []

    def counting(envelopes: Sequence[Envelope]) -> list[Published | None]:
        out = publish(envelopes)
        repeats.append(sum(1 for p in out if p is None))
        return out

    runtime.backend.publish = counting  # type: ignore[method-assign]
    return repeats


def test_two_relays_racing_publish_each_event_exactly_once(make_runtime: MakeRuntime):
    """Two workers' relays on one database and one Redis, while events are still being written."""
    first = make_runtime([record], relay_batch_size=25)
    second = make_runtime([record], relay_batch_size=25)
    first_repeats, second_repeats = _count_repeats(first), _count_repeats(second)
    emitted: list[str] = []
    errors: list[BaseException] = []
    emitting = threading.Event()
    emitting.set()

    def emitter() -> None:
        try:
            for start in range(0, 500, 10):
                batch = [Ping(n=n, topics=[TOPICS[n % 7]]) for n in range(start, start + 10)]
                emitted.extend(r.id for r in emit_many(first, PING, batch))
        finally:
            emitting.clear()

    def relay(runtime: Runtime) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (emitting.is_set() or unpublished_count(runtime)):
            runtime.relay.publish_batch()

    def guarded(target, *args) -> threading.Thread:  # type: ignore[no-untyped-def]
        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:
                errors.append(exc)

        return threading.Thread(target=run)

    threads = [guarded(emitter), guarded(relay, first), guarded(relay, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert len(emitted) == 500 and unpublished_count(first) == 0
    assert sum(first_repeats) + sum(second_repeats) == 0, (
        "no relay ever offered a row the other had published"
    )
    assert len(first_repeats) + len(second_repeats) >= 20

    log = _stream(first, "all")
    assert [fields["i"] for _id, fields in log] == emitted, "each event once, in emit order"
    seqs = [json.loads(fields["e"])["seq"] for _id, fields in log]
    assert seqs == sorted(seqs)
    for n, topic in enumerate(TOPICS):
        entries = _stream(first, f"t:{topic}")
        expected = [emitted[i] for i in range(n, 500, 7)]
        assert [json.loads(fields["e"])["id"] for _id, fields in entries] == expected
        assert [entry_id for entry_id, _ in entries] == [f"{k}-0" for k in range(1, len(expected) + 1)]

    made = deliveries(first)
    assert len(made) == 500
    assert Counter(d.event_id for d in made) == Counter(emitted)
    assert first.jobs.queue.count == 500, "each delivery was sent once"  # type: ignore[attr-defined]


def test_emit_relay_rq_job_worker_handler_effect_once(make_runtime: MakeRuntime):
    runtime = make_runtime([record])
    queue = runtime.jobs.queue  # type: ignore[attr-defined]
    rows = emit_many(runtime, PING, [Ping(n=i) for i in range(3)])
    assert runtime.relay.drain() == 3
    assert queue.count == 3, "one RQ job per delivery, sent after the relay's commit"
    assert effects(runtime) == []

    run_jobs(runtime)
    assert queue.count == 0
    assert effects(runtime) == [r.id for r in rows]
    assert {d.status for d in deliveries(runtime)} == {DeliveryStatus.DONE}

    for delivery in deliveries(runtime):  # every job delivered a second time
        runtime.jobs.enqueue("deliver", delivery.id)
    assert queue.count == 3
    run_jobs(runtime)
    assert effects(runtime) == [r.id for r in rows]
    assert {d.attempts for d in deliveries(runtime)} == {1}


def test_job_rq_lost_is_sent_again_after_its_lease(make_runtime: MakeRuntime, clock: FrozenClock):
    runtime = make_runtime([record], job_lease_seconds=30)
    queue = runtime.jobs.queue  # type: ignore[attr-defined]
    [row] = emit_many(runtime, PING, [Ping(n=1)])
    runtime.relay.publish_batch()
    assert queue.count == 1
    queue.empty()  # lost between pop and registry

    assert runtime.relay.sweep() == 0
    clock.advance(31)
    assert runtime.relay.sweep() == 1
    assert queue.count == 1
    run_jobs(runtime)
    assert effects(runtime) == [row.id]


def test_sweep_leaves_expired_leases_alone_while_jobs_wait_in_the_queue(
    make_runtime: MakeRuntime, clock: FrozenClock
):
    """A backlog older than the lease is not a lost job: re-sending it would only grow the queue."""
    runtime = make_runtime([record], job_lease_seconds=30)
    queue = runtime.jobs.queue  # type: ignore[attr-defined]
    rows = emit_many(runtime, PING, [Ping(n=i) for i in range(3)])
    runtime.relay.publish_batch()
    assert queue.count == 3

    clock.advance(31)  # leases expired, but the three jobs are still waiting for a worker
    assert runtime.relay.sweep() == 0
    assert queue.count == 3

    clock.advance(30 * 10)  # ten leases past due even with a backlog: treat as lost
    assert runtime.relay.sweep() == 3
    assert queue.count == 6
    run_jobs(runtime)
    assert effects(runtime) == [r.id for r in rows], "each handled once whatever the queue held"

    clock.advance(31)
    assert runtime.relay.sweep() == 0, "done deliveries are never re-sent"


def test_relay_restarted_in_a_new_process_after_publishing_publishes_nothing_twice(
    make_runtime: MakeRuntime,
):
    crashed = make_runtime([record])
    rows = emit_many(crashed, PING, [Ping(n=i, topics=["test:restart"]) for i in range(5)])
    envelopes = [Envelope.from_row(r) for r in outbox_rows(crashed)]
    crashed.backend.publish(envelopes)  # published, then killed before its commit
    crashed.close()

    restarted = make_runtime([record])
    assert restarted.relay.drain() == 5
    run_jobs(restarted)
    assert [fields["i"] for _id, fields in _stream(restarted, "all")] == [r.id for r in rows]
    assert [entry_id for entry_id, _ in _stream(restarted, "t:test:restart")] == [
        f"{k}-0" for k in range(1, 6)
    ]
    assert effects(restarted) == [r.id for r in rows]


def test_occurred_at_is_utc_whatever_the_database_session_time_zone(
    make_runtime: MakeRuntime, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PGTZ", "Asia/Baku")  # libpq: the session's TimeZone
    runtime = make_runtime()
    with runtime.db.engine.connect() as conn:
        assert conn.execute(text("SHOW TimeZone")).scalar() == "Asia/Baku"
    emit_many(runtime, PING, [Ping(n=1)])
    runtime.relay.drain()
    [published] = runtime.backend.read("0", 0)
    envelope = Envelope.model_validate_json(published.event_json)
    assert envelope.occurred_at.utcoffset() == timedelta(0)
    assert json.loads(published.event_json)["occurred_at"].endswith("Z")


@pytest.fixture
def migrated_database_url() -> Iterator[str]:
    """A database made the way a deployment makes it (`civic migrate`), as `civic worker` requires."""
    name = f"civic_test_worker_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # No WAL flush wait at commit: no test here crashes PostgreSQL itself.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = re.sub(r"/[^/]*$", f"/{name}", PG_ADMIN_URL)
    try:
        migrated = _civic(["migrate"], {"CIVIC_DATABASE_URL": url})
        assert migrated.returncode == 0, migrated.stderr
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _civic(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "civic.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_civic_worker_burst_relays_pending_events_and_runs_queued_jobs(
    make_runtime: MakeRuntime, migrated_database_url: str, tmp_path: Path
):
    runtime = make_runtime([record], database_url=migrated_database_url)
    settings = runtime.settings
    # A job already queued for a handler this worker's code does not have.
    emit_many(runtime, PING, [Ping(n=0)])
    runtime.relay.drain()
    [queued] = deliveries(runtime)
    rows = emit_many(runtime, PING, [Ping(n=i, topics=["test:worker"]) for i in range(1, 4)])
    assert unpublished_count(runtime) == 3

    done = _civic(
        ["worker", "--burst"],
        {
            "CIVIC_DATABASE_URL": migrated_database_url,
            "CIVIC_REDIS_URL": REDIS_URL,
            "CIVIC_REDIS_PREFIX": settings.redis_prefix,
            "CIVIC_RQ_QUEUE": settings.rq_queue,
            "CIVIC_SECRET_KEY": settings.secret_key,
            "CIVIC_VAR_DIR": str(tmp_path / "worker-var"),
        },
    )
    assert done.returncode == 0, done.stderr
    assert "Relayed 3 events" in done.stdout

    assert unpublished_count(runtime) == 0
    log = [fields["i"] for _id, fields in _stream(runtime, "all")]
    assert log[-3:] == [r.id for r in rows] and len(log) == 4
    assert [entry_id for entry_id, _ in _stream(runtime, "t:test:worker")] == ["1-0", "2-0", "3-0"]
    [after] = [d for d in deliveries(runtime) if d.id == queued.id]
    assert after.status == DeliveryStatus.DEAD and "no handler named" in (after.last_error or "")
    assert runtime.jobs.queue.count == 0  # type: ignore[attr-defined]
