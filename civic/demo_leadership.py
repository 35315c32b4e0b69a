"""Demo leadership: answered proposals in every status, a moderation queue with items waiting (a
pre-moderated proposal, reported comments, one hidden automatically), a decided case under appeal,
and a record of response times that makes the transparency page's scorecards meaningful.

Everything goes through leadership's real actions (the grants are checked, the action log and
events written). Only the clock cannot be: the demo's history is backdated afterwards (proposals
submitted weeks ago, answered days later) so the response times look like a real record. Runs
once: if any proposal already has an answer, the demo's leadership history is there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from civic.clock import utcnow
from civic.identity.models import Account, AccountKind, VerificationLevel
from civic.leadership import answers, appeals, moderation, reports
from civic.leadership.models import ModerationCase
from civic.leadership.schemas import AnswerInput, AppealInput, DecisionInput, ItemDecisionInput, ReportInput
from civic.participation import actions
from civic.participation.models import (
    Comment,
    CommentStatus,
    Consultation,
    Phase,
    Proposal,
    ProposalAnswer,
    ProposalStatus,
)
from civic.participation.schemas import CommentInput

# Days before today that a consultation's proposals were submitted, by the phase it is in now.
_SUBMITTED_DAYS_AGO = {
    Phase.CLOSED: (70, 50),
    Phase.ANSWERED: (60, 40),
    Phase.DELIBERATION: (40, 25),
    Phase.SUPPORT: (30, 15),
    Phase.PROPOSALS: (10, 1),
    Phase.INFORMATION: (3, 1),
}

# (status, days after submission, answer text)
ANSWERS: dict[str, list[tuple[str, int, str]]] = {
    "Raised kerbs at Ganjlik bus stops": [
        ("under_review", 3, "Our engineers are measuring every stop at Ganjlik this month."),
        ("accepted", 9, "Accepted: the kerbs at all six Ganjlik stops will be raised to 18 cm."),
        ("implemented", 40, "Done: the six stops were rebuilt in October. Thank you for raising it."),
    ],
    "Audio announcements at major stops": [
        ("partially_accepted", 12, "The 20 busiest stops get audio announcements next year; others later."),
    ],
    "Benches at every stop on Tbilisi Avenue": [
        (
            "rejected",
            20,
            "Most stops on Tbilisi Avenue are too narrow for a bench without blocking wheelchairs; "
            "the four wide ones already have benches.",
        ),
    ],
    "Airport to city centre all night": [
        ("under_review", 5, "The planners are costing a 30-minute night service with the airport."),
        ("accepted", 16, "Accepted: the H1 airport line will run all night from March."),
    ],
    "Night line along the metro's red line": [
        ("under_review", 10, "We are checking night demand along the red line with BakıKart data."),
    ],
    "A protected lane along Neftchilar Avenue": [
        (
            "under_review",
            2,
            "The lane is in the engineers' study; we will answer in full after the support phase.",
        ),
    ],
}

APPEAL_TEXT = "My comment asked a real question about the budget; it was not off topic. Please look again."


@dataclass
class LeadershipReport:
    answers: int = 0
    reports: int = 0
    cases: int = 0
    appeals: int = 0


def load_leadership_demo(session: Session, rng_seed: int = 11) -> LeadershipReport:
    report = LeadershipReport()
    if session.exec(select(ProposalAnswer.id).limit(1)).first() is not None:
        return report
    officials = {
        a.email.split("@")[0]: a
        for a in session.exec(select(Account).where(Account.kind == AccountKind.OFFICIAL)).all()
    }
    rng = random.Random(rng_seed)
    _backdate_proposals(session, rng)
    responder, convener = officials.get("responder"), officials.get("convener")
    if responder is not None and convener is not None:
        _answer(session, responder, convener, report)
    moderator, second = officials.get("moderator"), officials.get("moderator-2")
    egov = officials.get("egov-convener")
    if moderator is not None and second is not None:
        _reports(session, rng, report)
        _appealed_decision(session, moderator, report)
    if egov is not None:
        _pre_moderation(session, egov, report)
    _backdate_cases(session, rng)
    return report


def _backdate_proposals(session: Session, rng: random.Random) -> None:
    now = utcnow()
    for consultation in session.exec(select(Consultation)).all():
        oldest, newest = _SUBMITTED_DAYS_AGO[Phase(consultation.phase)]
        for proposal in session.exec(
            select(Proposal).where(Proposal.consultation_id == consultation.id)
        ).all():
            proposal.created_at = now - timedelta(days=rng.uniform(newest, oldest))
            session.add(proposal)
    session.flush()


def _answer(session: Session, responder: Account, convener: Account, report: LeadershipReport) -> None:
    for title, steps in ANSWERS.items():
        proposal = session.exec(select(Proposal).where(Proposal.title == title)).first()
        if proposal is None or proposal.id is None:
            continue
        for status, days_after, text in steps:
            official = responder if report.answers % 2 == 0 else convener  # both answer in public
            answer = answers.answer_proposal(
                session, official, proposal.id, AnswerInput(status=status, text=text)
            )
            # The demo's history: this answer was given `days_after` the proposal was submitted.
            answer.created_at = proposal.created_at + timedelta(days=days_after, hours=3)
            session.add(answer)
            report.answers += 1
        first = session.exec(
            select(ProposalAnswer)
            .where(ProposalAnswer.proposal_id == proposal.id)
            .order_by(col(ProposalAnswer.id))
        ).first()
        assert first is not None
        proposal.first_answered_at = first.created_at
        session.add(proposal)
    session.flush()


def _reporters(session: Session, count: int, exclude: set[int]) -> list[Account]:
    """Verified citizens first: their reports weigh more, as a real reliable reporter's would."""
    people = session.exec(
        select(Account)
        .where(
            Account.kind == AccountKind.CITIZEN, Account.verification_level != VerificationLevel.UNVERIFIED
        )
        .order_by(col(Account.id))
    ).all()
    return [p for p in people if p.id not in exclude][:count]


