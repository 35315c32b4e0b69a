"""The event envelope and `emit`: one shape everywhere, written only with the caller's transaction."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from pydantic import BaseModel
from sqlmodel import select

from civic.events.envelope import OUTBOX_WRITTEN, Envelope, emit, event_type, registered_event_types
from civic.events.models import OutboxEvent
from tests.events.conftest import MakeRuntime, emit_many, outbox_rows, unpublished_count
from tests.events.kinds import PING, PONG, Ping, Pong

ENVELOPE_KEYS = {"id", "seq", "type", "v", "occurred_at", "actor", "topics", "data"}


def test_event_type_names_are_unique_across_the_process():
    class Other(BaseModel):
        x: int

    with pytest.raises(ValueError, match="declared twice"):
        event_type(PING.name, Other, topics=lambda d: [])
    assert registered_event_types()[PING.name] is PING


def test_emit_refuses_a_payload_of_another_type(make_runtime: MakeRuntime):
    runtime = make_runtime()
    with pytest.raises(TypeError, match="takes a Ping"), runtime.db.transaction() as session:
        emit(session, PING, Pong(n=1), actor_id=None)  # type: ignore[arg-type]
    assert outbox_rows(runtime) == []


def test_emitted_row_has_the_envelope_shape_in_the_outbox_and_on_the_stream(make_runtime: MakeRuntime):
    runtime = make_runtime()
    with runtime.db.transaction() as session:
        row = emit(session, PING, Ping(n=7, topics=["test:a", "test:b"]), actor_id=42)
        assert row.seq is not None, "the sequence number is assigned in the emitting transaction"
    runtime.relay.drain()

    [stored] = outbox_rows(runtime)
    envelope = Envelope.from_row(stored)
    assert envelope.model_dump().keys() == ENVELOPE_KEYS
    assert envelope.id == row.id and len(envelope.id) == 36
    assert envelope.seq == row.seq
    assert (envelope.type, envelope.v, envelope.actor) == ("test.events.ping", 1, 42)
    assert envelope.topics == ["test:a", "test:b"]
    assert envelope.data == {"n": 7, "topics": ["test:a", "test:b"]}
    assert envelope.occurred_at.utcoffset() == timedelta(0)
    assert envelope.payload(PING) == Ping(n=7, topics=["test:a", "test:b"])
    with pytest.raises(ValueError, match="not test.events.pong"):
        envelope.payload(PONG)

    [published] = runtime.backend.read("0", 0)
    on_stream = json.loads(published.event_json)
    assert on_stream.keys() == ENVELOPE_KEYS
    assert Envelope.model_validate(on_stream) == envelope
    assert on_stream["occurred_at"].endswith("Z")


def test_rolled_back_transaction_leaves_no_event_and_publishes_nothing(make_runtime: MakeRuntime):
    runtime = make_runtime()
    woken: list[str] = []
    runtime.db.on_signal(OUTBOX_WRITTEN, lambda: woken.append("wake"))

    with pytest.raises(RuntimeError, match="action failed"), runtime.db.transaction() as session:
        emit(session, PING, Ping(n=1), actor_id=None)
        raise RuntimeError("action failed after emitting")

    assert outbox_rows(runtime) == []
    assert woken == [], "the relay is not woken for an event that does not exist"
    assert runtime.relay.drain() == 0
    assert runtime.backend.read("0", 0) == []
    assert runtime.backend.history("test:ping", 0, runtime.backend.current_epoch()).events == []


def test_commit_wakes_the_relay_once_per_transaction(make_runtime: MakeRuntime):
    runtime = make_runtime()
    woken: list[str] = []
    runtime.db.on_signal(OUTBOX_WRITTEN, lambda: woken.append("wake"))
    emit_many(runtime, PING, [Ping(n=i) for i in range(3)])
    assert woken == ["wake"]
    assert unpublished_count(runtime) == 3


class Secret(BaseModel):
    n: int


SECRET = event_type("test.events.secret_actor", Secret, topics=lambda d: ["test:secret"], actor_public=False)


def test_private_actor_is_left_off_the_bus_but_kept_for_handlers(runtime):
    with runtime.db.transaction() as session:
        emit(session, SECRET, Secret(n=1), actor_id=77)
    runtime.relay.drain()
    history = runtime.backend.history("test:secret", 0, runtime.backend.current_epoch())
    assert [json.loads(p.event_json)["actor"] for p in history.events] == [None]
    with runtime.db.transaction() as session:
        row = session.exec(select(OutboxEvent).where(OutboxEvent.type == SECRET.name)).one()
        assert Envelope.from_row(row).actor == 77
