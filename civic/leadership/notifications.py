"""Each account's inbox: what officials decided about what one wrote or supported.

A notification is written by a handler from an event, once per (event, account): the unique
constraint and `INSERT … ON CONFLICT DO NOTHING` make a replayed event, a job run twice or two
racing deliveries notify once. Every new notification emits `notification.created` on the
account's own topic, so an open page can show it at once; the event carries no body (a title and
a link), and only its addressee may follow that topic.

What each event says to whom is decided here too (`notify_*`), so the handler stays wiring, and
so are each person's preferences: which kinds appear as a toast on an open page, and which go into
the e-mail digest (`civic.leadership.digest`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from civic.clock import utcnow
from civic.errors import NotAuthenticated
from civic.events.envelope import Envelope, emit
from civic.i18n import N_, _, using
from civic.identity.models import Account
from civic.leadership.events import (
    MODERATION_APPEAL_DECIDED,
    MODERATION_AUTO_HIDDEN,
    MODERATION_DECIDED,
    NOTIFICATION_CREATED,
    NotificationCreated,
)
from civic.leadership.labels import ANSWER_WORDS, word
from civic.leadership.models import ModerationCase, Notification, NotificationSettings
from civic.leadership.reports import AUTO_HIDE_REASON
from civic.participation.events import PROPOSAL_ANSWERED
from civic.participation.models import Comment, ProposalAnswer, Support

PER_PAGE = 20
TITLE_MAX = 300


@dataclass
class InboxPage:
    items: list[Notification]
    total: int
    unread: int
    page: int
    pages: int


def do_notify(
    session: Session,
    account_id: int,
    event_id: str,
    kind: str,
    title: str,
    body: str,
    url: str,
) -> Notification | None:
    """Put one message in one inbox for one event; None if this event already notified them."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1] + "…"
    # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT DO NOTHING.
    inserted = session.execute(
        insert(Notification)
        .values(
            account_id=account_id,
            event_id=event_id,
            kind=kind,
            title=title,
            body=body,
            url=url[:300],
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["event_id", "account_id"])
        .returning(Notification.id)
    ).first()
    if inserted is None:
        return None
    notification = session.get(Notification, inserted[0])
    assert notification is not None and notification.id is not None
    emit(
        session,
        NOTIFICATION_CREATED,
        NotificationCreated(
            notification_id=notification.id,
            account_id=account_id,
            kind=kind,
            title=notification.title,
            url=notification.url,
        ),
        actor_id=None,
    )
    return notification


# ---- reading and marking --------------------------------------------------------------------


def _me(actor: Account | None) -> int:
    if actor is None or actor.id is None:
        raise NotAuthenticated(_("Log in to read your notifications."))
    return actor.id


def unread_count(session: Session, account_id: int) -> int:
    query = select(func.count()).where(
        Notification.account_id == account_id, col(Notification.read_at).is_(None)
    )
    return int(session.exec(query).one())


def inbox(session: Session, actor: Account | None, *, page: int = 1, unread_only: bool = False) -> InboxPage:
    """The actor's notifications, newest first, a page at a time (a page past the end is the last)."""
    account_id = _me(actor)
    where = [Notification.account_id == account_id]
    if unread_only:
        where.append(col(Notification.read_at).is_(None))
    total = int(session.exec(select(func.count()).select_from(Notification).where(*where)).one())
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(1, page), pages)
    items = session.exec(
        select(Notification)
        .where(*where)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    return InboxPage(
        items=list(items), total=total, unread=unread_count(session, account_id), page=page, pages=pages
    )


def mark_read(session: Session, actor: Account | None, notification_ids: list[int] | None) -> int:
    """Mark the actor's notifications read (None: all of them); returns how many changed.

    Ids of other accounts' notifications are ignored, not refused: saying "not yours" would confirm
    that the id exists.
    """
    account_id = _me(actor)
    query = update(Notification).where(
        col(Notification.account_id) == account_id, col(Notification.read_at).is_(None)
    )
    if notification_ids is not None:
        if not notification_ids:
            return 0
        query = query.where(col(Notification.id).in_(notification_ids))
    # The ORM's default synchronisation updates any of these already loaded in the session.
    result = session.execute(query.values(read_at=utcnow()))
    return max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]


# ---- what each event tells whom -------------------------------------------------------------


