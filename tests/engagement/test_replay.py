"""Replayed, duplicated and out-of-order events leave the balances of a clean run."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from civic.engagement import queries
from civic.engagement.handlers import HANDLER_NAME
from civic.engagement.models import PointsEntry
from civic.events.envelope import Envelope, emit
from civic.events.handlers import run_delivery
from civic.events.models import DeliveryStatus, OutboxEvent
from civic.participation.events import PROPOSAL_SUPPORTED, SupportChanged
from civic.participation.models import Phase
from civic.runtime import Runtime
from tests.engagement.conftest import Town, assert_ledger_adds_up, outbox_of
from tests.events.conftest import deliveries


def _story(town: Town) -> None:
    """Submit, support to the threshold, take a support back and give it again, comment and delete
    the comment, then withdraw the proposal: every kind of award and reversal."""
    leyla, kamal, aysel, _ = town.citizens
    consultation = town.consultation(threshold=2)
    proposal = town.submit(leyla, consultation)
    other = town.submit(aysel, consultation, title="Late trams on Fridays")
    with town.batch():
        town.phase(consultation, Phase.SUPPORT)
        town.support(kamal, proposal)
        town.support(aysel, proposal)  # threshold
        town.support(kamal, other)
        town.unsupport(kamal, proposal)
        town.support(kamal, proposal)
        comment = town.comment(aysel, proposal)
        town.delete_comment(aysel, comment)
        town.comment(kamal, other)
        town.withdraw(leyla, proposal)


def _counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.db.transaction() as s:
        entries = s.execute(select(func.count()).select_from(PointsEntry)).scalar_one()
        events = s.execute(select(func.count()).select_from(OutboxEvent)).scalar_one()
    return entries, events


def test_the_story_ends_with_the_expected_balances(runtime: Runtime, town: Town, rules):
    leyla, kamal, aysel, _ = town.citizens
    _story(town)
    assert assert_ledger_adds_up(runtime, rules) == {
        # leyla's withdrawn proposal earned her nothing in the end
        kamal.id: 1 + 1 + 1,  # supports of both proposals (the first one taken back), a comment
        aysel.id: 1 + 3 + 2,  # a support, her proposal, kamal's support of it; the comment deleted
    }
    assert town.points(leyla) == 0


def test_running_every_delivery_and_every_handler_call_again_changes_nothing(
    runtime: Runtime, town: Town, rules
):
    _story(town)
    before = assert_ledger_adds_up(runtime, rules)
    counts = _counts(runtime)
    done = deliveries(runtime, HANDLER_NAME)
    assert done and all(d.status == DeliveryStatus.DONE for d in done)

    for delivery in done:
        assert run_delivery(runtime.db, runtime.handlers, delivery.id, runtime.retry) == "skipped"  # type: ignore[arg-type]
    handler = runtime.handlers.get(HANDLER_NAME)
    assert handler is not None
    for row in outbox_of(runtime, *sorted(rules.event_types)):
        for _ in range(2):  # the handler itself, run twice more in fresh transactions
            with runtime.db.transaction() as s:
                handler.fn(s, Envelope.from_row(row))
    town.settle()

    assert assert_ledger_adds_up(runtime, rules) == before
    assert _counts(runtime) == counts, "no ledger row and no points event was added"


def test_deliveries_run_in_reverse_order_give_the_balances_of_a_clean_run(
    runtime: Runtime, town: Town, rules
):
    runtime.relay.send = lambda ids: None  # type: ignore[method-assign]  (hold every job back)
    _story(town)
    pending = deliveries(runtime, HANDLER_NAME)
    assert pending and all(d.status == DeliveryStatus.PENDING for d in pending)

    for delivery in reversed(pending):
        assert run_delivery(runtime.db, runtime.handlers, delivery.id, runtime.retry) == DeliveryStatus.DONE  # type: ignore[arg-type]

    kept = assert_ledger_adds_up(runtime, rules)
    with Session(runtime.db.engine) as s:
        clean = queries.rebuild_ledger(s, rules)  # the same events booked in order, from an empty ledger
        s.rollback()
    assert kept == clean
    leyla, kamal, aysel, _ = town.citizens
    assert kept == {kamal.id: 3, aysel.id: 6}


def test_supporting_ones_own_proposal_never_earns_points_even_if_the_event_says_so(
    runtime: Runtime, town: Town, rules
):
    """Participation refuses self-support; the rules must not reward it should such an event exist."""
    leyla = town.citizens[0]
    with runtime.db.transaction() as s:
        emit(
            s,
            PROPOSAL_SUPPORTED,
            SupportChanged(
                proposal_id=999, consultation_id=1, agency_id=1, author_id=leyla.id, support_count=1
            ),  # type: ignore[arg-type]
            actor_id=leyla.id,
        )
    town.settle()

    assert town.points(leyla) == 0
    with runtime.db.transaction() as s:
        assert queries.history(s, leyla.id) == []  # type: ignore[arg-type]
    assert_ledger_adds_up(runtime, rules)


def test_points_events_are_not_fed_back_to_the_points_handler(runtime: Runtime, town: Town):
    consultation = town.consultation()
    town.submit(town.citizens[0], consultation)

    handler = runtime.handlers.get(HANDLER_NAME)
    assert handler is not None and not any(t.startswith("points.") for t in handler.event_types)
    assert len(outbox_of(runtime, "points.awarded")) == 1
    assert {d.event_id for d in deliveries(runtime, HANDLER_NAME)} == {
        row.id for row in outbox_of(runtime, *sorted(handler.event_types))
    }
