"""Events participation emits, with the topics each goes to.

Payloads carry ids, public titles and public author ids (authors are shown on their proposals);
never who supported what: supporters are the envelope's actor, which the realtime hub does not
put on public topics.
"""

from __future__ import annotations

from pydantic import BaseModel

from civic.events import topics
from civic.events.envelope import event_type

# Statuses anyone may see; a proposal in any other (pending, retracted, hidden, rejected) is
# news only to its author and the agency's moderators, and its title must not go further.
# Plain strings, not models.ProposalStatus: other modules import this file and must not load
# participation's tables through it.
_PUBLIC_STATUSES = ("published", "withdrawn")


class ConsultationChanged(BaseModel):
    consultation_id: int
    agency_id: int
    title: str
    phase: str
    previous_phase: str | None = None


def _consultation_topics(d: ConsultationChanged) -> list[str]:
    return [
        topics.consultation(d.consultation_id),
        topics.agency_dashboard(d.agency_id),
        topics.GLOBAL_DASHBOARD,
    ]


CONSULTATION_PUBLISHED = event_type(
    "consultation.published", ConsultationChanged, topics=_consultation_topics
)
CONSULTATION_PHASE_CHANGED = event_type(
    "consultation.phase_changed", ConsultationChanged, topics=_consultation_topics
)
# A published consultation's text or rules changed (drafts are edited silently: nobody follows them).
CONSULTATION_EDITED = event_type("consultation.edited", ConsultationChanged, topics=_consultation_topics)


class ProposalChanged(BaseModel):
    proposal_id: int
    consultation_id: int
    agency_id: int
    author_id: int
    title: str
    status: str


def _proposal_topics(d: ProposalChanged) -> list[str]:
    if d.status not in _PUBLIC_STATUSES:
        return [topics.user(d.author_id), topics.agency_moderation(d.agency_id)]
    return [
        topics.proposal(d.proposal_id),
        topics.consultation(d.consultation_id),
        topics.agency_dashboard(d.agency_id),
        topics.agency_moderation(d.agency_id),
    ]


PROPOSAL_SUBMITTED = event_type("proposal.submitted", ProposalChanged, topics=_proposal_topics)
PROPOSAL_EDITED = event_type("proposal.edited", ProposalChanged, topics=_proposal_topics)
PROPOSAL_WITHDRAWN = event_type("proposal.withdrawn", ProposalChanged, topics=_proposal_topics)


class SupportChanged(BaseModel):
    proposal_id: int
    consultation_id: int
    agency_id: int
    author_id: int
    support_count: int


def _support_topics(d: SupportChanged) -> list[str]:
    return [
        topics.proposal(d.proposal_id),
        topics.consultation(d.consultation_id),
        topics.agency_dashboard(d.agency_id),
        topics.GLOBAL_DASHBOARD,
    ]


PROPOSAL_SUPPORTED = event_type(
    "proposal.supported", SupportChanged, topics=_support_topics, actor_public=False
)
PROPOSAL_UNSUPPORTED = event_type(
    "proposal.unsupported", SupportChanged, topics=_support_topics, actor_public=False
)


class ThresholdReached(BaseModel):
    proposal_id: int
    consultation_id: int
    agency_id: int
    author_id: int
    support_count: int
    threshold: int


PROPOSAL_THRESHOLD_REACHED = event_type(
    "proposal.threshold_reached",
    ThresholdReached,
    topics=lambda d: [
        topics.proposal(d.proposal_id),
        topics.consultation(d.consultation_id),
        topics.user(d.author_id),
        topics.agency_dashboard(d.agency_id),
    ],
)


class CommentChanged(BaseModel):
    comment_id: int
    proposal_id: int
    consultation_id: int
    agency_id: int
    parent_id: int | None
    author_id: int
    proposal_author_id: int
    depth: int


def _comment_topics(d: CommentChanged) -> list[str]:
    return [
        topics.proposal(d.proposal_id),
        topics.consultation(d.consultation_id),
        topics.agency_dashboard(d.agency_id),
    ]


COMMENT_POSTED = event_type("comment.posted", CommentChanged, topics=_comment_topics)
COMMENT_EDITED = event_type("comment.edited", CommentChanged, topics=_comment_topics)
COMMENT_DELETED = event_type("comment.deleted", CommentChanged, topics=_comment_topics)


# ---- moderation and official answers (written here, decided by leadership) -----------------
#
# The reason a moderator gives is not in these payloads: leadership's `moderation.decided` carries
# it to the author and the moderators only. These tell every module what changed.

PROPOSAL_APPROVED = event_type("proposal.approved", ProposalChanged, topics=_proposal_topics)
PROPOSAL_REJECTED = event_type("proposal.rejected", ProposalChanged, topics=_proposal_topics)
PROPOSAL_HIDDEN = event_type("proposal.hidden", ProposalChanged, topics=_proposal_topics)
PROPOSAL_RESTORED = event_type("proposal.restored", ProposalChanged, topics=_proposal_topics)

COMMENT_HIDDEN = event_type("comment.hidden", CommentChanged, topics=_comment_topics)
COMMENT_RESTORED = event_type("comment.restored", CommentChanged, topics=_comment_topics)


class ProposalAnswered(BaseModel):
    answer_id: int
    proposal_id: int
    consultation_id: int
    agency_id: int
    author_id: int
    title: str
    answer: str  # the new AnswerStatus
    previous_answer: str | None
    official_id: int
    first: bool  # the proposal's first answer


PROPOSAL_ANSWERED = event_type(
    "proposal.answered",
    ProposalAnswered,
    topics=lambda d: [
        topics.proposal(d.proposal_id),
        topics.consultation(d.consultation_id),
        topics.user(d.author_id),
        topics.agency_dashboard(d.agency_id),
    ],
)
