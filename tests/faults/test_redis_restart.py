"""Redis killed with SIGKILL mid-stream and started again empty, under a live `civic serve`,
a `civic worker` and a WebSocket client: nothing is lost.

The Redis here is the test's own `redis-server` (the shared one on 6379 serves every other test
on the machine), run without snapshots or an append-only file, so the restart loses everything:
the streams, the offset counters, the epoch, the dedupe ids and RQ's queued jobs. What must hold:
- every HTTP action succeeds (the web process needs PostgreSQL to act, not Redis);
- events committed while Redis is down wait in the outbox and are published once it is back;
- handler jobs lost with Redis are sent again by the relay's sweep after their lease (4 s here);
- the live client is told `reset` on the new epoch for each topic (its offsets mean nothing any
  more), then receives exactly what the new Redis holds; a reload from the database (the API)
  shows every action.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from civic.clock import utcnow
from civic.engagement.models import PointsBalance
from civic.events.models import DeliveryStatus, HandlerDelivery, OutboxEvent
from tests.faults.conftest import FaultCluster, PrivateRedis, running_stack
from tests.realtime.conftest import TIMEOUT, build_world
from tests.realtime.test_multiprocess import Tracker, _tail, from_now, reader

pytestmark = pytest.mark.services

ACTIONS = 28  # supports on and off by four citizens, in rounds of four: ends with all four on
SUPPORT_KINDS = ("proposal.supported", "proposal.unsupported")


class CountingTracker(Tracker):
    """Also keeps every event frame as (epoch, topic, event id): a reset empties `ids`."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, str]] = []

    def take(self, frame: dict[str, Any]) -> None:
        super().take(frame)
        if frame["type"] == "event":
            self.seen.append((frame["epoch"], frame["topic"], frame["event"]["id"]))


def act(cluster: FaultCluster, n: int) -> None:
    cluster.support("a", f"supporter{n % 4}", on=(n // 4) % 2 == 0)


async def test_redis_killed_and_restarted_empty_mid_stream_loses_nothing(
    tmp_path: Path, private_redis: PrivateRedis
) -> None:
    started = time.monotonic()
    with running_stack(
        tmp_path, build_world, tag="redis", redis_url=private_redis.url, job_lease_seconds=4
    ) as cluster:
        w = cluster.world
        topics = [f"consultation:{w.consultation_id}", f"proposal:{w.proposal_id}"]
        proposal_topic = topics[1]
        await asyncio.to_thread(cluster.settle)
        done: list[tuple[int, float]] = []  # (action, when it returned)
        failures: list[BaseException] = []
        outage: dict[str, Any] = {}

        def keep_acting() -> None:
            try:
                for n in range(ACTIONS):
                    act(cluster, n)
                    done.append((n, time.monotonic()))
                    time.sleep(0.1)
            except BaseException as exc:
                failures.append(exc)

        tracker = CountingTracker()
        async with reader(cluster.procs["a"], cluster, "supporter0", tracker) as live:
            await live.subscribe(from_now(topics))
            old_epoch, begin = tracker.at[proposal_topic]
            writer = threading.Thread(target=keep_acting)
            writer.start()
            await live.until({proposal_topic: begin + 6})

            outage["killed"], outage["killed_at"] = time.monotonic(), utcnow()
            await asyncio.to_thread(private_redis.kill)
            await asyncio.sleep(2)  # actions keep coming; their events wait in the outbox
            outage["restarted"], outage["restarted_at"] = time.monotonic(), utcnow()
            await asyncio.to_thread(private_redis.start)

            await asyncio.to_thread(writer.join, 60)
            assert failures == [], f"an action failed while Redis was away: {failures[0]!r}"
            assert len(done) == ACTIONS
            during = [n for n, at in done if outage["killed"] < at < outage["restarted"]]
            assert during, "some actions were made while Redis was down"
            # KNOWN PROBLEM (reported): RQ's worker loop survives a lost Redis only while it waits
            # for a job; caught anywhere else (heartbeat, registering a job) the error ends `civic
            # worker`. Deployments run it under a supervisor that starts it again; so does this test.
            worker = cluster.procs["worker"]
            worker_died = not worker.alive()
            if worker_died:
                cluster.spawn("worker")
            try:
                await asyncio.to_thread(cluster.settle, 40)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\nworker:\n{_tail(cluster.procs['worker'].log)}") from exc

            new_epoch = cluster.runtime.backend.current_epoch()
            assert new_epoch != old_epoch
            new_stream = cluster.stream(proposal_topic)
            await live.until({t: cluster.last_offset(t) for t in topics}, new_epoch, timeout=20)
            await live.quiet()
        assert {f["topic"] for f in tracker.resets} == set(topics), tracker.resets
        assert {f["epoch"] for f in tracker.resets} == {new_epoch}
        assert tracker.ids[proposal_topic] == [i for _o, i in new_stream], "after the reset: the new log"
        before_kill = [
            i for epoch, topic, i in tracker.seen if epoch == old_epoch and topic == proposal_topic
        ]
        assert len(before_kill) >= 6

        with cluster.runtime.db.transaction() as s:
            events = s.exec(
                select(OutboxEvent)
                .where(col(OutboxEvent.type).in_(SUPPORT_KINDS))
                .order_by(col(OutboxEvent.seq))
            ).all()
            deliveries = s.exec(select(HandlerDelivery)).all()
            balances = {b.account_id: b.points for b in s.exec(select(PointsBalance)).all()}
        assert len(events) == ACTIONS and all(e.published_at is not None for e in events)
        new_ids = {i for _o, i in new_stream}
        committed_during = [
            e.id for e in events if outage["killed_at"] < e.occurred_at < outage["restarted_at"]
        ]
        assert committed_during, "events were committed while Redis was down"
        assert set(committed_during) <= new_ids, "they waited in the outbox and went to the new Redis"
        assert set(before_kill) | new_ids <= {e.id for e in events}
        assert Counter(d.status for d in deliveries) == {DeliveryStatus.DONE: len(deliveries)}

        # A reload: the database has every action, whatever the client saw.
        proposal = httpx.get(f"{cluster.procs['a'].http}/api/proposals/{w.proposal_id}", timeout=TIMEOUT)
        assert proposal.status_code == 200 and proposal.json()["support_count"] == 4
        supporters = [balances.get(w.ids[f"supporter{n}"]) for n in range(4)]
        assert supporters == [1, 1, 1, 1], "each supporter: the one support that stands"
        awarded = sum(balances.values())

        print(
            f"\nredis restart: actions in {len(done)} ({len(during)} answered while Redis was down); "
            f"events out {len(events)} published, {len(committed_during)} of them committed during the "
            f"outage; {len(deliveries)} handler deliveries done; points awarded "
            f"{awarded} (supporters {supporters}, author {balances.get(w.ids['author'])}); messages "
            f"received {len(before_kill)} before the kill, {len(tracker.resets)} resets, "
            f"{len(tracker.ids[proposal_topic])} in the new epoch; worker "
            f"{'exited with Redis and was started again' if worker_died else 'survived'}; "
            f"{time.monotonic() - started:.1f} s"
        )
