"""Both event backends keep the same promises: per-topic offsets under an epoch, bounded history
that says `reset` instead of silently skipping, a global log followers read from a position, and a
repeated event id published once."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from civic.clock import utcnow
from civic.events.backends import EventBackend
from civic.events.backends.memory import MemoryBackend
from civic.events.backends.redis_streams import RedisStreamsBackend
from civic.events.envelope import Envelope
from tests.conftest import REDIS_URL

MakeBackend = Callable[..., EventBackend]


def envelope(*topics: str, n: int = 0) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        seq=n,
        type="test.backend",
        v=1,
        occurred_at=utcnow(),
        actor=None,
        topics=list(topics),
        data={"n": n},
    )


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.services)])
def make_backend(request: pytest.FixtureRequest) -> Iterator[MakeBackend]:
    built: list[EventBackend] = []
    prefix = request.getfixturevalue("redis_prefix") if request.param == "redis" else ""

    def make(history: int = 10_000) -> EventBackend:
        backend: EventBackend
        if request.param == "redis":
            backend = RedisStreamsBackend(REDIS_URL, prefix=prefix, history=history)
        else:
            backend = MemoryBackend(history=history)
        built.append(backend)
        return backend

    yield make
    for backend in built:
        backend.close()


def test_publish_assigns_per_topic_offsets_under_one_epoch(make_backend: MakeBackend):
    backend = make_backend()
    events = [envelope("a", "b", n=1), envelope("a", n=2), envelope(n=3), envelope("b", "c", n=4)]
    published = backend.publish(events)
    epoch = backend.current_epoch()
    assert [p.event_id for p in published if p] == [e.id for e in events]
    assert [p.offsets for p in published if p] == [{"a": 1, "b": 1}, {"a": 2}, {}, {"b": 2, "c": 1}]
    assert {p.epoch for p in published if p} == {epoch}
    assert [Envelope.model_validate_json(p.event_json) for p in published if p] == events
    assert backend.current_epoch() == epoch, "the epoch is stable while the backend keeps its data"
    assert backend.ping()


def test_a_repeated_event_id_is_published_once(make_backend: MakeBackend):
    backend = make_backend()
    first, second = envelope("a", n=1), envelope("a", n=2)
    backend.publish([first])
    again = backend.publish([first, second, first])
    assert again[0] is None and again[2] is None
    assert again[1] is not None and again[1].offsets == {"a": 2}
    assert [p.event_id for p in backend.read("0", 0)] == [first.id, second.id]


def test_repeat_is_recognised_beyond_the_history_size(make_backend: MakeBackend):
    backend = make_backend(history=3)
    batch = [envelope("a", n=i) for i in range(40)]
    backend.publish(batch)
    assert backend.publish(batch) == [None] * 40
    assert backend.history("a", 39, backend.current_epoch()).events[0].offsets["a"] == 40


def test_history_replays_missed_events_in_order(make_backend: MakeBackend):
    backend = make_backend()
    events = [envelope("t", n=i) for i in range(6)]
    backend.publish(events)
    backend.publish([envelope("other", n=99)])
    epoch = backend.current_epoch()

    replay = backend.history("t", 2, epoch)
    assert not replay.reset
    assert [p.event_id for p in replay.events] == [e.id for e in events[2:]]
    assert [p.offsets["t"] for p in replay.events] == [3, 4, 5, 6]
    assert {p.epoch for p in replay.events} == {epoch}
    assert json.loads(replay.events[0].event_json)["id"] == events[2].id

    assert [p.event_id for p in backend.history("t", 0, epoch).events] == [e.id for e in events]
    assert [p.event_id for p in backend.history("t", 2, epoch, limit=2).events] == [e.id for e in events[2:4]]


def test_history_when_up_to_date_is_empty_not_reset(make_backend: MakeBackend):
    backend = make_backend()
    backend.publish([envelope("t"), envelope("t")])
    epoch = backend.current_epoch()
    caught_up = backend.history("t", 2, epoch)
    assert (caught_up.events, caught_up.reset) == ([], False)
    never_used = backend.history("quiet", 0, epoch)
    assert (never_used.events, never_used.reset) == ([], False)


def test_history_from_another_epoch_is_reset(make_backend: MakeBackend):
    backend = make_backend()
    backend.publish([envelope("t"), envelope("t")])
    stale = backend.history("t", 1, "an-old-epoch")
    assert (stale.events, stale.reset) == ([], True)


def test_history_beyond_the_last_offset_is_reset(make_backend: MakeBackend):
    """A client ahead of the server saw a different log (e.g. the data was lost and refilled)."""
    backend = make_backend()
    backend.publish([envelope("t")])
    assert backend.history("t", 5, backend.current_epoch()).reset


def test_history_whose_gap_was_trimmed_is_reset(make_backend: MakeBackend):
    # Redis trims `MAXLEN ~` by whole stream nodes (100 entries), so publish well past one node.
    backend = make_backend(history=5)
    events = [envelope("t", n=i) for i in range(250)]
    for start in range(0, 250, 50):
        backend.publish(events[start : start + 50])
    epoch = backend.current_epoch()

    assert backend.history("t", 0, epoch).reset, "offsets 1.. were trimmed"
    assert backend.history("t", 100, epoch).reset
    recent = backend.history("t", 245, epoch)
    assert not recent.reset
    assert [p.offsets["t"] for p in recent.events] == [246, 247, 248, 249, 250]
    assert [p.event_id for p in recent.events] == [e.id for e in events[245:]]


def test_history_gives_the_same_published_event_as_the_global_log(make_backend: MakeBackend):
    backend = make_backend()
    backend.publish([envelope("a", n=1)])
    [both] = backend.publish([envelope("a", "b", n=2)])
    assert both is not None
    epoch = backend.current_epoch()
    assert backend.history("a", 1, epoch).events == [both]
    assert backend.history("b", 0, epoch).events == [both]
    assert backend.read("0", 0)[-1] == both


def test_a_topic_named_twice_gets_the_event_once(make_backend: MakeBackend):
    backend = make_backend()
    [published] = backend.publish([envelope("a", "a", "b", n=1)])
    assert published is not None and published.offsets == {"a": 1, "b": 1}
    [following] = backend.publish([envelope("a", n=2)])
    assert following is not None and following.offsets == {"a": 2}
    assert [p.offsets["a"] for p in backend.history("a", 0, backend.current_epoch()).events] == [1, 2]


def test_history_from_a_negative_offset_is_reset(make_backend: MakeBackend):
    backend = make_backend()
    backend.publish([envelope("t")])
    assert backend.history("t", -1, backend.current_epoch()).reset


def test_read_follows_the_global_log_from_a_position(make_backend: MakeBackend):
    backend = make_backend()
    events = [envelope("a", n=1), envelope(n=2), envelope("b", n=3)]
    published = backend.publish(events)
    everything = backend.read("0", 0)
    assert [p.event_id for p in everything] == [e.id for e in events]
    assert [p.position for p in everything] == [p.position for p in published if p]
    assert [p.offsets for p in everything] == [{"a": 1}, {}, {"b": 1}]
    assert {p.epoch for p in everything} == {backend.current_epoch()}

    after_first = backend.read(everything[0].position, 0)
    assert [p.event_id for p in after_first] == [e.id for e in events[1:]]
    assert backend.read(everything[-1].position, 0) == []
    assert [p.event_id for p in backend.read("0", 0, limit=2)] == [e.id for e in events[:2]]
    assert backend.read(None, 0) == [], "no position: only events published from now on"


def test_end_position_and_last_offset_say_where_a_follower_and_a_subscriber_start(make_backend: MakeBackend):
    backend = make_backend()
    assert backend.last_offset("a") == 0
    start = backend.end_position()
    assert backend.read(start, 0) == [], "nothing after the end of an empty log"

    published = backend.publish([envelope("a", n=1), envelope("a", "b", n=2)])

    assert backend.end_position() == published[-1].position  # type: ignore[union-attr]
    assert (backend.last_offset("a"), backend.last_offset("b"), backend.last_offset("z")) == (2, 1, 0)
    assert [p.event_id for p in backend.read(start, 0)] == [p.event_id for p in published if p]
    assert backend.read(backend.end_position(), 0) == []


def test_read_waits_for_the_next_event(make_backend: MakeBackend):
    backend = make_backend()
    [last] = backend.publish([envelope("a")])
    assert last is not None
    later = envelope("a", n=2)
    timer = threading.Timer(0.2, lambda: backend.publish([later]))
    timer.start()
    started = time.monotonic()
    got = backend.read(last.position, block_seconds=5)
    timer.join()
    assert [p.event_id for p in got] == [later.id]
    assert time.monotonic() - started < 4, "woken by the event, not by the timeout"


def test_read_with_a_tiny_wait_returns_instead_of_blocking_forever(make_backend: MakeBackend):
    backend = make_backend()
    [last] = backend.publish([envelope("a")])
    assert last is not None
    result: list[object] = []
    reader = threading.Thread(target=lambda: result.append(backend.read(last.position, 0.0004)), daemon=True)
    reader.start()
    reader.join(3)
    assert result == [[]]


@pytest.mark.services
def test_new_backend_on_the_same_redis_keeps_epoch_offsets_and_dedupe(redis_prefix: str):
    first = RedisStreamsBackend(REDIS_URL, prefix=redis_prefix)
    restarted = RedisStreamsBackend(REDIS_URL, prefix=redis_prefix)
    try:
        event = envelope("t")
        first.publish([event])
        assert restarted.current_epoch() == first.current_epoch()
        assert restarted.publish([event]) == [None], "a restarted relay does not publish twice"
        [following] = restarted.publish([envelope("t")])
        assert following is not None and following.offsets == {"t": 2}
    finally:
        first.close()
        restarted.close()


@pytest.mark.services
def test_redis_losing_its_data_changes_the_epoch(redis_prefix: str):
    backend = RedisStreamsBackend(REDIS_URL, prefix=redis_prefix)
    try:
        backend.publish([envelope("t"), envelope("t")])
        old = backend.current_epoch()
        client = redis.Redis.from_url(REDIS_URL)
        client.delete(*client.keys(f"{redis_prefix}:*"))
        client.close()
        [fresh] = backend.publish([envelope("t")])
        assert fresh is not None and fresh.offsets == {"t": 1} and fresh.epoch != old
        assert backend.history("t", 2, old).reset, "the client's offsets belong to the lost epoch"
    finally:
        backend.close()


@pytest.mark.services
def test_redis_publish_that_failed_half_way_is_not_remembered_as_published(redis_prefix: str):
    backend = RedisStreamsBackend(REDIS_URL, prefix=redis_prefix)
    try:
        backend.redis.set(f"{redis_prefix}:t:broken", "not a stream")  # XADD to it fails
        event = envelope("broken", n=1)
        with pytest.raises(redis.ResponseError):
            backend.publish([event])
        backend.redis.delete(f"{redis_prefix}:t:broken")

        [retried] = backend.publish([event])  # the relay's retry
        assert retried is not None, "the event was not lost to the dedupe"
        assert [p.event_id for p in backend.read("0", 0)] == [event.id]
        assert retried.offsets == {"broken": 1}, "the failed attempt used up nothing"
        replay = backend.history("broken", 0, backend.current_epoch())
        assert [p.event_id for p in replay.events] == [event.id]
    finally:
        backend.close()


@pytest.mark.services
def test_redis_offsets_continue_after_a_lost_counter(redis_prefix: str):
    backend = RedisStreamsBackend(REDIS_URL, prefix=redis_prefix)
    try:
        backend.publish([envelope("t"), envelope("t")])
        backend.redis.delete(f"{redis_prefix}:off:t")  # e.g. evicted under memory pressure
        [third] = backend.publish([envelope("t", n=3)])
        assert third is not None and third.offsets == {"t": 3}
        assert [p.offsets["t"] for p in backend.history("t", 0, backend.current_epoch()).events] == [1, 2, 3]
    finally:
        backend.close()
