"""Officials' decisions move points: an accepted or implemented proposal earns its author most;
content removed by moderation gives back what it earned (its author's, not its supporters')."""

from __future__ import annotations

from civic.participation import moderation
from civic.participation.models import AnswerStatus, Phase
from civic.runtime import Runtime
from tests.engagement.conftest import Town, assert_ledger_adds_up


def _answer(town: Town, proposal_id: int, status: AnswerStatus) -> None:
    with town.runtime.db.transaction() as s:
        moderation.do_record_answer(
            s,
            proposal_id,
            status=status,
            text="We will do this next year.",
            official=town.convener,
            role="responder",
        )
    town.settle()


def _moderate(town: Town, kind: str, item_id: int, move: str) -> None:
    with town.runtime.db.transaction() as s:
        do = moderation.do_moderate_proposal if kind == "proposal" else moderation.do_moderate_comment
        do(s, item_id, move, actor_id=town.convener.id, reason="Off topic for this consultation.")
    town.settle()


def test_an_accepted_then_implemented_proposal_earns_its_author_the_outcome_points(
    runtime: Runtime, town: Town, rules
):
    leyla = town.citizens[0]
    proposal = town.submit(leyla, town.consultation())
    assert proposal.id is not None

    _answer(town, proposal.id, AnswerStatus.UNDER_REVIEW)
    assert town.points(leyla) == 3, "being under review is not an outcome"
    _answer(town, proposal.id, AnswerStatus.ACCEPTED)
    assert town.points(leyla) == 3 + 50
    _answer(town, proposal.id, AnswerStatus.IMPLEMENTED)
    assert town.points(leyla) == 3 + 50 + 100
    assert town.points(town.convener) == 0, "officials earn nothing for answering"
    assert_ledger_adds_up(runtime, rules)


def test_a_hidden_proposal_gives_back_what_it_earned_its_author_but_supporters_keep_theirs(
    runtime: Runtime, town: Town, rules
):
    leyla, kamal, *_ = town.citizens
    consultation = town.consultation()
    proposal = town.submit(leyla, consultation)
    town.phase(consultation, Phase.SUPPORT)
    town.support(kamal, proposal)
    assert (town.points(leyla), town.points(kamal)) == (3 + 2, 1)
    assert proposal.id is not None

    _moderate(town, "proposal", proposal.id, "hide")

    assert (town.points(leyla), town.points(kamal)) == (0, 1)
    _moderate(town, "proposal", proposal.id, "restore")
    assert town.points(leyla) == 0, "a reversal is final; the restore is logged, not re-rewarded"
    assert_ledger_adds_up(runtime, rules)


def test_a_hidden_comment_loses_its_points(runtime: Runtime, town: Town, rules):
    leyla, kamal, *_ = town.citizens
    proposal = town.submit(leyla, town.consultation())
    comment = town.comment(kamal, proposal)
    assert town.points(kamal) == 1 and comment.id is not None

    _moderate(town, "comment", comment.id, "hide")

    assert town.points(kamal) == 0
    assert_ledger_adds_up(runtime, rules)
