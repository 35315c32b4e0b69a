"""Handler deliveries: effects commit with the "done" mark, so replays change nothing; failures
are retried with backoff and dead-lettered; lost jobs are found again by the sweep."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session

from civic.clock import as_utc
from civic.db import after_commit
from civic.events.envelope import emit
from civic.events.handlers import HandlerSet, RetryPolicy, handler, run_delivery
from civic.events.models import DeliveryStatus
from tests.events.conftest import (
    FrozenClock,
    MakeRuntime,
    deliveries,
    effects,
    emit_many,
    published,
    record_effect,
    run_jobs,
    settle,
)
from tests.events.kinds import PING, PONG, Ping, Pong


@handler("test.handlers.record", PING)
def record(session, envelope):  # type: ignore[no-untyped-def]
    record_effect(session, "test.handlers.record", envelope)


def _deliver(runtime, delivery_id: int) -> str:  # type: ignore[no-untyped-def]
    return run_delivery(runtime.db, runtime.handlers, delivery_id, runtime.retry)


def test_handler_effect_commits_with_the_done_mark(make_runtime: MakeRuntime):
    runtime = make_runtime([record])
    [row] = emit_many(runtime, PING, [Ping(n=1)])
    settle(runtime)
    [delivery] = deliveries(runtime)
    assert (delivery.event_id, delivery.event_seq, delivery.handler) == (
        row.id,
        row.seq,
        "test.handlers.record",
    )
    assert delivery.status == DeliveryStatus.DONE
    assert delivery.attempts == 1 and delivery.completed_at is not None and delivery.last_error is None
    assert effects(runtime) == [row.id]


def test_support_runs_once_even_if_delivery_is_run_twice(make_runtime: MakeRuntime):
    runtime = make_runtime([record])
    [row] = emit_many(runtime, PING, [Ping(n=1)])
    settle(runtime)
    [delivery] = deliveries(runtime)
    assert delivery.id is not None

    assert _deliver(runtime, delivery.id) == "skipped"
    runtime.run_job("deliver", (delivery.id, delivery.id))
    runtime.send_deliveries([delivery.id, delivery.id])  # the job sent twice
    run_jobs(runtime)
    settle(runtime)  # and everything re-drained
    assert effects(runtime) == [row.id]
    assert deliveries(runtime)[0].attempts == 1


def test_worker_dying_at_commit_leaves_neither_effect_nor_mark_and_the_rerun_counts_once(
    make_runtime: MakeRuntime,
):
    """The handler's writes and the "done" mark are one commit: a worker that dies at that commit
    leaves the delivery pending with no effect, and the next run applies the effect once."""
    runtime = make_runtime([record])
    runtime.relay.send = lambda ids: None  # hold the job back
    [row] = emit_many(runtime, PING, [Ping(n=1)])
    runtime.relay.drain()
    [delivery] = deliveries(runtime)
    assert delivery.id is not None

    def die_at_commit(session: Session) -> None:
        if session.info.get("test.die_at_commit") and not session.in_nested_transaction():
            raise ConnectionError("worker killed at commit")

    @handler("test.handlers.record", PING)
    def record_then_die(session, envelope):  # type: ignore[no-untyped-def]
        record_effect(session, "test.handlers.record", envelope)
        session.info["test.die_at_commit"] = True

    event.listen(Session, "before_commit", die_at_commit)
    try:
        with pytest.raises(ConnectionError):
            run_delivery(runtime.db, HandlerSet([record_then_die]), delivery.id, runtime.retry)
    finally:
        event.remove(Session, "before_commit", die_at_commit)
    assert effects(runtime) == []
    [delivery] = deliveries(runtime)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)

    assert _deliver(runtime, delivery.id) == DeliveryStatus.DONE
    assert _deliver(runtime, delivery.id) == "skipped"
    assert effects(runtime) == [row.id]


def test_concurrent_runs_of_one_delivery_apply_its_effect_once(make_runtime: MakeRuntime):
    entered = threading.Event()

    @handler("test.handlers.slow", PING)
    def slow(session, envelope):  # type: ignore[no-untyped-def]
        record_effect(session, "test.handlers.slow", envelope)
        entered.set()
        time.sleep(0.3)

    runtime = make_runtime([slow])
    runtime.relay.send = lambda ids: None
    [row] = emit_many(runtime, PING, [Ping(n=1)])
    runtime.relay.drain()
    [delivery] = deliveries(runtime)
    assert delivery.id is not None

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(_deliver(runtime, delivery.id)))
    first.start()
    assert entered.wait(5)
    results.append(_deliver(runtime, delivery.id))
    first.join(10)
    assert sorted(results) == ["done", "skipped"]
    assert effects(runtime) == [row.id]


def test_failing_handler_is_retried_with_backoff_then_dead_lettered_while_others_complete(
    make_runtime: MakeRuntime, clock: FrozenClock
):
    @handler("test.handlers.broken", PING)
    def broken(session, envelope):  # type: ignore[no-untyped-def]
        record_effect(session, "test.handlers.broken", envelope)  # rolled back with the failure
        raise RuntimeError(f"cannot handle ping {envelope.data['n']}")

    runtime = make_runtime(
        [broken, record], handler_max_attempts=3, handler_backoff_seconds=10, job_lease_seconds=60
    )
    [row] = emit_many(runtime, PING, [Ping(n=42)])
    settle(runtime)

    [failing] = deliveries(runtime, "test.handlers.broken")
    [other] = deliveries(runtime, "test.handlers.record")
    assert other.status == DeliveryStatus.DONE and effects(runtime, "test.handlers.record") == [row.id]
    assert (failing.status, failing.attempts) == (DeliveryStatus.PENDING, 1)
    assert "RuntimeError: cannot handle ping 42" in (failing.last_error or "")
    assert as_utc(failing.next_attempt_at) == clock.now + timedelta(seconds=10)

    clock.advance(9)
    assert runtime.relay.sweep() == 0, "not before the backoff has run out"
    clock.advance(1)
    assert runtime.relay.sweep() == 1
    run_jobs(runtime)
    [failing] = deliveries(runtime, "test.handlers.broken")
    assert (failing.status, failing.attempts) == (DeliveryStatus.PENDING, 2)
    assert as_utc(failing.next_attempt_at) == clock.now + timedelta(seconds=20), "the backoff doubles"

    clock.advance(20)
    assert runtime.relay.sweep() == 1
    run_jobs(runtime)
    [failing] = deliveries(runtime, "test.handlers.broken")
    assert (failing.status, failing.attempts) == (DeliveryStatus.DEAD, 3)
    assert "RuntimeError: cannot handle ping 42" in (failing.last_error or "")
    assert failing.completed_at is None

    clock.advance(3600)
    assert runtime.relay.sweep() == 0, "a dead letter is never sent again"
    assert effects(runtime, "test.handlers.broken") == [], "no failed attempt left a write behind"
    assert effects(runtime, "test.handlers.record") == [row.id]
    assert deliveries(runtime, "test.handlers.record")[0].attempts == 1


def test_handler_that_recovers_completes_with_its_effect_once(make_runtime: MakeRuntime, clock: FrozenClock):
    failures = [RuntimeError("flaky 1"), RuntimeError("flaky 2")]

    @handler("test.handlers.flaky", PING)
    def flaky(session, envelope):  # type: ignore[no-untyped-def]
        record_effect(session, "test.handlers.flaky", envelope)
        if failures:
            raise failures.pop(0)

    runtime = make_runtime([flaky], handler_max_attempts=5, handler_backoff_seconds=1)
    [row] = emit_many(runtime, PING, [Ping(n=1)])
    settle(runtime)
    for _ in range(5):
        clock.advance(60)
        settle(runtime)
    [delivery] = deliveries(runtime)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.DONE, 3, None)
    assert effects(runtime) == [row.id]


def test_failed_handler_after_commit_callbacks_never_run(make_runtime: MakeRuntime):
    """A handler's after-commit work (sending a job, a mail) belongs to its writes: rolled back
    together, even though the delivery's failure itself is committed."""
    sent: list[str] = []

    @handler("test.handlers.sends_then_fails", PING)
    def sends_then_fails(session, envelope):  # type: ignore[no-untyped-def]
        after_commit(session, lambda: sent.append(f"failed:{envelope.data['n']}"))
        emit(session, PONG, Pong(n=envelope.data["n"]), actor_id=None)
        raise RuntimeError("after scheduling work")

    @handler("test.handlers.sends", PING)
    def sends(session, envelope):  # type: ignore[no-untyped-def]
        after_commit(session, lambda: sent.append(f"ok:{envelope.data['n']}"))

    runtime = make_runtime([sends_then_fails, sends], handler_max_attempts=1)
    emit_many(runtime, PING, [Ping(n=1)])
    settle(runtime)
    assert sent == ["ok:1"]
    assert [d.status for d in deliveries(runtime)] == [DeliveryStatus.DEAD, DeliveryStatus.DONE]
    assert [e["type"] for e in published(runtime)] == ["test.events.ping"], "its event was rolled back too"


