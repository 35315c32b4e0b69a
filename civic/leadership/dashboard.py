"""What the live dashboards show: an agency's for its officials, and the public one.

Counters come from the records themselves (what happened today, since midnight UTC, in the
agency's consultations and those of every unit below it), never from counting events in the
browser, so a page that missed an event still shows the truth when it refreshes. The chart and
the feed read the outbox, the same events the pages receive live, filtered by the topics the
dashboard follows; the public dashboard counts only events that went to a consultation's topic
(anyone may follow those) and shows numbers, never who did what.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, union
from sqlmodel import Session, col, select

from civic.clock import as_utc, utcnow
from civic.errors import NotFound
from civic.events import topics
from civic.events.models import OutboxEvent
from civic.i18n import N_, _
from civic.identity.authorization import Permission, Target, authorize, is_allowed
from civic.identity.models import Account, Agency
from civic.leadership import moderation
from civic.leadership.labels import ANSWER_WORDS, DECISION_WORDS, PHASE_WORDS, REASON_WORDS, word
from civic.leadership.models import CaseState, ModerationCase, Report
from civic.participation.models import Comment, CommentStatus, Consultation, Proposal, Support

WINDOW_MINUTES = 30
FEED_SIZE = 15
FEED_SCAN = 400  # recent outbox rows looked through for the feed
MAX_LIVE_AGENCIES = 40  # 2 topics each; a socket follows at most 100
PUBLIC_STATUSES = ("published", "withdrawn")
PUBLIC_ACTIVITY = ("proposal.submitted", "proposal.supported", "comment.posted", "proposal.answered")


@dataclass
class Minute:
    start: datetime
    count: int


@dataclass
class FeedItem:
    at: datetime
    type: str
    text: str
    link: str = ""


@dataclass
class AgencyDashboard:
    agency: Agency
    counters: dict[str, int]
    minutes: list[Minute]
    feed: list[FeedItem]
    can_moderate: bool
    queue: list[ModerationCase] = field(default_factory=list)
    queue_total: int = 0
    topics: list[str] = field(default_factory=list)
    live_partial: bool = False  # too many units to follow live: the page polls instead


@dataclass
class PublicDashboard:
    counters: dict[str, int]
    minutes: list[Minute]


def midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


# ---- counting --------------------------------------------------------------------------------


def _consultations(agencies: set[int] | None) -> Any:
    query = select(Consultation.id)
    return query if agencies is None else query.where(col(Consultation.agency_id).in_(agencies))


def _proposals(agencies: set[int] | None) -> Any:
    return select(Proposal.id).where(col(Proposal.consultation_id).in_(_consultations(agencies)))


def activity_counters(
    session: Session, agencies: set[int] | None, since: datetime, *, public: bool
) -> dict[str, int]:
    """Participants, proposals, comments and supports since `since`; `agencies` None: everywhere.
    `public` counts only what anyone can see (published or withdrawn proposals, published comments)."""
    proposal_where = [
        col(Proposal.consultation_id).in_(_consultations(agencies)),
        col(Proposal.created_at) >= since,
    ]
    comment_where = [col(Comment.proposal_id).in_(_proposals(agencies)), col(Comment.created_at) >= since]
    if public:
        proposal_where.append(col(Proposal.status).in_(PUBLIC_STATUSES))
        comment_where.append(col(Comment.status) == CommentStatus.PUBLISHED)
    support_where = [col(Support.proposal_id).in_(_proposals(agencies)), col(Support.created_at) >= since]
    people = union(
        select(Proposal.author_id.label("who")).where(*proposal_where),  # type: ignore[attr-defined]
        select(Comment.author_id.label("who")).where(*comment_where),  # type: ignore[attr-defined]
        select(Support.account_id.label("who")).where(*support_where),  # type: ignore[attr-defined]
    ).subquery()

    def count(query: Any) -> int:
        return int(session.exec(query).one())

    return {
        "participants": count(select(func.count()).select_from(people)),
        "proposals": count(select(func.count()).select_from(Proposal).where(*proposal_where)),
        "comments": count(select(func.count()).select_from(Comment).where(*comment_where)),
        "supports": count(select(func.count()).select_from(Support).where(*support_where)),
    }


def per_minute(times: Iterable[datetime], now: datetime, minutes: int = WINDOW_MINUTES) -> list[Minute]:
    """`minutes` one-minute buckets ending with the current minute, oldest first."""
    end = now.replace(second=0, microsecond=0)
    buckets = [Minute(end - timedelta(minutes=minutes - 1 - i), 0) for i in range(minutes)]
    first = buckets[0].start
    for at in times:
        index = int((as_utc(at) - first).total_seconds() // 60)
        if 0 <= index < minutes:
            buckets[index].count += 1
    return buckets


def _recent_events(session: Session, since: datetime) -> list[OutboxEvent]:
    return list(session.exec(select(OutboxEvent).where(col(OutboxEvent.occurred_at) >= since)).all())


# ---- the feed --------------------------------------------------------------------------------

_PROPOSAL_LINES = {
    "proposal.edited": N_('Proposal edited: "%(title)s"'),
    "proposal.withdrawn": N_('Proposal withdrawn: "%(title)s"'),
    "proposal.approved": N_('Proposal approved: "%(title)s"'),
    "proposal.rejected": N_('Proposal rejected: "%(title)s"'),
    "proposal.hidden": N_('Proposal hidden: "%(title)s"'),
    "proposal.restored": N_('Proposal restored: "%(title)s"'),
}
_COMMENT_LINES = {
    "comment.posted": N_('New comment on "%(title)s"'),
    "comment.edited": N_('Comment edited on "%(title)s"'),
    "comment.deleted": N_('Comment deleted on "%(title)s"'),
    "comment.hidden": N_('Comment hidden on "%(title)s"'),
    "comment.restored": N_('Comment restored on "%(title)s"'),
}
_MODERATION_WORDS = {
    "case_opened": N_("case opened"),
    "auto_hidden": N_("auto hidden"),
    "decided": N_("decided"),
    "appealed": N_("appealed"),
    "appeal_decided": N_("appeal decided"),
    "account_blocked": N_("account blocked"),
    "account_unblocked": N_("account unblocked"),
}
_CONSULTATION_LINES = {
    "consultation.published": N_('Consultation "%(title)s": published (%(phase)s)'),
    "consultation.phase_changed": N_('Consultation "%(title)s": phase changed (%(phase)s)'),
    "consultation.edited": N_('Consultation "%(title)s": edited (%(phase)s)'),
}


def _event_word(kind: str) -> str:
    """The part after the dot, as words: "moderation.auto_hidden" -> "auto hidden"."""
    return kind.split(".", 1)[1].replace("_", " ")


def describe(event: OutboxEvent, titles: dict[int, str]) -> FeedItem:
    """One line an official reads in the feed, in the reader's language; never who supported or
    reported."""
    d = event.data
    kind = event.type
    pid = d.get("proposal_id")
    title = d.get("title") or titles.get(pid or 0, f"#{pid}")
    link = f"/proposals/{pid}" if pid else ""
    if kind == "proposal.submitted":
        if d.get("status") == "pending":
            text = _('New proposal: "%(title)s" (awaiting moderation)', title=title)
        else:
            text = _('New proposal: "%(title)s"', title=title)
    elif kind in _PROPOSAL_LINES:
        text = _(_PROPOSAL_LINES[kind], title=title)
    elif kind in ("proposal.supported", "proposal.unsupported"):
        count = d.get("support_count")
        if kind == "proposal.supported":
            text = _('Support for "%(title)s" (now %(count)s)', title=title, count=count)
        else:
            text = _('Support withdrawn from "%(title)s" (now %(count)s)', title=title, count=count)
    elif kind == "proposal.threshold_reached":
        text = _(
            '"%(title)s" reached its support threshold (%(threshold)s)',
            title=title,
            threshold=d.get("threshold"),
        )
    elif kind == "proposal.answered":
        answer = str(d.get("answer", ""))
        status = word(ANSWER_WORDS, answer) if answer in ANSWER_WORDS else answer.replace("_", " ")
        text = _('"%(title)s" answered: %(status)s', title=title, status=status)
    elif kind in _COMMENT_LINES:
        text = _(_COMMENT_LINES[kind], title=title)
        link = f"{link}#comment-{d.get('comment_id')}" if link else ""
    elif kind == "report.filed":
        reason = str(d.get("reason", ""))
        reason = word(REASON_WORDS, reason) if reason in REASON_WORDS else reason.replace("_", " ")
        if d.get("item_kind") == "comment":
            text = _("Report of a comment (%(reason)s)", reason=reason)
        elif d.get("item_kind") == "proposal":
            text = _("Report of a proposal (%(reason)s)", reason=reason)
        else:
            text = _("Report of a %(kind)s (%(reason)s)", kind=d.get("item_kind"), reason=reason)
        link = f"/moderation/cases/{d.get('case_id')}"
    elif kind.startswith("moderation."):
        what = kind.split(".", 1)[1]
        what = _(_MODERATION_WORDS[what]) if what in _MODERATION_WORDS else _event_word(kind)
        if d.get("decision"):
            text = _(
                "Moderation, %(what)s: %(decision)s", what=what, decision=word(DECISION_WORDS, d["decision"])
            )
        else:
            text = _("Moderation, %(what)s", what=what)
        link = f"/moderation/cases/{d['case_id']}" if d.get("case_id") else ""
    elif kind.startswith("consultation."):
        phase = d.get("phase")
        phase = word(PHASE_WORDS, phase) if phase in PHASE_WORDS else phase
        if kind in _CONSULTATION_LINES:
            text = _(_CONSULTATION_LINES[kind], title=title, phase=phase)
        else:
            text = _(
                'Consultation "%(title)s": %(what)s (%(phase)s)',
                title=title,
                what=_event_word(kind),
                phase=phase,
            )
        link = f"/consultations/{d.get('consultation_id')}"
    else:
        text = kind
    return FeedItem(at=as_utc(event.occurred_at), type=kind, text=text, link=link)


def feed(session: Session, wanted: set[str], size: int = FEED_SIZE) -> list[FeedItem]:
    rows = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq).desc()).limit(FEED_SCAN)).all()
    chosen = [r for r in rows if wanted.intersection(r.topics)][:size]
    missing = {
        int(r.data["proposal_id"]) for r in chosen if r.data.get("proposal_id") and not r.data.get("title")
    }
    titles = (
        dict(session.exec(select(Proposal.id, Proposal.title).where(col(Proposal.id).in_(missing))).all())
        if missing
        else {}
    )
    return [describe(r, titles) for r in chosen]


# ---- the two dashboards ----------------------------------------------------------------------


def agency_dashboard(
    session: Session, actor: Account | None, agency_id: int, *, now: datetime | None = None
) -> AgencyDashboard:
    """The agency's dashboard (and its units'), for holders of dashboard.view on it; the queue
    only for its moderators."""
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(_("There is no agency %(id)s.", id=agency_id))
    authorize(session, actor, Permission.VIEW_DASHBOARD, Target(agency_id=agency_id))
    now = now or utcnow()
    agencies = moderation.agency_subtree(session, agency_id)
    can_moderate = is_allowed(session, actor, Permission.MODERATE, Target(agency_id=agency_id))
    wanted = {topics.agency_dashboard(a) for a in agencies} | {topics.agency_moderation(a) for a in agencies}
    counters = activity_counters(session, agencies, midnight(now), public=False)
    counters["reports"] = int(
        session.exec(
            select(func.count())
            .select_from(Report)
            .where(col(Report.agency_id).in_(agencies), col(Report.created_at) >= midnight(now))
        ).one()
    )
    counters["open_cases"] = int(
        session.exec(
            select(func.count())
            .select_from(ModerationCase)
            .where(col(ModerationCase.agency_id).in_(agencies), ModerationCase.state == CaseState.OPEN)
        ).one()
    )
    since = now - timedelta(minutes=WINDOW_MINUTES)
    minutes = per_minute(
        (e.occurred_at for e in _recent_events(session, since) if wanted.intersection(e.topics)), now
    )
    dashboard = AgencyDashboard(
        agency=agency,
        counters=counters,
        minutes=minutes,
        feed=feed(session, wanted),
        can_moderate=can_moderate,
    )
    if can_moderate:
        page = moderation.queue(session, actor, agency_id=agency_id)
        dashboard.queue, dashboard.queue_total = page.items[:10], page.total
    followed = sorted(agencies)[:MAX_LIVE_AGENCIES]
    dashboard.live_partial = len(agencies) > MAX_LIVE_AGENCIES
    dashboard.topics = [topics.agency_dashboard(a) for a in followed]
    if can_moderate:
        dashboard.topics += [topics.agency_moderation(a) for a in followed]
    return dashboard


def public_dashboard(session: Session, *, now: datetime | None = None) -> PublicDashboard:
    """Platform-wide numbers anyone may see: open consultations and today's public activity."""
    now = now or utcnow()
    counters = activity_counters(session, None, midnight(now), public=True)
    counters["consultations"] = int(
        session.exec(
            select(func.count())
            .select_from(Consultation)
            .where(Consultation.status == "published", col(Consultation.phase) != "closed")
        ).one()
    )
    since = now - timedelta(minutes=WINDOW_MINUTES)
    public = [
        e.occurred_at
        for e in _recent_events(session, since)
        if e.type in PUBLIC_ACTIVITY and any(t.startswith("consultation:") for t in e.topics)
    ]
    return PublicDashboard(counters=counters, minutes=per_minute(public, now))
