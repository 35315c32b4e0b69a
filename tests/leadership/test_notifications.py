"""Closing the loop: the author and supporters of a proposal hear of its answer and of every later
status change; authors hear of moderation decisions (with the moderator's reason), appellants of
their appeal. Once per event and person, however often the event is delivered; each new message
goes to its addressee's own topic."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from civic.clock import utcnow
from civic.errors import NotAuthenticated
from civic.events.envelope import emit
from civic.events.handlers import RetryPolicy, run_delivery
from civic.events.models import HandlerDelivery
from civic.identity.models import Account
from civic.leadership import notifications, reports
from civic.leadership.events import (
    MODERATION_APPEAL_DECIDED,
    MODERATION_AUTO_HIDDEN,
    MODERATION_DECIDED,
    AppealChanged,
    CaseChanged,
)
from civic.leadership.handlers import NOTIFY, notify
from civic.leadership.models import ModerationCase, Notification
from civic.leadership.schemas import ItemDecisionInput
from civic.participation import actions
from civic.participation.models import Phase, Proposal, Support
from civic.runtime import Runtime
from tests.events.conftest import published
from tests.leadership._answers_support import (
    ANSWER_TEXT,
    answer,
    count,
    envelopes,
    notifications_of,
    responder,
    settled,
)
from tests.leadership.conftest import Scene, comment, proposal
from tests.participation.conftest import set_phase, support


@pytest.fixture
def answered(runtime: Runtime, scene: Scene) -> dict[str, Any]:
    """Leyla's proposal, supported by Kamal and Rashad (Aysel supports another one), answered
    "under review" by a responder; the bus settled."""
    w = scene.world
    resp = responder(runtime, "Responder", w.agency.id)
    p = proposal(runtime, w.leyla, scene.consultation)
    elsewhere = proposal(runtime, w.kamal, scene.consultation, title="Bike lanes")
    set_phase(runtime, w.convener, scene.consultation.id, Phase.SUPPORT)
    support(runtime, w.kamal, p.id)
    support(runtime, w.rashad, p.id)
    support(runtime, w.aysel, elsewhere.id)
    answer(runtime, resp, p.id, "under_review")
    settled(runtime)
    return {"responder": resp, "proposal": p}


def test_the_author_and_every_supporter_hear_of_the_answer(runtime: Runtime, scene: Scene, answered):
    w, p, resp = scene.world, answered["proposal"], answered["responder"]

    [to_author] = notifications_of(runtime, w.leyla)
    assert to_author.kind == "proposal.answered"
    assert to_author.title == f'Your proposal "{p.title}" was answered: under review'
    assert ANSWER_TEXT in to_author.body and "Responder" in to_author.body and w.agency.name in to_author.body
    assert to_author.url == f"/proposals/{p.id}" and to_author.read_at is None
    for supporter in (w.kamal, w.rashad):
        [n] = notifications_of(runtime, supporter)
        assert n.title == f'The proposal you support "{p.title}" was answered: under review'
    assert notifications_of(runtime, w.aysel) == []  # supports another proposal
    assert notifications_of(runtime, resp) == []
    created = [e for e in published(runtime) if e["type"] == "notification.created"]
    assert sorted(e["topics"][0] for e in created) == sorted(
        f"user:{a.id}" for a in (w.leyla, w.kamal, w.rashad)
    )
    mine = next(e for e in created if e["topics"] == [f"user:{w.leyla.id}"])
    assert mine["data"] == {
        "notification_id": to_author.id,
        "account_id": w.leyla.id,
        "kind": "proposal.answered",
        "title": to_author.title,
        "url": f"/proposals/{p.id}",
    }


def test_every_later_status_change_notifies_the_current_supporters(runtime: Runtime, scene: Scene, answered):
    w, p, resp = scene.world, answered["proposal"], answered["responder"]
    with runtime.db.transaction() as s:
        actions.unsupport_proposal(s, w.rashad, p.id)
    support(runtime, w.aysel, p.id)

    answer(runtime, resp, p.id, "accepted", "Accepted: the night lines start in spring.")
    answer(runtime, resp, p.id, "accepted", "Accepted, and the budget for it is approved.")
    settled(runtime)

    assert [n.title for n in notifications_of(runtime, w.leyla)] == [
        f'Your proposal "{p.title}" was answered: under review',
        f'Your proposal "{p.title}": status changed from under review to accepted',
        f'Your proposal "{p.title}": the official answer was updated (accepted)',
    ]
    assert len(notifications_of(runtime, w.kamal)) == 3
    assert len(notifications_of(runtime, w.rashad)) == 1  # stopped supporting before the change
    assert [n.title for n in notifications_of(runtime, w.aysel)] == [
        f'The proposal you support "{p.title}": status changed from under review to accepted',
        f'The proposal you support "{p.title}": the official answer was updated (accepted)',
    ]


def test_a_replayed_event_notifies_nobody_twice(runtime: Runtime, scene: Scene, answered):
    w = scene.world
    before = count(runtime, Notification)
    created_before = len(envelopes(runtime, "notification.created"))
    [event] = envelopes(runtime, "proposal.answered")

    with runtime.db.transaction() as s:  # the handler itself, run again on the same event
        notify(s, event)
    with runtime.db.transaction() as s:  # a re-delivery through the dispatcher
        [delivery] = s.exec(
            select(HandlerDelivery).where(
                HandlerDelivery.handler == NOTIFY, HandlerDelivery.event_seq == event.seq
            )
        ).all()
        assert delivery.status == "done"
        delivery.status = "pending"
        s.add(delivery)
        delivery_id = delivery.id
    assert delivery_id is not None
    assert run_delivery(runtime.db, runtime.handlers, delivery_id, RetryPolicy()) == "done"
    settled(runtime)

    assert count(runtime, Notification) == before == 3
    assert len(envelopes(runtime, "notification.created")) == created_before
    assert len(notifications_of(runtime, w.leyla)) == 1


def test_do_notify_is_idempotent_per_event_and_account(runtime: Runtime, scene: Scene):
    w = scene.world
    with runtime.db.transaction() as s:
        first = notifications.do_notify(s, w.leyla.id, "e-1", "test", "Hello", "", "/x")
        again = notifications.do_notify(s, w.leyla.id, "e-1", "test", "Hello again", "", "/x")
        other = notifications.do_notify(s, w.kamal.id, "e-1", "test", "Hello", "", "/x")
        long = notifications.do_notify(s, w.kamal.id, "e-2", "test", "x" * 400, "", "/x")
    assert first is not None and other is not None and again is None
    assert long is not None and len(long.title) == 300 and long.title.endswith("…")
    assert len(envelopes(runtime, "notification.created")) == 3


# ---- moderation ------------------------------------------------------------------------------


def _case(
    runtime: Runtime, scene: Scene, kind: str, item_id: int, author: Account, **fields: Any
) -> ModerationCase:
    with runtime.db.transaction() as s:
        case = ModerationCase(
            item_kind=kind,
            item_id=item_id,
            agency_id=scene.world.agency.id,
            consultation_id=scene.consultation.id,
            author_id=author.id,
            title=fields.pop("title", "More buses at night"),
            origin="reports",
            opened_at=utcnow(),
            state=fields.pop("state", "decided"),
            **fields,
        )
        s.add(case)
        s.flush()
        return case


def _changed(case: ModerationCase, **fields: Any) -> CaseChanged:
    return CaseChanged(
        case_id=case.id,
        item_kind=case.item_kind,
        item_id=case.item_id,
        agency_id=case.agency_id,
        consultation_id=case.consultation_id,
        author_id=case.author_id,
        origin=case.origin,
        state=fields.pop("state", "decided"),
        **fields,
    )


def _emit(runtime: Runtime, kind: Any, payload: Any, actor_id: int | None = None) -> None:
    with runtime.db.transaction() as s:
        emit(s, kind, payload, actor_id=actor_id)
    settled(runtime)


def test_the_author_hears_each_moderation_decision_with_the_reason(runtime: Runtime, scene: Scene):
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    c = comment(runtime, w.kamal, p.id)
    hide_p = _case(runtime, scene, "proposal", p.id, w.leyla)
    hide_c = _case(runtime, scene, "comment", c.id, w.kamal, title="This is spam, buy now.")

    _emit(runtime, MODERATION_DECIDED, _changed(hide_p, decision="hide", reason="It names a private person."))
    _emit(runtime, MODERATION_DECIDED, _changed(hide_c, decision="hide", reason="Advertising."))

    [to_leyla] = notifications_of(runtime, w.leyla)
    assert to_leyla.kind == "moderation.decided"
    assert to_leyla.title == f'Your proposal "{p.title}" was hidden by a moderator'
    assert to_leyla.body == "The moderator's reason: It names a private person."
    assert to_leyla.url == f"/proposals/{p.id}"
    [to_kamal] = notifications_of(runtime, w.kamal)
    assert to_kamal.title == 'Your comment "This is spam, buy now." was hidden by a moderator'
    assert "Advertising." in to_kamal.body
    assert to_kamal.url == f"/proposals/{p.id}#comment-{c.id}"  # the comment's proposal page


@pytest.mark.parametrize(
    ("decision", "words"),
    [
        ("approve", "was approved and is now public"),
        ("reject", "was not accepted"),
        ("restore", "was restored"),
    ],
)
def test_every_decision_has_its_words(runtime: Runtime, scene: Scene, decision: str, words: str):
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    case = _case(runtime, scene, "proposal", p.id, w.leyla)
    _emit(runtime, MODERATION_DECIDED, _changed(case, decision=decision, reason="Reviewed."))
    [n] = notifications_of(runtime, w.leyla)
    assert n.title == f'Your proposal "{p.title}" {words}' and n.body == "The moderator's reason: Reviewed."


def test_dismissed_reports_tell_the_author_only_if_the_item_had_been_hidden(runtime: Runtime, scene: Scene):
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    quiet = _case(runtime, scene, "proposal", p.id, w.leyla)
    _emit(runtime, MODERATION_DECIDED, _changed(quiet, decision="keep", reason="Nothing wrong here."))
    assert notifications_of(runtime, w.leyla) == []

    hidden = _case(runtime, scene, "proposal", p.id, w.leyla, auto_hidden=True)
    _emit(runtime, MODERATION_DECIDED, _changed(hidden, decision="keep", reason="Nothing wrong here."))
    [n] = notifications_of(runtime, w.leyla)
    assert n.title.endswith("was reviewed and restored") and "Nothing wrong here." in n.body


def test_the_author_hears_of_an_automatic_hide_and_the_appellant_of_the_appeal(
    runtime: Runtime, scene: Scene
):
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    case = _case(runtime, scene, "proposal", p.id, w.leyla, auto_hidden=True)
    _emit(runtime, MODERATION_AUTO_HIDDEN, _changed(case, state="open", reason=None))
    appeal = AppealChanged(
        appeal_id=7, case_id=case.id, agency_id=w.agency.id, appellant_id=w.leyla.id, state="overturned",
        reason="The proposal names no one.",
    )  # fmt: skip
    _emit(runtime, MODERATION_APPEAL_DECIDED, appeal)

    hidden, decided = notifications_of(runtime, w.leyla)
    assert (hidden.kind, hidden.title) == (
        "moderation.auto_hidden",
        f'Your proposal "{p.title}" was hidden after reports',
    )
    assert "a moderator will review it" in hidden.body and hidden.url == f"/proposals/{p.id}"
    assert decided.kind == "moderation.appeal_decided"
    assert decided.title == "Your appeal was decided: the decision was reversed"
    assert (
        decided.body == "The moderator's reason: The proposal names no one."
        and decided.url == f"/proposals/{p.id}"
    )


def test_a_real_moderation_decision_reaches_the_author(runtime: Runtime, scene: Scene):
    """Through moderation's own action: the decision's event carries the reason to the inbox."""
    from civic.leadership.moderation import moderate_item

    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    c = comment(runtime, w.kamal, p.id)
    with runtime.db.transaction() as s:
        moderate_item(
            s,
            w.moderator,
            ItemDecisionInput(item_kind="comment", item_id=c.id, decision="hide", reason="Spam link."),
        )
    settled(runtime)

    [n] = notifications_of(runtime, w.kamal)
    assert n.kind == "moderation.decided" and "Spam link." in n.body
    assert n.url == f"/proposals/{p.id}#comment-{c.id}"
    assert notifications_of(runtime, w.leyla) == []


# ---- the inbox --------------------------------------------------------------------------------


def _fill(runtime: Runtime, account: Account, n: int) -> list[Notification]:
    with runtime.db.transaction() as s:
        made = [
            notifications.do_notify(s, account.id, f"ev-{i}", "test", f"Message {i}", "", "/")
            for i in range(n)
        ]
    return [m for m in made if m is not None]


def test_the_inbox_pages_newest_first_and_counts_the_unread(runtime: Runtime, scene: Scene):
    w = scene.world
    made = _fill(runtime, w.leyla, 25)
    _fill(runtime, w.kamal, 2)

    with runtime.db.transaction() as s:
        first = notifications.inbox(s, w.leyla)
        second = notifications.inbox(s, w.leyla, page=2)
        beyond = notifications.inbox(s, w.leyla, page=99)
        assert notifications.unread_count(s, w.leyla.id) == 25
    assert (first.total, first.unread, first.pages, len(first.items)) == (25, 25, 2, 20)
    assert [n.id for n in first.items + second.items] == [m.id for m in reversed(made)]
    assert beyond.page == 2 and [n.id for n in beyond.items] == [n.id for n in second.items]
    assert all(n.account_id == w.leyla.id for n in first.items + second.items)


def test_marking_read_touches_only_ones_own_notifications(runtime: Runtime, scene: Scene):
    w = scene.world
    mine = _fill(runtime, w.leyla, 3)
    theirs = _fill(runtime, w.kamal, 1)

    with runtime.db.transaction() as s:
        assert notifications.mark_read(s, w.leyla, [mine[0].id, theirs[0].id]) == 1
        assert notifications.mark_read(s, w.leyla, [mine[0].id]) == 0  # already read
        assert notifications.mark_read(s, w.leyla, []) == 0
    with runtime.db.transaction() as s:
        assert notifications.unread_count(s, w.leyla.id) == 2
        assert notifications.unread_count(s, w.kamal.id) == 1
        unread = notifications.inbox(s, w.leyla, unread_only=True)
        assert [n.id for n in unread.items] == [mine[2].id, mine[1].id] and unread.total == 2
        assert notifications.mark_read(s, w.leyla, None) == 2
        assert all(n.read_at is not None for n in unread.items)  # loaded rows see the change
    with runtime.db.transaction() as s:
        assert notifications.unread_count(s, w.leyla.id) == 0
        assert notifications.inbox(s, w.leyla).unread == 0
        assert notifications.unread_count(s, w.kamal.id) == 1


def test_the_inbox_needs_a_login(runtime: Runtime, scene: Scene):
    with runtime.db.transaction() as s:
        with pytest.raises(NotAuthenticated):
            notifications.inbox(s, None)
        with pytest.raises(NotAuthenticated):
            notifications.mark_read(s, None, None)


def test_answers_to_a_proposal_count_once_its_author_supports_it_too(runtime: Runtime, scene: Scene):
    """An author who is also listed as a supporter gets one message, as the author."""
    w = scene.world
    resp = responder(runtime, "Responder", w.agency.id)
    p = proposal(runtime, w.leyla, scene.consultation)
    with runtime.db.transaction() as s:
        s.add(Support(proposal_id=p.id, account_id=w.leyla.id, created_at=utcnow()))
    answer(runtime, resp, p.id, "accepted")
    settled(runtime)
    [n] = notifications_of(runtime, w.leyla)
    assert n.title.startswith("Your proposal")
    assert isinstance(p, Proposal)


# ---- each in their own language -----------------------------------------------------------------


def speaks(runtime: Runtime, account: Account, language: str) -> None:
    """The account chose `language` (what the language switcher stores)."""
    with runtime.db.transaction() as s:
        row = s.get(Account, account.id)
        assert row is not None
        row.language = language
        s.add(row)


def test_each_recipient_reads_the_answer_in_their_own_language(runtime: Runtime, scene: Scene):
    w = scene.world
    speaks(runtime, w.kamal, "az")
    resp = responder(runtime, "Responder", w.agency.id)
    p = proposal(runtime, w.leyla, scene.consultation)
    set_phase(runtime, w.convener, scene.consultation.id, Phase.SUPPORT)
    support(runtime, w.kamal, p.id)
    answer(runtime, resp, p.id, "under_review")
    settled(runtime)

    [to_author] = notifications_of(runtime, w.leyla)
    assert to_author.title == f'Your proposal "{p.title}" was answered: under review'
    [to_kamal] = notifications_of(runtime, w.kamal)
    assert to_kamal.title == f'Dəstəklədiyiniz "{p.title}" təklifinə cavab verildi: baxılır'
    assert ANSWER_TEXT in to_kamal.body  # the official's own words are not translated


def test_moderation_news_comes_in_the_authors_language(runtime: Runtime, scene: Scene):
    w = scene.world
    speaks(runtime, w.leyla, "az")
    p = proposal(runtime, w.leyla, scene.consultation)
    case = _case(runtime, scene, "proposal", p.id, w.leyla)
    _emit(runtime, MODERATION_DECIDED, _changed(case, decision="hide", reason="It names a private person."))
    _emit(runtime, MODERATION_AUTO_HIDDEN, _changed(case, state="open", reason=reports.AUTO_HIDE_REASON))

    decided, hidden = notifications_of(runtime, w.leyla)
    assert decided.title == f'Sizin "{p.title}" təklifiniz moderator tərəfindən gizlədildi'
    assert decided.body == "Moderatorun göstərdiyi səbəb: It names a private person."
    assert hidden.title == f'Sizin "{p.title}" təklifiniz şikayətlərdən sonra gizlədildi'
    assert hidden.body == "Şikayətlərdən sonra avtomatik gizlədilib; moderator ona baxacaq."
