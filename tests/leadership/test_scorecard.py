"""Responsiveness scorecards, checked against figures computed by hand on a fixture whose every time
is set explicitly (hours after a fixed submission time), so each expected value below can be
re-derived from the table in `timeline`'s docstring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from civic.errors import NotFound
from civic.identity.models import Account, Agency, Grant, Role
from civic.leadership.models import AgencyPromise, ModerationCase
from civic.leadership.scorecard import (
    Scorecard,
    agency_scorecard,
    agency_scorecards,
    official_scorecard,
    percentile,
)
from civic.participation.models import Consultation, Proposal, ProposalAnswer
from civic.runtime import Runtime
from tests.leadership.conftest import World, official

NOW = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


# ---- the percentile -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, None),
        ([7.0], 50, 7.0),
        ([7.0], 90, 7.0),
        ([4.0, 1.0, 3.0, 2.0], 50, 2.0),  # rank ⌈2⌉ = 2: the lower middle, never an average
        ([4.0, 1.0, 3.0, 2.0], 90, 4.0),  # rank ⌈3.6⌉ = 4
        ([1.0, 2.0, 3.0], 50, 2.0),  # rank ⌈1.5⌉ = 2
        ([float(v) for v in range(1, 11)], 90, 9.0),  # rank ⌈9⌉ = 9 exactly, not 10
        ([float(v) for v in range(1, 21)], 90, 18.0),
        ([float(v) for v in range(1, 11)], 91, 10.0),
        ([5.0, 1.0], 0, 1.0),
        ([5.0, 1.0], 100, 5.0),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], q: float, expected: float | None):
    assert percentile(values, q) == expected


def test_percentile_refuses_a_rank_outside_0_to_100():
    with pytest.raises(ValueError):
        percentile([1.0], 101)


# ---- the fixture ------------------------------------------------------------------------------


@dataclass
class Timeline:
    a: Agency  # world.agency, default promise (14 days)
    b: Agency  # world.other_agency, promise 3 days
    unit: Agency  # below A, no promise of its own: 14 days
    r1: Account  # responder on A (so on the unit too)
    r2: Account  # responder on A's consultation cA only; a revoked grant on B
    r3: Account  # responder on B
    m1: Account  # moderator on A
    m2: Account  # moderator on B
    proposals: dict[str, int]


def _at(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


@pytest.fixture
def timeline(runtime: Runtime, world: World) -> Timeline:
    """Times relative to NOW (h = hours, d = days); `answer` is hours from submission to the first
    answer, by whom; pub = published, wd = withdrawn.

    Agency A (14 d = 336 h), consultation cA:
      p1 pub  -30d answer 10h  r1 | p2 pub -30d answer 20h r1 (r2 answers it later too)
      p3 pub  -30d answer 400h r2 (later answer by r1) | p4 pub -20d unanswered
      p5 pub  -5d  unanswered     | p6 wd  -20d unanswered | p8 wd -40d answer 30h r1
      p11 pub -2d  answered at NOW+1h (after NOW: unanswered as of NOW)
      p7 hidden -30d answer 1h r1, p9 pending -30d, p10 rejected -30d: not counted
    Agency B (3 d = 72 h), consultation cB:
      q1 pub -10d answer 48h r3 | q2 pub -10d answer 100h r3 | q3 pub -4d unanswered
      q4 pub -10d answer 72h r2 (exactly at the promise)
    Unit (below A, 14 d), consultation cU: u1 pub -15d unanswered
    Cases (opened → decided, by):
      A: c1 -10d +2h m1 | c2 -10d +6h m1 | c3 -10d +30h m2 | c4 open, opened -50h
         c5 open, opened -47h | c6 block origin -1d +0h m1 | c7 opened -3h, decided NOW+1h m1
      B: c8 open, opened -100h
    """
    with runtime.db.transaction() as s:
        a, b, unit = (s.get(Agency, x.id) for x in (world.agency, world.other_agency, world.unit))
        s.add(AgencyPromise(agency_id=b.id, answer_days=3))
        r1 = official(s, runtime, "R One", a.id, Role.RESPONDER)
        r2 = official(s, runtime, "R Two", a.id)
        r3 = official(s, runtime, "R Three", b.id, Role.RESPONDER)
        m1 = official(s, runtime, "M One", a.id, Role.MODERATOR)
        m2 = official(s, runtime, "M Two", b.id, Role.MODERATOR)
        consultations = {}
        for key, agency in (("cA", a), ("cB", b), ("cU", unit)):
            c = Consultation(
                agency_id=agency.id, title=f"Consultation {key}", summary="s", body="b", status="published",
                phase="deliberation", created_by_id=world.convener.id, created_at=NOW - 60 * D,
            )  # fmt: skip
            s.add(c)
            s.flush()
            consultations[key] = c.id
        s.add_all(
            [
                Grant(account_id=r2.id, role=Role.RESPONDER, consultation_id=consultations["cA"], granted_at=NOW - 60 * D),
                Grant(account_id=r2.id, role=Role.RESPONDER, agency_id=b.id, granted_at=NOW - 60 * D,
                      revoked_at=NOW - D),
                # expired before NOW: gives r3 no reach into A
                Grant(account_id=r3.id, role=Role.RESPONDER, agency_id=a.id, granted_at=NOW - 60 * D,
                      ends_at=NOW - D),
            ]
        )  # fmt: skip
        # key: (consultation, status, created (hours from NOW), [(hours after creation, official)])
        table: dict[str, tuple[str, str, float, list[tuple[float, Account]]]] = {
            "p1": ("cA", "published", -30 * 24, [(10, r1)]),
            "p2": ("cA", "published", -30 * 24, [(20, r1), (50, r2)]),
            "p3": ("cA", "published", -30 * 24, [(400, r2), (401, r1)]),
            "p4": ("cA", "published", -20 * 24, []),
            "p5": ("cA", "published", -5 * 24, []),
            "p6": ("cA", "withdrawn", -20 * 24, []),
            "p7": ("cA", "hidden", -30 * 24, [(1, r1)]),
            "p8": ("cA", "withdrawn", -40 * 24, [(30, r1)]),
            "p9": ("cA", "pending", -30 * 24, []),
            "p10": ("cA", "rejected", -30 * 24, []),
            "p11": ("cA", "published", -2 * 24, [(49, r1)]),
            "q1": ("cB", "published", -10 * 24, [(48, r3)]),
            "q2": ("cB", "published", -10 * 24, [(100, r3)]),
            "q3": ("cB", "published", -4 * 24, []),
            "q4": ("cB", "published", -10 * 24, [(72, r2)]),
            "u1": ("cU", "published", -15 * 24, []),
        }
        ids: dict[str, int] = {}
        for key, (c, status, created, answers) in table.items():
            p = Proposal(
                consultation_id=consultations[c], author_id=world.leyla.id, title=key, body="b", body_html="<p>b</p>",
                status=status, created_at=_at(created),
                answer_status="accepted" if answers else None,
                first_answered_at=_at(created + answers[0][0]) if answers else None,
            )  # fmt: skip
            s.add(p)
            s.flush()
            ids[key] = p.id
            for after, who in answers:
                s.add(
                    ProposalAnswer(
                        proposal_id=p.id, status="accepted", text="t", text_html="t", official_id=who.id,
                        official_name=who.display_name, official_role="responder", agency_id=who.agency_id,
                        agency_name="x", created_at=_at(created + after),
                    )
                )  # fmt: skip
        # key: (agency, origin, opened (hours from NOW), decided (hours from NOW) or None, by)
        cases = {
            "c1": (a, "reports", -240, -238, m1),
            "c2": (a, "reports", -240, -234, m1),
            "c3": (a, "pre_moderation", -240, -210, m2),
            "c4": (a, "reports", -50, None, None),
            "c5": (a, "reports", -47, None, None),
            "c6": (a, "block", -24, -24, m1),
            "c7": (a, "reports", -3, 1, m1),
            "c8": (b, "reports", -100, None, None),
        }
        for n, (key, (agency, origin, opened, decided, by)) in enumerate(cases.items()):
            s.add(
                ModerationCase(
                    item_kind="comment", item_id=1000 + n, agency_id=agency.id,
                    consultation_id=consultations["cA" if agency is a else "cB"], author_id=world.kamal.id,
                    title=key, origin=origin, state="decided" if decided is not None else "open",
                    opened_at=_at(opened), decided_at=_at(decided) if decided is not None else None,
                    decided_by_id=by.id if by else None, decision="hide" if by else None,
                )
            )  # fmt: skip
        return Timeline(a, b, unit, r1, r2, r3, m1, m2, ids)


def _figures(card: Scorecard) -> dict[str, object]:
    keys = (
        "proposals_received",
        "proposals_answered",
        "median_answer_hours",
        "p90_answer_hours",
        "answered_within_promise",
        "promise_due",
        "share_within_promise",
        "open_overdue",
        "cases_decided",
        "median_moderation_hours",
        "open_cases_overdue",
    )
    return {k: getattr(card, k) for k in keys}


def _card(
    received: int, answered: int, median: float | None, p90: float | None, within: int, due: int,
    share: float | None, overdue: int, decided: int, mod_median: float | None, cases_overdue: int,
) -> dict[str, object]:  # fmt: skip
    return dict(
        proposals_received=received, proposals_answered=answered, median_answer_hours=median,
        p90_answer_hours=p90, answered_within_promise=within, promise_due=due, share_within_promise=share,
        open_overdue=overdue, cases_decided=decided, median_moderation_hours=mod_median,
        open_cases_overdue=cases_overdue,
    )  # fmt: skip


# Agency A: counted p1 p2 p3 p4 p5 p6 p8 p11 = 8 (p7 hidden, p9 pending, p10 rejected are not).
# Answered by NOW: p1 10, p2 20, p3 400, p8 30 → sorted 10 20 30 400: median rank ⌈2⌉ → 20,
# p90 rank ⌈3.6⌉ = 4 → 400. Within 336 h: p1 p2 p8 = 3. Overdue (published, unanswered, > 14 d):
# p4 only (p5 5 d, p11 2 d, p6 withdrawn). Due = 4 + 1 = 5, share 3/5.
# Cases: decided c1 2 h, c2 6 h, c3 30 h (c6 a block's, c7 decided after NOW) → median 6;
# open overdue c4 (50 h); c5 47 h and c7 3 h are not.
AGENCY_A = _card(8, 4, 20.0, 400.0, 3, 5, 3 / 5, 1, 3, 6.0, 1)
# Agency B (3 d = 72 h): q1 48, q2 100, q4 72 → median rank 2 → 72, p90 rank ⌈2.7⌉ = 3 → 100.
# Within 72 h: q1, q4 (exactly on time) = 2; q2 would be within a 14-day promise. Overdue: q3
# (4 d > 3 d, though not > 14 d). Due 3 + 1 = 4, share 2/4. Cases: c8 open 100 h.
AGENCY_B = _card(4, 3, 72.0, 100.0, 2, 4, 2 / 4, 1, 0, None, 1)
# The unit: u1 unanswered 15 d > 14 d. Its proposals are its own, not in A's figures.
UNIT = _card(1, 0, None, None, 0, 1, 0.0, 1, 0, None, 0)
EMPTY = _card(0, 0, None, None, 0, 0, None, 0, 0, None, 0)


def test_agency_scorecards_match_the_hand_computed_figures(
    runtime: Runtime, world: World, timeline: Timeline
):
    with runtime.db.transaction() as s:
        cards = {c.subject_id: c for c in agency_scorecards(s, now=NOW)}
        single = agency_scorecard(s, timeline.b.id, now=NOW)

    assert _figures(cards[timeline.a.id]) == AGENCY_A
    assert _figures(cards[timeline.b.id]) == AGENCY_B
    assert _figures(cards[timeline.unit.id]) == UNIT
    assert _figures(cards[world.ministry.id]) == EMPTY
    assert (cards[timeline.a.id].promise_days, cards[timeline.b.id].promise_days) == (14, 3)
    assert cards[timeline.a.id].kind == "agency" and cards[timeline.a.id].name == timeline.a.name
    assert single == cards[timeline.b.id]
    assert len(cards) == 4  # every agency, with or without activity


def test_agency_scorecards_are_ordered_by_name_and_as_of_now(
    runtime: Runtime, world: World, timeline: Timeline
):
    with runtime.db.transaction() as s:
        cards = agency_scorecards(s, now=NOW)
        later = {c.subject_id: c for c in agency_scorecards(s, now=NOW + 2 * H)}
        with pytest.raises(NotFound):
            agency_scorecard(s, 999_999, now=NOW)
    assert [c.name for c in cards] == sorted(c.name for c in cards)
    # Two hours on: p11 has its answer (49 h, within), c7 is decided (4 h) and c5 is 49 h old.
    a = later[timeline.a.id]
    assert (a.proposals_answered, a.answered_within_promise, a.promise_due) == (5, 4, 6)
    assert (a.median_answer_hours, a.p90_answer_hours) == (30.0, 400.0)  # 10 20 30 49 400
    assert (a.cases_decided, a.median_moderation_hours, a.open_cases_overdue) == (4, 4.0, 2)  # 2 4 6 30


# R1 (responder on A, so on the unit): scope = A's 8 counted + u1 = 9. First answers: p1 10, p2 20,
# p8 30 (p3's first answer is R2's; p7 is hidden; p11's comes after NOW) → median 20, p90 rank
# ⌈2.7⌉ = 3 → 30, all within 14 d. Overdue in scope: p4, u1 → due 3 + 2 = 5, share 3/5.
R1 = _card(9, 3, 20.0, 30.0, 3, 5, 3 / 5, 2, 0, None, 0)
# R2 (responder on cA; B's grant revoked): scope = cA's 8; first answers p3 400 (late) and q4 72
# (outside its scope now, counted because R2 gave it) → received 9, sorted 72 400: median 72,
# p90 400; within: q4 (B's 72 h promise) = 1. Overdue in scope: p4 → due 2 + 1 = 3, share 1/3.
R2 = _card(9, 2, 72.0, 400.0, 1, 3, 1 / 3, 1, 0, None, 0)
# R3 (responder on B; A's grant expired): q1 48, q2 100 → median 48, p90 100; within 1 (q1);
# overdue q3 → due 3, share 1/3.
R3 = _card(4, 2, 48.0, 100.0, 1, 3, 1 / 3, 1, 0, None, 0)
# M1 decided c1 2 h, c2 6 h (c6 a block's; c7 after NOW) → median rank 1 → 2; open overdue in A's
# subtree: c4. M2 decided c3 (30 h, in A, where it no longer moderates); open overdue in B: c8.
M1 = _card(0, 0, None, None, 0, 0, None, 0, 2, 2.0, 1)
M2 = _card(0, 0, None, None, 0, 0, None, 0, 1, 30.0, 1)


@pytest.mark.parametrize(("who", "expected"), [("r1", R1), ("r2", R2), ("r3", R3), ("m1", M1), ("m2", M2)])
def test_official_scorecards_match_the_hand_computed_figures(
    runtime: Runtime, timeline: Timeline, who: str, expected: dict[str, object]
):
    account = getattr(timeline, who)
    with runtime.db.transaction() as s:
        card = official_scorecard(s, account.id, now=NOW)
    assert _figures(card) == expected
    assert (card.kind, card.subject_id, card.name, card.agency_id, card.promise_days) == (
        "official",
        account.id,
        account.display_name,
        account.agency_id,
        None,
    )


def test_an_unknown_official_has_no_scorecard(runtime: Runtime, world: World):
    with runtime.db.transaction() as s:
        with pytest.raises(NotFound):
            official_scorecard(s, 999_999, now=NOW)
        # A citizen simply has nothing to show.
        assert _figures(official_scorecard(s, world.leyla.id, now=NOW)) == EMPTY
