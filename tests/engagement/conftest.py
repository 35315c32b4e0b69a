"""Fixtures for engagement's tests: a consultation's people acting through participation's real
actions, so the events the ledger books are the ones real use emits.

`town` is an agency with its convener and four citizens; `Town` runs their actions in their own
transactions and `settle`s the bus (relay, then RQ jobs in the production pass) so the engagement
handler has run. `assert_ledger_adds_up` is the invariant every test ends on: the kept balances,
the sum of the ledger's rows and a from-scratch recomputation from the outbox are one and the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import col, select

from civic.engagement import queries
from civic.engagement.rules import Rules, load_rules
from civic.events.models import OutboxEvent
from civic.identity.models import Account, Role
from civic.participation import actions, consultations
from civic.participation.models import Comment, Consultation, Phase, Proposal
from civic.participation.schemas import CommentInput, ConsultationInput, PhaseChange, ProposalInput
from civic.runtime import Runtime
from tests.events.conftest import settle
from tests.factories import make_account, make_agency, make_official


@dataclass
class Town:
    runtime: Runtime
    convener: Account
    citizens: list[Account]
    _held: bool = field(default=False, repr=False)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Act several times, then settle the bus once (each settle runs an RQ burst in production)."""
        self._held = True
        try:
            yield
        finally:
            self._held = False
        self.settle()

    def consultation(self, phase: Phase = Phase.PROPOSALS, threshold: int = 100) -> Consultation:
        assert self.convener.agency_id is not None
        data = ConsultationInput(
            agency_id=self.convener.agency_id,
            title="Night buses for the old town",
            summary="Where and when should night buses run?",
            body="The agency asks residents where night buses would help most.",
            support_threshold=threshold,
        )
        with self.runtime.db.transaction() as s:
            c = consultations.create_consultation(s, self.convener, data)
            assert c.id is not None
            consultations.change_phase(s, self.convener, c.id, PhaseChange(phase=phase.value))
            consultations.publish_consultation(s, self.convener, c.id)
        self.settle()
        return c

    def phase(self, consultation: Consultation, phase: Phase) -> None:
        assert consultation.id is not None
        with self.runtime.db.transaction() as s:
            consultations.change_phase(s, self.convener, consultation.id, PhaseChange(phase=phase.value))
        self.settle()

    def submit(
        self, author: Account, consultation: Consultation, title: str = "More night buses"
    ) -> Proposal:
        assert consultation.id is not None
        data = ProposalInput(title=title, body="Night buses every 20 minutes on the main lines.")
        with self.runtime.db.transaction() as s:
            proposal = actions.submit_proposal(s, author, consultation.id, data)
        self.settle()
        return proposal

    def support(self, supporter: Account, proposal: Proposal) -> None:
        self._act(actions.support_proposal, supporter, proposal.id)

    def unsupport(self, supporter: Account, proposal: Proposal) -> None:
        self._act(actions.unsupport_proposal, supporter, proposal.id)

    def withdraw(self, author: Account, proposal: Proposal) -> None:
        self._act(actions.withdraw_proposal, author, proposal.id)

    def comment(self, author: Account, proposal: Proposal, body: str = "Good idea.") -> Comment:
        with self.runtime.db.transaction() as s:
            comment = actions.post_comment(s, author, proposal.id, CommentInput(body=body))  # type: ignore[arg-type]
        self.settle()
        return comment

    def delete_comment(self, author: Account, comment: Comment) -> None:
        self._act(actions.delete_comment, author, comment.id)

    def _act(self, action: Any, actor: Account, target_id: int | None) -> None:
        with self.runtime.db.transaction() as s:
            action(s, actor, target_id)
        self.settle()

    def settle(self) -> None:
        if not self._held:
            settle(self.runtime)

    def points(self, account: Account) -> int:
        assert account.id is not None
        with self.runtime.db.transaction() as s:
            return queries.balance(s, account.id)


@pytest.fixture
def town(runtime: Runtime) -> Town:
    with runtime.db.transaction() as s:
        agency = make_agency(s, "Transport agency")
        convener = make_official(runtime, s, agency, Role.CONVENER)
        citizens = [make_account(runtime, s, name=name) for name in ("Leyla", "Kamal", "Aysel", "Rashad")]
    return Town(runtime=runtime, convener=convener, citizens=citizens)


@pytest.fixture
def rules() -> Rules:
    return load_rules()


def outbox_of(runtime: Runtime, *types: str) -> list[OutboxEvent]:
    with runtime.db.transaction() as s:
        query = select(OutboxEvent).order_by(col(OutboxEvent.seq))
        if types:
            query = query.where(col(OutboxEvent.type).in_(types))
        return list(s.exec(query).all())


def assert_ledger_adds_up(runtime: Runtime, rules: Rules) -> dict[int, int]:
    """Kept balances == sums of ledger rows == recomputation from the outbox; returns the balances."""
    with runtime.db.transaction() as s:
        kept = queries.balances(s)
        assert queries.ledger_balances(s) == kept
        assert queries.replay_balances(s, rules) == kept
    return kept
