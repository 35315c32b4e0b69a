"""The outbox relay: in order, once, and still once when it dies between publishing and marking."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from civic.clock import as_utc
from civic.events.backends import Published
from civic.events.envelope import Envelope
from civic.events.handlers import handler
from civic.events.models import DeliveryStatus
from tests.events.conftest import (
    MakeRuntime,
    deliveries,
    effects,
    emit_many,
    outbox_rows,
    published,
    record_effect,
    run_jobs,
    unpublished_count,
)
from tests.events.kinds import PING, PONG, Ping, Pong


def _offsets(runtime, topic: str) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    history = runtime.backend.history(topic, 0, runtime.backend.current_epoch())
    assert not history.reset
    return [(p.event_id, p.offsets[topic]) for p in history.events]


class RelayCrash(Exception):
    """The relay process dying after the backend accepted a batch, before the database commit."""


def _crash_after_publishing(runtime, monkeypatch: pytest.MonkeyPatch) -> list[int]:  # type: ignore[no-untyped-def]
    """Make the next publish reach the backend and then fail; returns the batch sizes it saw."""
    publish = runtime.backend.publish
    seen: list[int] = []

    def publish_then_crash(envelopes: Sequence[Envelope]) -> list[Published | None]:
        publish(envelopes)
        seen.append(len(envelopes))
        raise RelayCrash

    monkeypatch.setattr(runtime.backend, "publish", publish_then_crash)
    return seen


def test_relay_publishes_in_seq_order_with_per_topic_offsets_and_epoch(make_runtime: MakeRuntime):
    runtime = make_runtime(relay_batch_size=2)
    rows = emit_many(
        runtime,
        PING,
        [
            Ping(n=1, topics=["test:a", "test:b"]),
            Ping(n=2, topics=["test:a"]),
            Ping(n=3, topics=["test:b", "test:c"]),
            Ping(n=4, topics=["test:a"]),
            Ping(n=5, topics=[]),
        ],
    )
    ids = [r.id for r in rows]
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)

    assert runtime.relay.publish_batch() == 2, "one batch is at most relay_batch_size rows"
    assert unpublished_count(runtime) == 3
    assert runtime.relay.drain() == 3
    assert unpublished_count(runtime) == 0

    log = published(runtime)
    assert [e["id"] for e in log] == ids
    assert [e["seq"] for e in log] == [r.seq for r in rows]
    assert _offsets(runtime, "test:a") == [(ids[0], 1), (ids[1], 2), (ids[3], 3)]
    assert _offsets(runtime, "test:b") == [(ids[0], 1), (ids[2], 2)]
    assert _offsets(runtime, "test:c") == [(ids[2], 1)]
    epoch = runtime.backend.current_epoch()
    assert epoch
    assert {p.epoch for p in runtime.backend.read("0", 0)} == {epoch}
    assert runtime.backend.read("0", 0)[4].offsets == {}, "an event with no topic is still in the global log"

    stored = outbox_rows(runtime)
    assert all(row.published_at is not None for row in stored)
    assert all(as_utc(row.published_at) >= as_utc(row.occurred_at) for row in stored)  # type: ignore[arg-type]


def test_relay_marks_published_only_once_and_then_has_nothing_to_do(make_runtime: MakeRuntime):
    runtime = make_runtime()
    emit_many(runtime, PING, [Ping(n=i) for i in range(3)])
    assert runtime.relay.drain() == 3
    first = [as_utc(r.published_at) for r in outbox_rows(runtime)]  # type: ignore[arg-type]
    assert runtime.relay.drain() == 0
    assert runtime.relay.publish_batch() == 0
    assert [as_utc(r.published_at) for r in outbox_rows(runtime)] == first  # type: ignore[arg-type]
    assert len(published(runtime)) == 3


def test_relay_killed_between_publish_and_commit_publishes_once_on_restart(
    make_runtime: MakeRuntime, monkeypatch: pytest.MonkeyPatch
):
    # A small history must not shrink the window in which a repeat is recognised.
    runtime = make_runtime(stream_history=5)
    rows = emit_many(runtime, PING, [Ping(n=i, topics=["test:a"]) for i in range(30)])
    crashes = _crash_after_publishing(runtime, monkeypatch)

    with pytest.raises(RelayCrash):
        runtime.relay.publish_batch()
    assert crashes == [30]
    assert unpublished_count(runtime) == 30, "the crash rolled the marking back"
    assert published(runtime)[-1]["id"] == rows[-1].id, "…but the backend already has the events"

    monkeypatch.undo()  # the restarted relay
    assert runtime.relay.drain() == 30
    assert unpublished_count(runtime) == 0
    # The history keeps at least the last 5; a repeat would have pushed copies of the first rows in.
    log = published(runtime)
    assert [e["id"] for e in log[-5:]] == [r.id for r in rows[-5:]], "each event once, in order"
    assert len({e["id"] for e in log}) == len(log)
    assert runtime.backend.read("0", 0)[-1].offsets == {"test:a": 30}
    recent = runtime.backend.history("test:a", 25, runtime.backend.current_epoch())
    assert [p.offsets["test:a"] for p in recent.events] == [26, 27, 28, 29, 30]
    assert [p.event_id for p in recent.events] == [r.id for r in rows[25:]]


def test_events_republished_after_a_crash_reach_each_handler_once(
    make_runtime: MakeRuntime, monkeypatch: pytest.MonkeyPatch
):
    @handler("test.relay.count", PING)
    def count(session, envelope):  # type: ignore[no-untyped-def]
        record_effect(session, "test.relay.count", envelope)

    runtime = make_runtime([count])
    rows = emit_many(runtime, PING, [Ping(n=i) for i in range(3)])
    _crash_after_publishing(runtime, monkeypatch)
    with pytest.raises(RelayCrash):
        runtime.relay.publish_batch()
    assert deliveries(runtime) == [], "no delivery exists for a batch that was not committed"
    monkeypatch.undo()

    runtime.relay.drain()
    run_jobs(runtime)
    runtime.relay.drain()
    run_jobs(runtime)
    assert effects(runtime) == [r.id for r in rows]
    assert [d.status for d in deliveries(runtime)] == [DeliveryStatus.DONE] * 3


def test_relay_routes_each_event_only_to_its_handlers(make_runtime: MakeRuntime):
    @handler("test.relay.pings", PING)
    def pings(session, envelope):  # type: ignore[no-untyped-def]
        record_effect(session, "test.relay.pings", envelope)

    @handler("test.relay.both", PING, PONG)
    def both(session, envelope):  # type: ignore[no-untyped-def]
        record_effect(session, "test.relay.both", envelope)

    runtime = make_runtime([pings, both])
    [ping] = emit_many(runtime, PING, [Ping(n=1)])
    [pong] = emit_many(runtime, PONG, [Pong(n=2)])
    runtime.relay.drain()
    run_jobs(runtime)
    assert effects(runtime, "test.relay.pings") == [ping.id]
    assert effects(runtime, "test.relay.both") == [ping.id, pong.id]
    assert sorted((d.event_id, d.handler) for d in deliveries(runtime)) == sorted(
        [(ping.id, "test.relay.pings"), (ping.id, "test.relay.both"), (pong.id, "test.relay.both")]
    )


def test_a_failure_to_send_jobs_does_not_fail_the_relay_and_the_sweep_resends(
    make_runtime: MakeRuntime, clock
):  # type: ignore[no-untyped-def]
    @handler("test.relay.sent", PING)
    def sent(session, envelope):  # type: ignore[no-untyped-def]
        record_effect(session, "test.relay.sent", envelope)

    runtime = make_runtime([sent], job_lease_seconds=30)
    [row] = emit_many(runtime, PING, [Ping(n=1)])
    send = runtime.relay.send

    def broken_send(ids: list[int]) -> None:
        raise ConnectionError("job queue unreachable")

    runtime.relay.send = broken_send
    assert runtime.relay.publish_batch() == 1, "the events are published and committed all the same"
    assert unpublished_count(runtime) == 0
    runtime.relay.send = send

    assert runtime.relay.sweep() == 0
    clock.advance(31)
    assert runtime.relay.sweep() == 1
    run_jobs(runtime)
    assert effects(runtime) == [row.id]


def _wait_until(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def test_background_relay_is_woken_by_the_commit_and_outlives_a_backend_outage(
    make_runtime: MakeRuntime, monkeypatch: pytest.MonkeyPatch
):
    @handler("test.relay.background", PING)
    def background(session, envelope):  # type: ignore[no-untyped-def]
        record_effect(session, "test.relay.background", envelope)

    # A poll this long means only the commit's wake-up can publish within the wait below.
    runtime = make_runtime([background], relay_poll_seconds=30)
    runtime.start_relay()
    runtime.start_relay()  # a second start is a no-op, not a second relay
    try:
        time.sleep(0.1)  # let the relay find nothing and go to sleep
        [first] = emit_many(runtime, PING, [Ping(n=1)])
        assert _wait_until(lambda: unpublished_count(runtime) == 0, 5), "woken by the commit"

        publish = runtime.backend.publish
        outages: list[int] = []

        def down_once(envelopes: Sequence[Envelope]) -> list[Published | None]:
            if not outages:
                outages.append(len(envelopes))
                raise ConnectionError("event backend unreachable")
            return publish(envelopes)

        monkeypatch.setattr(runtime.backend, "publish", down_once)
        [second] = emit_many(runtime, PING, [Ping(n=2)])
        assert _wait_until(lambda: unpublished_count(runtime) == 0, 5), "retried after the outage"
        assert outages == [1]
    finally:
        runtime.stop_relay()
    run_jobs(runtime)
    assert _wait_until(lambda: effects(runtime) == [first.id, second.id], 5)
    assert [e["id"] for e in published(runtime)] == [first.id, second.id]