# Comments the demo's citizens report: (text, reason, how many report it, note).
REPORTED = [
    (
        "Cheap bicycles at BikeCity Baku, -40% this week only! Call 055 000 00 00.",
        "spam",
        8,  # reported until its weight hides it automatically
        "An advert, not a comment.",
    ),
    ("Does anyone know when the metro opens on holidays?", "off_topic", 1, ""),
    ("Only an idiot would cycle in this city.", "offensive", 2, "Insults people who cycle."),
]


def _reports(session: Session, rng: random.Random, report: LeadershipReport) -> None:
    """Comments reported in the cycling consultation: an advert hidden automatically once its
    reports weighed enough (waiting for a moderator to confirm), an off-topic question with one
    report, an insult with two."""
    rows = session.exec(
        select(Proposal, Consultation)
        .join(Consultation, col(Consultation.id) == Proposal.consultation_id)
        .where(
            Consultation.title == "Safe cycling in central Baku", Proposal.status == ProposalStatus.PUBLISHED
        )
        .order_by(col(Proposal.id))
    ).all()
    people = session.exec(
        select(Account).where(Account.kind == AccountKind.CITIZEN).order_by(col(Account.id))
    ).all()
    if not rows or len(people) < 12:
        return
    for (proposal, consultation), (text, reason, count, note) in zip(rows, REPORTED, strict=False):
        author = people[-1 - rng.randrange(5)]
        comment = actions.do_post_comment(
            session, author, proposal, consultation, CommentInput(body=text), None
        )
        assert comment.id is not None
        for reporter in _reporters(session, count, {author.id or 0}):
            if comment.status != CommentStatus.PUBLISHED:
                break  # hidden automatically once the reports weighed enough
            reports.file_report(
                session, reporter, "comment", comment.id, ReportInput(reason=reason, note=note)
            )
            session.refresh(comment)
            report.reports += 1
        report.cases += 1


def _appealed_decision(session: Session, moderator: Account, report: LeadershipReport) -> None:
    """A comment the moderator hid in the night-bus consultation; its author appealed, so the
    appeal waits for the other moderator."""
    comment = session.exec(
        select(Comment)
        .join(Proposal, col(Proposal.id) == Comment.proposal_id)
        .join(Consultation, col(Consultation.id) == Proposal.consultation_id)
        .where(Consultation.title == "Night bus routes", Comment.status == CommentStatus.PUBLISHED)
        .order_by(col(Comment.id))
    ).first()
    if comment is None or comment.id is None:
        return
    case = moderation.moderate_item(
        session,
        moderator,
        ItemDecisionInput(
            item_kind="comment",
            item_id=comment.id,
            decision="hide",
            reason="Off topic: this thread is about routes.",
        ),
    )
    author = session.get(Account, comment.author_id)
    assert case.id is not None
    appeals.file_appeal(session, author, case.id, AppealInput(text=APPEAL_TEXT))
    report.cases += 1
    report.appeals += 1


def _pre_moderation(session: Session, convener: Account, report: LeadershipReport) -> None:
    """The e-government consultation is pre-moderated: approve its first proposal, leave the
    others in the queue."""
    consultation = session.exec(
        select(Consultation).where(col(Consultation.title).startswith("Rəqəmsal"))
    ).first()
    if consultation is None:
        return
    pending = session.exec(
        select(Proposal)
        .where(Proposal.consultation_id == consultation.id, Proposal.status == ProposalStatus.PENDING)
        .order_by(col(Proposal.id))
    ).all()
    for index, proposal in enumerate(pending):
        assert proposal.id is not None
        case = moderation.open_pre_moderation_case(session, proposal.id)
        report.cases += 1
        if index == 0 and case is not None and case.id is not None:
            moderation.decide(
                session,
                convener,
                case.id,
                DecisionInput(decision="approve", reason="Clear and within scope."),
            )


def _backdate_cases(session: Session, rng: random.Random) -> None:
    """Cases opened when their items were written; decided ones a few hours later."""
    now = utcnow()
    for case in session.exec(select(ModerationCase)).all():
        case.opened_at = now - timedelta(hours=rng.uniform(6, 60))
        if case.decided_at is not None:
            case.decided_at = case.opened_at + timedelta(hours=rng.uniform(1, 20))
        session.add(case)
    session.flush()