def test_handler_events_are_relayed_and_handled_in_turn(make_runtime: MakeRuntime):
    @handler("test.handlers.answer", PING)
    def answer(session, envelope):  # type: ignore[no-untyped-def]
        emit(session, PONG, Pong(n=envelope.data["n"] + 1), actor_id=None)

    @handler("test.handlers.pongs", PONG)
    def pongs(session, envelope):  # type: ignore[no-untyped-def]
        record_effect(session, "test.handlers.pongs", envelope)

    runtime = make_runtime([answer, pongs])
    emit_many(runtime, PING, [Ping(n=1), Ping(n=10)])
    settle(runtime)
    log = published(runtime)
    pong_ids = [e["id"] for e in log if e["type"] == "test.events.pong"]
    assert sorted(e["data"]["n"] for e in log if e["type"] == "test.events.pong") == [2, 11]
    assert sorted(effects(runtime)) == sorted(pong_ids)


def test_lost_job_is_resent_by_the_sweep_after_its_lease(make_runtime: MakeRuntime, clock: FrozenClock):
    runtime = make_runtime([record], job_lease_seconds=30)
    send = runtime.relay.send
    runtime.relay.send = lambda ids: None  # the job is lost between commit and queue
    [row] = emit_many(runtime, PING, [Ping(n=1)])
    assert runtime.relay.publish_batch() == 1
    runtime.relay.send = send
    [delivery] = deliveries(runtime)
    assert delivery.status == DeliveryStatus.PENDING
    assert as_utc(delivery.next_attempt_at) == clock.now + timedelta(seconds=30)

    clock.advance(29)
    assert runtime.relay.sweep() == 0, "the job may still be queued"
    run_jobs(runtime)
    assert effects(runtime) == []

    clock.advance(1)
    assert runtime.relay.sweep() == 1
    [delivery] = deliveries(runtime)
    assert as_utc(delivery.next_attempt_at) == clock.now + timedelta(seconds=30), "a new lease"
    run_jobs(runtime)
    assert effects(runtime) == [row.id]
    clock.advance(3600)
    assert runtime.relay.sweep() == 0
    assert deliveries(runtime)[0].status == DeliveryStatus.DONE