def proposal_url(proposal_id: int) -> str:
    return f"/proposals/{proposal_id}"


def item_url(session: Session, item_kind: str, item_id: int) -> str:
    """Where the author reads about an item: a proposal's page; for a comment, its proposal's page."""
    if item_kind == "comment":
        comment = session.get(Comment, item_id)
        if comment is None:
            return ""
        return f"{proposal_url(comment.proposal_id)}#comment-{item_id}"
    return proposal_url(item_id)


def language_of(session: Session, account_id: int) -> str | None:
    """The language the account reads its notifications in (None: the default)."""
    account = session.get(Account, account_id)
    return account.language if account is not None else None


_ANSWERED = {
    # (the author?, what changed) -> the title
    (True, "first"): N_('Your proposal "%(title)s" was answered: %(status)s'),
    (True, "updated"): N_('Your proposal "%(title)s": the official answer was updated (%(status)s)'),
    (True, "status"): N_('Your proposal "%(title)s": status changed from %(before)s to %(status)s'),
    (False, "first"): N_('The proposal you support "%(title)s" was answered: %(status)s'),
    (False, "updated"): N_(
        'The proposal you support "%(title)s": the official answer was updated (%(status)s)'
    ),
    (False, "status"): N_(
        'The proposal you support "%(title)s": status changed from %(before)s to %(status)s'
    ),
}


def notify_answer(session: Session, event: Envelope) -> int:
    """The author and every current supporter hear of the answer and of every later change, each
    in their own language; the official who answered is not told of their own answer. Returns how
    many were notified."""
    data = event.payload(PROPOSAL_ANSWERED)
    answer = session.get(ProposalAnswer, data.answer_id)
    signed = f"{answer.official_name}, {answer.agency_name}" if answer else ""
    body = f"{answer.text}\n\n— {signed}" if answer else ""
    supporters = session.exec(
        select(Support.account_id).where(Support.proposal_id == data.proposal_id).order_by(col(Support.id))
    ).all()
    recipients = [a for a in dict.fromkeys([data.author_id, *supporters]) if a != data.official_id]
    changed = not data.first and data.previous_answer is not None
    what = "first" if not changed else "updated" if data.previous_answer == data.answer else "status"
    languages = dict(
        session.exec(select(Account.id, Account.language).where(col(Account.id).in_(recipients))).all()
    )
    count = 0
    for account_id in recipients:
        with using(languages.get(account_id)):
            title = _(
                _ANSWERED[(account_id == data.author_id, what)],
                title=data.title,
                status=word(ANSWER_WORDS, data.answer),
                before=word(ANSWER_WORDS, data.previous_answer),
            )
        if do_notify(
            session, account_id, event.id, "proposal.answered", title, body, proposal_url(data.proposal_id)
        ):
            count += 1
    return count


_DECIDED = {
    "approve": N_("%(subject)s was approved and is now public"),
    "reject": N_("%(subject)s was not accepted"),
    "hide": N_("%(subject)s was hidden by a moderator"),
    "restore": N_("%(subject)s was restored"),
    "keep": N_("%(subject)s was reviewed and restored"),
}


def _case_title(session: Session, case_id: int, item_kind: str) -> str:
    """The subject of the author's notification (`Your proposal "…"`), in the current language."""
    case = session.get(ModerationCase, case_id)
    comment = item_kind == "comment"
    if case and case.title:
        if comment:
            return _('Your comment "%(title)s"', title=case.title)
        return _('Your proposal "%(title)s"', title=case.title)
    return _("Your comment") if comment else _("Your proposal")


def _reason_body(reason: str | None) -> str:
    if not reason:
        return ""
    return _("The moderator's reason: %(reason)s", reason=shown_reason(reason))


def shown_reason(reason: str) -> str:
    """A moderation reason as its reader sees it: the automatic one is ours to translate."""
    return _(AUTO_HIDE_REASON) if reason == AUTO_HIDE_REASON else reason


