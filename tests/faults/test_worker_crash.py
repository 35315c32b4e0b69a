"""`civic worker` killed with SIGKILL while it works through 1,000 supports, then started again:
every support's points are awarded exactly once.

What can go wrong in such a crash, and what the test would catch:
- the job in hand when a worker died is lost from RQ: its delivery stays pending until the
  relay's sweep sends it again after the job lease (20 s here instead of 60, to keep the test short);
- a delivery sent twice (the sweep re-sends every pending one whose lease ran out, and the backlog
  outlasts the lease) must change nothing the second time;
- the relay killed between publishing a batch to Redis and committing it publishes it again on
  restart: Redis must drop the repeats, so `proposal.supported` appears once in the stream.

The scene: 50 authors, one proposal each, 1,000 citizens each supporting one proposal (20 per
proposal). Each support earns its supporter 1 point (daily cap 10) and its author 2 (daily cap
40, exactly reached by 20 supports): 3,000 points, none lost to a cap, so "awarded once" is
exact arithmetic.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from civic.engagement.models import PointsBalance, PointsEntry
from civic.events.models import DeliveryStatus, HandlerDelivery, OutboxEvent
from civic.identity.models import Account, Role
from civic.participation.actions import submit_proposal, support_proposal
from civic.participation.consultations import create_consultation, do_change_phase, do_publish_consultation
from civic.participation.models import Phase, Support
from civic.participation.schemas import ConsultationInput, ProposalInput
from civic.runtime import Runtime
from tests.factories import make_account, make_agency, make_official
from tests.faults.conftest import FaultCluster, count_events, running_stack, wait_for
from tests.realtime.conftest import World, _hash_once
from tests.realtime.test_multiprocess import _tail

pytestmark = pytest.mark.services

AUTHORS, SUPPORTS = 50, 1000
PER_PROPOSAL = SUPPORTS // AUTHORS
SUPPORTER_POINTS, AUTHOR_POINTS, SUBMIT_POINTS = 1, 2, 3
HANDLER = "engagement.points"
# Three workers, all killed at once: the same crash as one worker's, at a throughput this shared
# 2-core machine can finish 1,000 supports' handlers in (about 10-40 per second per worker).
WORKERS = ("worker", "worker2", "worker3")


def build_crowd(runtime: Runtime) -> World:
    """50 published proposals in a consultation's support phase, 1,000 citizens who have not
    supported anything yet; ids by name in `world.ids` ("author7", "proposal7", "citizen123")."""
    _hash_once(runtime)
    with runtime.db.transaction() as s:
        agency = make_agency(s, "Ministry")
        convener = make_official(runtime, s, agency, Role.CONVENER)
        consultation = create_consultation(
            s,
            convener,
            ConsultationInput(
                agency_id=agency.id,  # type: ignore[arg-type]
                title="Parks of the city",
                summary="What should the parks have?",
                body="Tell us.",
                support_threshold=10_000,  # no threshold bonus: only support points count
            ),
        )
        do_publish_consultation(s, convener, consultation)
        do_change_phase(s, convener, consultation, Phase.PROPOSALS)
        world = World(agency.id, agency.id, consultation.id, 0, 0)  # type: ignore[arg-type]
        for n in range(AUTHORS):
            author = make_account(runtime, s)
            proposal = submit_proposal(
                s,
                author,
                consultation.id,
                ProposalInput(title=f"Proposal number {n}", body="More benches, please."),  # type: ignore[arg-type]
            )
            world.ids[f"author{n}"], world.ids[f"proposal{n}"] = author.id, proposal.id  # type: ignore[assignment]
        do_change_phase(s, convener, consultation, Phase.SUPPORT)
    with runtime.db.transaction() as s:
        for n in range(SUPPORTS):
            world.ids[f"citizen{n}"] = make_account(runtime, s).id  # type: ignore[assignment]
    world.proposal_id = world.ids["proposal0"]
    return world


def support_all(cluster: FaultCluster, made: list[int], failures: list[BaseException]) -> None:
    """Citizen n supports proposal n % 50 through participation's action, from 2 threads, ten
    actions to a transaction (each its own event) so the writing keeps ahead of the workers."""
    runtime, ids = cluster.runtime, cluster.world.ids

    def ten(start: int) -> None:
        try:
            with runtime.db.transaction() as s:
                for n in range(start, start + 10):
                    citizen = s.get(Account, ids[f"citizen{n}"])
                    support_proposal(s, citizen, ids[f"proposal{n % AUTHORS}"])
            made.extend(range(start, start + 10))
        except BaseException as exc:
            failures.append(exc)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(ten, range(0, SUPPORTS, 10)))


JOB = re.compile(r"run_job\('deliver', (\d+)\)")


def jobs_in_hand(cluster: FaultCluster) -> set[int]:
    """Deliveries whose job a killed worker had started and not finished, read from its log (RQ
    logs each job's start and its success at INFO)."""
    in_hand = set()
    for worker in cluster.workers:
        lines = worker.log.read_text(errors="replace").splitlines()
        started = [
            int(m.group(1)) for line in lines if "Successfully" not in line and (m := JOB.search(line))
        ]
        finished = {int(m.group(1)) for line in lines if "Successfully" in line and (m := JOB.search(line))}
        if started and started[-1] not in finished:
            in_hand.add(started[-1])
    return in_hand


def handled_supports(runtime: Runtime) -> int:
    """Supports whose points are booked (the supporter's row is written with the author's)."""
    with runtime.db.transaction() as s:
        return int(
            s.exec(
                select(func.count()).select_from(PointsEntry).where(PointsEntry.rule == "proposal_supported")
            ).one()
        )


def test_worker_killed_mid_stream_and_restarted_awards_every_support_exactly_once(tmp_path: Path) -> None:
    started = time.monotonic()
    with running_stack(
        tmp_path, build_crowd, tag="crash", processes=WORKERS, job_lease_seconds=20
    ) as cluster:
        runtime, ids = cluster.runtime, cluster.world.ids
        cluster.settle(timeout=40)  # the scene's own events (50 submissions) handled first
        assert handled_supports(runtime) == 0

        made: list[int] = []
        failures: list[BaseException] = []
        writer = threading.Thread(target=support_all, args=(cluster, made, failures))
        writer.start()
        wait_for("the workers to handle 100 supports", lambda: handled_supports(runtime) >= 100, 40)
        for worker in cluster.workers:
            worker.proc.send_signal(signal.SIGKILL)
        for worker in cluster.workers:
            worker.proc.wait(10)
        at_kill = handled_supports(runtime)
        in_hand = jobs_in_hand(cluster)
        time.sleep(1)
        at_restart = handled_supports(runtime)
        assert at_restart == at_kill, "nothing handles deliveries while the worker is dead"
        assert at_kill < SUPPORTS, f"the worker died mid-stream, not after ({at_kill} handled)"
        restarted = [cluster.spawn(name) for name in WORKERS]

        writer.join(60)
        assert failures == [] and len(made) == SUPPORTS
        try:
            cluster.settle(timeout=150)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; a worker's log:\n{_tail(restarted[0].log)}") from exc
        for worker in restarted:
            assert worker.alive(), _tail(worker.log)

        with runtime.db.transaction() as s:
            supports = s.exec(select(func.count()).select_from(Support)).one()
            supported_ids = set(
                s.exec(select(OutboxEvent.id).where(OutboxEvent.type == "proposal.supported")).all()
            )
            deliveries = s.exec(
                select(HandlerDelivery).where(col(HandlerDelivery.event_id).in_(supported_ids))
            ).all()
            entries = s.exec(select(PointsEntry)).all()
            balances = {b.account_id: b.points for b in s.exec(select(PointsBalance)).all()}
        events_out = count_events(runtime, "proposal.supported", published=True)
        awarded_events = count_events(runtime, "points.awarded", published=True)

        # Actions in, events out: one event per support, each published once.
        assert supports == SUPPORTS and len(supported_ids) == SUPPORTS and events_out == SUPPORTS
        stream_ids = [
            fields["i"]
            for _id, fields in cluster.redis.xrange(f"{cluster.prefix}:all")
            if fields["i"] in supported_ids
        ]
        assert len(stream_ids) == SUPPORTS and set(stream_ids) == supported_ids, "each published once"

        # Every delivery done once; none pending, none dead.
        assert Counter((d.event_id, d.handler) for d in deliveries).most_common(1)[0][1] == 1
        assert {d.handler for d in deliveries} == {HANDLER}
        assert Counter(d.status for d in deliveries) == {DeliveryStatus.DONE: SUPPORTS}
        with runtime.db.transaction() as s:
            unfinished = s.exec(
                select(HandlerDelivery.status, func.count())
                .where(HandlerDelivery.status != DeliveryStatus.DONE)
                .group_by(HandlerDelivery.status)
            ).all()
        assert unfinished == [], f"deliveries left unfinished: {unfinished}"
        by_id = {d.id: d for d in deliveries}
        assert all(by_id[i].status == DeliveryStatus.DONE for i in in_hand if i in by_id)

        # Points: each support booked once for its supporter and once for its author.
        by_rule = Counter(e.rule for e in entries)
        assert by_rule["proposal_supported"] == SUPPORTS and by_rule["support_received"] == SUPPORTS
        support_entries = [e for e in entries if e.rule in ("proposal_supported", "support_received")]
        assert {e.event_id for e in support_entries} == supported_ids
        assert len({(e.event_id, e.rule) for e in support_entries}) == 2 * SUPPORTS
        support_points = sum(e.points for e in support_entries)
        assert support_points == SUPPORTS * (SUPPORTER_POINTS + AUTHOR_POINTS)
        for n in range(SUPPORTS):
            assert balances[ids[f"citizen{n}"]] == SUPPORTER_POINTS, f"citizen{n}"
        for n in range(AUTHORS):
            assert balances[ids[f"author{n}"]] == SUBMIT_POINTS + PER_PROPOSAL * AUTHOR_POINTS, f"author{n}"
        ledger: Counter[int] = Counter()
        for e in entries:
            ledger[e.account_id] += e.points
        assert dict(ledger) == {a: p for a, p in balances.items() if p or a in ledger}
        booked = sum(1 for e in entries if e.points > 0)
        assert awarded_events == booked, "one points.awarded event per booking, none repeated"

        print(
            f"\nworker crash: actions in {len(made)} supports; events out {events_out} proposal.supported "
            f"(once each in Redis); worker killed after {at_kill} handled, restarted; "
            f"{len(deliveries)} deliveries done (incl. {len(in_hand)} whose job died with a worker), "
            f"0 pending, 0 dead; "
            f"points awarded {support_points} for supports in {2 * SUPPORTS} ledger rows, "
            f"{awarded_events} points.awarded events; {time.monotonic() - started:.1f} s"
        )
