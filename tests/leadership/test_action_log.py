"""The action log: every official act with who, what, when and why — leadership's own acts written
with the act, other modules' acts logged from their events once each. Public for acts on public
content, officials-only for the rest. And the moderation intake handler, which queues pre-moderated
proposals and hides a blocked author's new content."""

from __future__ import annotations

import pytest
from sqlmodel import select

from civic.errors import Forbidden, NotAuthenticated
from civic.identity import actions as identity_actions
from civic.identity.models import Role
from civic.identity.schemas import VerificationRequest
from civic.leadership import actionlog, queries
from civic.leadership.blocks import block_account
from civic.leadership.handlers import log_action, moderation_intake
from civic.leadership.models import ModerationCase, OfficialAction
from civic.leadership.schemas import BlockInput
from civic.participation.models import Comment, Phase, Proposal
from civic.runtime import Runtime
from tests.leadership._answers_support import actions_logged, answer, count, envelopes, responder, settled
from tests.leadership.conftest import Scene, comment, load, proposal
from tests.participation.conftest import set_phase


def test_publishing_and_moving_consultations_are_logged_publicly_once(runtime: Runtime, scene: Scene):
    w = scene.world
    set_phase(runtime, w.convener, scene.consultation.id, Phase.SUPPORT)
    settled(runtime)
    settled(runtime)  # settling again finds nothing new to log

    published = actions_logged(runtime, "consultation.publish")
    assert sorted(r.subject_id for r in published) == sorted(
        c.id for c in (scene.consultation, scene.pre_consultation, scene.other_consultation)
    )
    assert all(r.public and r.subject_kind == "consultation" and r.event_id for r in published)
    mine = next(r for r in published if r.subject_id == scene.consultation.id)
    assert (mine.actor_id, mine.agency_id, mine.detail["title"]) == (
        w.convener.id,
        w.agency.id,
        scene.consultation.title,
    )
    [moved] = actions_logged(runtime, "consultation.phase")
    assert (moved.actor_id, moved.subject_id, moved.public) == (w.convener.id, scene.consultation.id, True)
    assert (moved.detail["phase"], moved.detail["previous_phase"]) == ("support", "proposals")

    # A replay of the event, even straight into the handler, logs nothing more.
    [event] = envelopes(runtime, "consultation.phase_changed")
    with runtime.db.transaction() as s:
        log_action(s, event)
    assert len(actions_logged(runtime, "consultation.phase")) == 1


def test_verifications_and_grants_are_logged_for_officials_only(runtime: Runtime, scene: Scene):
    w = scene.world
    with runtime.db.transaction() as s:
        identity_actions.verify(s, w.registrar, w.aysel.id, VerificationRequest(level="verified"))
        grant = identity_actions.do_grant_role(
            s, scene.second_moderator, Role.RESPONDER, agency_id=w.agency.id, granted_by=w.minister,
            reason="Covers answers during the summer.",
        )  # fmt: skip
        scoped = identity_actions.do_grant_role(
            s,
            scene.other_moderator,
            Role.RESPONDER,
            consultation_id=scene.consultation.id,
            granted_by=w.minister,
        )
    with runtime.db.transaction() as s:
        identity_actions.do_revoke_role(s, w.minister, s.get(type(grant), grant.id), "Summer is over.")
    settled(runtime)

    [verified] = actions_logged(runtime, "account.verify")
    assert (verified.actor_id, verified.subject_kind, verified.subject_id) == (
        w.registrar.id,
        "account",
        w.aysel.id,
    )
    assert (verified.agency_id, verified.public, verified.detail) == (
        w.agency.id,
        False,
        {"level": "verified"},
    )
    granted = actions_logged(runtime, "role.grant")
    assert [(g.subject_id, g.actor_id, g.agency_id, g.public) for g in granted] == [
        (grant.id, w.minister.id, w.agency.id, False),
        (scoped.id, w.minister.id, w.agency.id, False),  # a consultation's grant is in its agency
    ]
    assert granted[0].reason == "Covers answers during the summer."
    assert (
        granted[0].detail["role"] == "responder"
        and granted[1].detail["consultation_id"] == scene.consultation.id
    )
    [revoked] = actions_logged(runtime, "role.revoke")
    assert (revoked.subject_id, revoked.actor_id, revoked.reason, revoked.public) == (
        grant.id,
        w.minister.id,
        "Summer is over.",
        False,
    )


def _logged_world(runtime: Runtime, scene: Scene) -> None:
    """A public answer in the transport agency, a private verification there, and the three
    consultations' publication (public, two agencies)."""
    w = scene.world
    resp = responder(runtime, "Responder", w.agency.id)
    p = proposal(runtime, w.leyla, scene.consultation)
    answer(runtime, resp, p.id, "accepted")
    with runtime.db.transaction() as s:
        identity_actions.verify(s, w.registrar, w.aysel.id, VerificationRequest(level="verified"))
    settled(runtime)


