"""Property: across random sequences of grants, withdrawals, the passing of time, expiry sweeps and
reads, the gate returns an attribute exactly when a consent covering it is active at that moment
(given, not withdrawn, not past its end) — never otherwise — and every read is on record.

Each example uses a fresh citizen, so examples share the test's database without sharing state.
Time is passed to the domain functions (`now=`), so "ten days later" costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlmodel import func, select

from civic.clock import utcnow
from civic.identity.models import Account
from civic.runtime import Runtime
from civic.trust import consents, gate
from civic.trust.models import DataAccess
from civic.trust.schemas import ProactiveInput
from tests.conftest import BACKEND
from tests.participation.conftest import World, person
from tests.trust._consent_support import run, set_vault

ATTRS = ["contact_email", "gender"]
PURPOSE = "research"
VALUES = {"contact_email": "someone@example.az", "gender": "female"}

grant_op = st.tuples(
    st.just("grant"), st.lists(st.sampled_from(ATTRS), min_size=1, unique=True), st.integers(1, 5)
)
revoke_op = st.tuples(st.just("revoke"), st.integers(0, 9))
wait_op = st.tuples(st.just("wait"), st.integers(0, 4))
sweep_op = st.tuples(st.just("sweep"))
read_op = st.tuples(st.just("read"), st.sampled_from(ATTRS))
operations = st.lists(st.one_of(grant_op, revoke_op, wait_op, sweep_op, read_op), min_size=1, max_size=14)


@dataclass
class Model:
    attributes: list[str]
    expires_at: datetime
    consent_id: int
    withdrawn: bool = False

    def active(self, attribute: str, now: datetime) -> bool:
        return attribute in self.attributes and not self.withdrawn and now < self.expires_at


@hsettings(
    max_examples=30 if BACKEND == "sqlite" else 15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_gate_never_returns_without_an_active_consent(runtime: Runtime, world: World, keys, ops) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as s:
        citizen = person(runtime, s, "Citizen")
    set_vault(runtime, keys, citizen, **VALUES)
    now = utcnow() + timedelta(days=1)
    model: list[Model] = []
    reads = 0
    for op in ops:
        if op[0] == "grant":
            data = ProactiveInput(
                agency_id=world.agency.id, purpose=PURPOSE, attributes=op[1], retention_days=op[2]
            )
            c = run(
                runtime,
                lambda s, d=data, t=now: consents.grant_proactively(s, s.get(Account, citizen.id), d, now=t),
            )
            model.append(Model(list(op[1]), now + timedelta(days=op[2]), c.id))
        elif op[0] == "revoke" and model:
            target = model[op[1] % len(model)]
            active_now = not target.withdrawn and now < target.expires_at
            try:
                run(
                    runtime,
                    lambda s, t=now, cid=target.consent_id: consents.revoke(
                        s, s.get(Account, citizen.id), cid, now=t
                    ),
                )
                assert active_now
                target.withdrawn = True
            except consents.Conflict:
                assert not active_now
        elif op[0] == "wait":
            now += timedelta(days=op[1], hours=1)
        elif op[0] == "sweep":
            run(runtime, consents.expire_due, now)
        elif op[0] == "read":
            attribute = op[1]
            result = run(
                runtime,
                lambda s, a=attribute, t=now: gate.attempt(
                    s,
                    s.get(Account, world.convener.id),
                    citizen.id,
                    a,
                    PURPOSE,
                    "property",
                    fernet=keys.vault,
                    now=t,
                ),
            )
            reads += 1
            expected = any(m.active(attribute, now) for m in model)
            if expected:
                assert result == VALUES[attribute]
            else:
                assert isinstance(result, gate.AccessRefused), result
                assert result.reason in ("none", "revoked", "expired")
    with runtime.db.transaction() as s:
        recorded = s.exec(
            select(func.count()).select_from(DataAccess).where(DataAccess.citizen_id == citizen.id)
        ).one()
    assert recorded == reads