def test_delivery_for_a_handler_no_longer_in_the_code_is_dead_lettered(make_runtime: MakeRuntime):
    runtime = make_runtime([record])
    runtime.relay.send = lambda ids: None
    emit_many(runtime, PING, [Ping(n=1)])
    runtime.relay.drain()
    [delivery] = deliveries(runtime)
    assert delivery.id is not None
    assert run_delivery(runtime.db, HandlerSet(), delivery.id, runtime.retry) == DeliveryStatus.DEAD
    [delivery] = deliveries(runtime)
    assert "no handler named 'test.handlers.record'" in (delivery.last_error or "")
    assert effects(runtime) == []


def test_run_delivery_of_an_unknown_id_is_skipped(make_runtime: MakeRuntime):
    runtime = make_runtime([record])
    assert _deliver(runtime, 987654) == "skipped"


def test_retry_policy_doubles_up_to_its_cap():
    policy = RetryPolicy(max_attempts=10, backoff_seconds=2, max_backoff_seconds=10)
    assert [policy.delay(n).total_seconds() for n in range(1, 6)] == [2, 4, 8, 10, 10]


def test_handler_names_are_unique_in_a_set():
    with pytest.raises(ValueError, match="two handlers are named"):
        HandlerSet([record, record])
    assert HandlerSet([record]).for_type(PONG.name) == []