def test_the_public_log_shows_public_acts_newest_first_by_agency_subtree(runtime: Runtime, scene: Scene):
    w = scene.world
    _logged_world(runtime, scene)

    with runtime.db.transaction() as s:
        everything = queries.public_log(s)
        ministry = queries.public_log(s, agency_id=w.ministry.id)
        culture = queries.public_log(s, agency_id=w.other_agency.id)
        unit = queries.public_log(s, agency_id=w.unit.id)
    assert [e.action for e in everything.items] == [
        "proposal.answer",
        "consultation.publish",
        "consultation.publish",
        "consultation.publish",
    ]
    assert all(e.public for e in everything.items) and everything.total == 4
    top = everything.items[0]
    assert (top.actor_name, top.agency_name, top.reason) == ("Responder", w.agency.name, top.reason)
    assert [e.action for e in ministry.items] == [
        "proposal.answer",
        "consultation.publish",
        "consultation.publish",
    ]
    assert [(e.action, e.subject_id) for e in culture.items] == [
        ("consultation.publish", scene.other_consultation.id)
    ]
    assert unit.items == [] and unit.pages == 1


def test_officials_see_the_private_acts_of_agencies_they_oversee(runtime: Runtime, scene: Scene):
    w = scene.world
    _logged_world(runtime, scene)

    with runtime.db.transaction() as s:
        moderator = queries.official_log(s, w.moderator)  # VIEW_DASHBOARD on the transport agency
        agency = queries.official_log(s, w.minister, agency_id=w.agency.id)  # the ministry's administrator
        outsider = queries.official_log(s, w.other_convener)
        with pytest.raises(Forbidden) as refused:
            queries.official_log(s, w.other_convener, agency_id=w.agency.id)
        with pytest.raises(Forbidden):
            queries.official_log(s, w.leyla)
        with pytest.raises(Forbidden):
            queries.official_log(s, w.registrar)  # a registrar has no dashboard
        with pytest.raises(NotAuthenticated):
            queries.official_log(s, None)
    assert "account.verify" in [e.action for e in moderator.items]
    assert [e.action for e in agency.items] == [
        "account.verify",
        "proposal.answer",
        "consultation.publish",
        "consultation.publish",
    ]
    assert "account.verify" not in [e.action for e in outsider.items] and outsider.total == 4
    assert "dashboard.view" in refused.value.message and f"agency {w.agency.id}" in refused.value.message


def test_the_log_pages(runtime: Runtime, scene: Scene):
    with runtime.db.transaction() as s:
        for i in range(queries.PER_PAGE + 5):
            actionlog.record(
                s,
                actor_id=None,
                action="test.act",
                subject_kind="proposal",
                subject_id=i,
                agency_id=None,
                public=True,
            )
    settled(runtime)
    with runtime.db.transaction() as s:
        first = queries.public_log(s)
        last = queries.public_log(s, page=2)
    total = queries.PER_PAGE + 5 + 3  # and the three consultations' publication
    assert (first.total, first.pages, len(first.items), len(last.items)) == (total, 2, queries.PER_PAGE, 8)
    assert {e.id for e in first.items}.isdisjoint({e.id for e in last.items})
    assert first.items[0].actor_name is None  # the command line


# ---- moderation intake ---------------------------------------------------------------------------


def test_a_pre_moderated_proposal_opens_its_queue_case_once(runtime: Runtime, scene: Scene):
    w = scene.world
    pending = proposal(runtime, w.leyla, scene.pre_consultation, title="Wait for a moderator")
    public = proposal(runtime, w.kamal, scene.consultation)
    settled(runtime)

    with runtime.db.transaction() as s:
        cases = s.exec(select(ModerationCase)).all()
    assert [(c.item_kind, c.item_id, c.origin, c.state) for c in cases] == [
        ("proposal", pending.id, "pre_moderation", "open")
    ]
    assert public.id not in [c.item_id for c in cases]
    [event] = envelopes(runtime, "proposal.submitted")[:1]
    with runtime.db.transaction() as s:
        moderation_intake(s, event)
    assert count(runtime, ModerationCase) == 1


def test_a_blocked_authors_new_proposal_and_comment_are_hidden_at_once(runtime: Runtime, scene: Scene):
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation)
    with runtime.db.transaction() as s:
        block_account(s, w.moderator, w.kamal.id, BlockInput(agency_id=w.agency.id, reason="Repeated spam."))
    settled(runtime)

    blocked_comment = comment(runtime, w.kamal, p.id)
    blocked_proposal = proposal(runtime, w.kamal, scene.consultation, title="Buy cheap watches")
    elsewhere = proposal(runtime, w.kamal, scene.other_consultation, title="Longer museum hours")
    settled(runtime)

    assert load(runtime, Comment, blocked_comment.id).status == "hidden"
    assert load(runtime, Proposal, blocked_proposal.id).status == "hidden"
    assert load(runtime, Proposal, elsewhere.id).status == "published"  # outside the block's agency
    assert load(runtime, Proposal, p.id).status == "published"
    assert count(runtime, OfficialAction) >= 1