def notify_moderation_decided(session: Session, event: Envelope) -> Notification | None:
    """The author learns the decision and the moderator's reason, in their language. Reports
    dismissed on an item that stayed visible ("keep" on a case that did not hide it) tell the
    author nothing: nothing happened to what they wrote."""
    data = event.payload(MODERATION_DECIDED)
    decision = data.decision or ""
    if decision == "keep":
        case = session.get(ModerationCase, data.case_id)
        if case is None or not case.auto_hidden:
            return None
    with using(language_of(session, data.author_id)):
        subject = _case_title(session, data.case_id, data.item_kind)
        if decision in _DECIDED:
            title = _(_DECIDED[decision], subject=subject)
        else:
            title = _("%(subject)s was moderated (%(decision)s)", subject=subject, decision=decision)
        body = _reason_body(data.reason)
    url = item_url(session, data.item_kind, data.item_id)
    return do_notify(session, data.author_id, event.id, "moderation.decided", title, body, url)


def notify_auto_hidden(session: Session, event: Envelope) -> Notification | None:
    data = event.payload(MODERATION_AUTO_HIDDEN)
    with using(language_of(session, data.author_id)):
        subject = _case_title(session, data.case_id, data.item_kind)
        title = _("%(subject)s was hidden after reports", subject=subject)
        body = shown_reason(data.reason or AUTO_HIDE_REASON)
    url = item_url(session, data.item_kind, data.item_id)
    return do_notify(session, data.author_id, event.id, "moderation.auto_hidden", title, body, url)


_APPEAL = {
    "upheld": N_("Your appeal was decided: the decision stands"),
    "overturned": N_("Your appeal was decided: the decision was reversed"),
}


def notify_appeal_decided(session: Session, event: Envelope) -> Notification | None:
    data = event.payload(MODERATION_APPEAL_DECIDED)
    with using(language_of(session, data.appellant_id)):
        if data.state in _APPEAL:
            title = _(_APPEAL[data.state])
        else:
            title = _("Your appeal was decided (%(state)s)", state=data.state)
        body = _reason_body(data.reason)
    case = session.get(ModerationCase, data.case_id)
    url = item_url(session, case.item_kind, case.item_id) if case else ""
    return do_notify(session, data.appellant_id, event.id, "moderation.appeal_decided", title, body, url)


# ---- preferences -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A kind of news a person can switch: as a toast on an open page, and/or in the e-mail digest.
    Kinds that never become a notification row (a badge, a data request) have no digest switch."""

    name: str
    label: str  # marked with N_; translate where shown
    email: bool = True


KINDS: tuple[Kind, ...] = (
    Kind("proposal.answered", N_("Answers to proposals you wrote or support")),
    Kind("moderation.decided", N_("Moderators' decisions about what you wrote")),
    Kind("moderation.auto_hidden", N_("What you wrote was hidden after reports")),
    Kind("moderation.appeal_decided", N_("Decisions on your appeals")),
    Kind("badge.earned", N_("Badges you earn"), email=False),
    Kind("disclosure.requested", N_("Requests to see your personal data"), email=False),
)
KIND_NAMES = frozenset(k.name for k in KINDS)


def settings_of(session: Session, account_id: int) -> NotificationSettings:
    """The account's settings; an unsaved default (everything on) when it never chose."""
    row = session.get(NotificationSettings, account_id)
    return row or NotificationSettings(account_id=account_id, updated_at=utcnow())


def save_preferences(
    session: Session, actor: Account | None, *, toast: set[str], email: set[str]
) -> NotificationSettings:
    """Store which kinds the actor wants as toasts and in the digest (the others are switched
    off). Unknown kind names are ignored: a stale form must not fail. An upsert, so two tabs
    saving at once cannot collide on the first save."""
    account_id = _me(actor)
    no_toast = sorted(k.name for k in KINDS if k.name not in toast)
    no_email = sorted(k.name for k in KINDS if k.email and k.name not in email)
    now = utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(NotificationSettings).values(
        account_id=account_id, no_toast=no_toast, no_email=no_email, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["account_id"],
            set_={"no_toast": no_toast, "no_email": no_email, "updated_at": now},
        )
    )
    row = session.get(NotificationSettings, account_id)
    assert row is not None
    session.refresh(row)
    return row


def live_state(session: Session, actor: Account | None) -> dict[str, object]:
    """What an open page needs to keep the nav's unread count and show toasts: the count now,
    and the kinds not to toast."""
    account_id = _me(actor)
    return {
        "unread": unread_count(session, account_id),
        "no_toast": settings_of(session, account_id).no_toast,
    }
