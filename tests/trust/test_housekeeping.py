"""The worker's trust round: consents past their period are recorded as expired, and a tree head
is signed when the ledger grew (once per size), so heads are published without anyone asking."""

from __future__ import annotations

from datetime import timedelta

from civic.clock import utcnow
from civic.runtime import Runtime
from civic.trust import housekeeping, ledger
from civic.trust.models import Consent, ConsentState
from civic.trust.treeheads import latest_tree_head
from tests.trust._consent_support import give


def test_a_round_expires_due_consents_and_signs_the_grown_ledger(runtime: Runtime, world) -> None:
    due = give(
        runtime,
        world.leyla,
        world.agency.id,
        "research",
        ["gender"],
        days=3,
        now=utcnow() - timedelta(days=10),
    )

    expired, size = housekeeping.run_once(runtime.db, runtime.settings)

    with runtime.db.transaction() as s:
        assert s.get(Consent, due.id).state == ConsentState.EXPIRED
        assert size == ledger.tree_size(s) > 0, "the head covers the expiry entry too"
        head = latest_tree_head(s)
    assert expired == 1 and head is not None and head.size == size
    assert housekeeping.run_once(runtime.db, runtime.settings) == (0, size), "nothing new: same head"
