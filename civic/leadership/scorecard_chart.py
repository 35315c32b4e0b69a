"""The transparency page's chart: each agency's median time to a first answer beside the time it
promised, from the scorecards already computed for its table (no query of its own)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from civic.leadership.models import DEFAULT_ANSWER_PROMISE_DAYS
from civic.leadership.scorecard import Scorecard


@dataclass(frozen=True)
class AnswerBar:
    agency_id: int
    name: str
    median_hours: float | None  # None: nothing answered yet
    promise_hours: float
    answered: int

    @property
    def over_promise(self) -> bool:
        return self.median_hours is not None and self.median_hours > self.promise_hours


def answer_bars(cards: Iterable[Scorecard]) -> list[AnswerBar]:
    """One bar per agency that has received proposals, in the cards' order."""
    return [
        AnswerBar(
            agency_id=card.subject_id,
            name=card.name,
            median_hours=card.median_answer_hours,
            promise_hours=float((card.promise_days or DEFAULT_ANSWER_PROMISE_DAYS) * 24),
            answered=card.proposals_answered,
        )
        for card in cards
        if card.kind == "agency" and card.proposals_received
    ]
