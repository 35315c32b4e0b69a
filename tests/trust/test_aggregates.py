"""Consented aggregates: a consultation's participants counted only from attributes they consented
to for statistics (to the consultation's agency), cells under k suppressed, every read on record."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from civic.errors import Forbidden
from civic.identity.models import Account, Role
from civic.runtime import Runtime
from civic.trust import aggregates
from civic.trust.models import DataAccess
from tests.participation.conftest import World, person
from tests.trust._consent_support import give, make_consultation, make_proposal, official, run, set_vault

STATS = "consultation_statistics"


def test_profile_counts_consented_attributes_and_suppresses_small_cells(
    runtime: Runtime, world: World, keys
) -> None:
    with runtime.db.transaction() as s:
        c = make_consultation(s, s.get(Account, world.convener.id))
        people = [person(runtime, s, f"P{i}") for i in range(9)]
        for p in people:
            make_proposal(s, p, c, title=f"Idea from {p.display_name}")
        outsider = person(runtime, s, "Outsider")
    # Six women and three men consent to statistics on gender; the men also to age band.
    for i, p in enumerate(people):
        gender = "female" if i < 6 else "male"
        set_vault(runtime, keys, p, gender=gender, age_band="25_34", education="master")
        attrs = ["gender", "age_band"] if i >= 6 else ["gender"]
        give(runtime, p, world.agency.id, STATS, attrs, consultation_id=c.id if i % 2 else None)
    # Consents that must not count: another purpose, another agency, an outsider, a withdrawn one.
    give(runtime, people[0], world.agency.id, "research", ["education"])
    give(runtime, people[1], world.other_agency.id, STATS, ["education"])
    set_vault(runtime, keys, outsider, gender="male")
    give(runtime, outsider, world.agency.id, STATS, ["gender"])

    analyst = official(runtime, "Analyst", world.agency.id, Role.ANALYST)
    profile = run(
        runtime,
        lambda s: aggregates.consultation_profile(
            s, keys.vault, s.get(Account, analyst.id), c.id, min_cell=5
        ),
    )
    assert profile.participants == 9
    by = {a.attribute: a for a in profile.attributes}
    assert [(cell.value, cell.count) for cell in by["gender"].cells] == [("female", 6)]
    assert by["gender"].suppressed_cells == 1 and by["gender"].shown_total == 6  # the 3 men are hidden
    assert by["age_band"].cells == [] and by["age_band"].suppressed_cells == 1  # 3 < 5
    assert by["education"].cells == [] and by["education"].suppressed_cells == 0  # nobody consented
    with runtime.db.transaction() as s:
        reads = s.exec(
            select(func.count()).select_from(DataAccess).where(DataAccess.official_id == analyst.id)
        ).one()
        roles = set(s.exec(select(DataAccess.role).where(DataAccess.official_id == analyst.id)).all())
    assert reads == 9 + 3 and roles == {"analyst"}  # one per citizen and attribute read

    lower = run(
        runtime,
        lambda s: aggregates.consultation_profile(
            s, keys.vault, s.get(Account, analyst.id), c.id, min_cell=2
        ),
    )
    assert [(x.value, x.count) for x in {a.attribute: a for a in lower.attributes}["gender"].cells] == [
        ("female", 6),
        ("male", 3),
    ]


def test_only_analysts_of_the_agency(runtime: Runtime, world: World, keys) -> None:
    with runtime.db.transaction() as s:
        c = make_consultation(s, s.get(Account, world.convener.id))
    other = official(runtime, "Other analyst", world.other_agency.id, Role.ANALYST)
    for who in (world.convener, other):
        with pytest.raises(Forbidden):
            run(
                runtime,
                lambda s, w=who: aggregates.consultation_profile(s, keys.vault, s.get(Account, w.id), c.id),
            )
