"""The live dashboards: an agency's counters, chart, feed and queue for its officials only; the
public dashboard's numbers without anyone's name; and the events that move the counters really go
to the topics the dashboard follows (and those topics are ones its viewer may follow)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from civic.errors import Forbidden, NotAuthenticated, NotFound
from civic.events import topics
from civic.events.models import OutboxEvent
from civic.leadership import dashboard
from civic.leadership.pages.dashboard import chart
from civic.participation.models import Phase
from civic.realtime import topics as realtime_topics
from civic.runtime import Runtime
from tests.events.conftest import settle
from tests.leadership.conftest import Scene, comment, established, proposal, report
from tests.participation.conftest import OpenBrowser, make_consultation, set_phase, support


def text(response: Any) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())


def counter(html: str, key: str) -> int:
    match = re.search(rf'data-counter="{key}"[^>]*>(\d+)<', html)
    assert match, f"no counter {key}"
    return int(match.group(1))


@pytest.fixture
def busy(runtime: Runtime, scene: Scene) -> dict[str, Any]:
    """Today in the transport agency: Leyla's proposal, Kamal's comment, Rashad's support, a
    report of the comment, and a pre-moderated proposal by Aysel waiting in the queue."""
    w = scene.world
    p = proposal(runtime, w.leyla, scene.consultation, title="Night buses on line 5")
    c = comment(runtime, w.kamal, p.id)
    pending = proposal(runtime, w.aysel, scene.pre_consultation, title="Benches in the park")
    set_phase(runtime, w.convener, scene.consultation.id, Phase.SUPPORT)
    support(runtime, w.rashad, p.id)
    [reporter] = established(runtime, 1, "Reporter")
    report(runtime, reporter, "comment", c.id)
    settle(runtime)  # the handler opens the pending proposal's case
    return {"proposal": p, "comment": c, "pending": pending}


def board(runtime: Runtime, actor: Any, agency_id: int) -> dashboard.AgencyDashboard:
    with runtime.db.transaction() as s:
        return dashboard.agency_dashboard(s, actor, agency_id)


def test_the_agency_counters_count_todays_activity(runtime: Runtime, scene: Scene, busy) -> None:
    w = scene.world
    b = board(runtime, scene.moderator, w.agency.id)
    assert b.counters == {
        "participants": 4,  # Leyla, Kamal, Aysel (pending counts for officials), Rashad
        "proposals": 2,
        "comments": 1,
        "supports": 1,
        "reports": 1,
        "open_cases": 2,  # the pending proposal and the reported comment
    }
    assert b.can_moderate and b.queue_total == 2
    assert {c.title for c in b.queue} >= {"Benches in the park"}


def test_an_agency_dashboard_covers_its_units_but_not_its_parent(
    runtime: Runtime, scene: Scene, busy
) -> None:
    w = scene.world
    with runtime.db.transaction() as s:
        unit_consultation = make_consultation(s, w.unit_convener, phase=Phase.PROPOSALS, title="Unit roads")
    proposal(runtime, w.kamal, unit_consultation, title="Fix the unit's road")

    assert board(runtime, w.minister, w.agency.id).counters["proposals"] == 3
    unit = board(runtime, w.unit_convener, w.unit.id)
    assert unit.counters["proposals"] == 1 and unit.counters["participants"] == 1
    assert not unit.can_moderate and unit.queue == []
    assert unit.topics == [topics.agency_dashboard(w.unit.id)]  # no moderation topic without the grant


def test_yesterday_is_not_today(runtime: Runtime, scene: Scene, busy) -> None:
    with runtime.db.transaction() as s:
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        counters = dashboard.activity_counters(
            s, {scene.world.agency.id}, dashboard.midnight(tomorrow), public=False
        )
    assert counters == {"participants": 0, "proposals": 0, "comments": 0, "supports": 0}


def test_who_may_open_an_agency_dashboard(runtime: Runtime, scene: Scene, busy) -> None:
    w = scene.world
    with pytest.raises(NotAuthenticated):
        board(runtime, None, w.agency.id)
    with pytest.raises(Forbidden, match="dashboard.view"):
        board(runtime, w.leyla, w.agency.id)
    with pytest.raises(Forbidden):
        board(runtime, scene.other_moderator, w.agency.id)  # another agency's moderator
    with pytest.raises(Forbidden):
        board(runtime, w.unit_convener, w.agency.id)  # a unit's official has no reach upwards
    with pytest.raises(NotFound):
        board(runtime, scene.moderator, 999_999)
    assert board(runtime, w.convener, w.agency.id).can_moderate is False


def test_the_events_that_move_the_counters_reach_the_followed_topics(
    runtime: Runtime, scene: Scene, busy
) -> None:
    """Every event of today's activity went to a topic the moderator's page follows, and the hub
    lets the moderator follow each of them (and a citizen none)."""
    w = scene.world
    b = board(runtime, scene.moderator, w.agency.id)
    followed = set(b.topics)
    assert (
        topics.agency_dashboard(w.agency.id) in followed and topics.agency_moderation(w.agency.id) in followed
    )
    with runtime.db.transaction() as s:
        events = s.exec(select(OutboxEvent)).all()
        moving = {
            "proposal.submitted",
            "comment.posted",
            "proposal.supported",
            "report.filed",
            "moderation.case_opened",
        }
        seen = {e.type for e in events if e.type in moving and followed.intersection(e.topics)}
        assert seen == moving
        for topic in followed:
            assert realtime_topics.check(s, scene.moderator, topic) is None
            assert realtime_topics.check(s, w.leyla, topic) is not None


def test_the_feed_names_what_happened_but_never_who_supported(runtime: Runtime, scene: Scene, busy) -> None:
    b = board(runtime, scene.moderator, scene.world.agency.id)
    lines = [item.text for item in b.feed]
    assert 'New proposal: "Night buses on line 5"' in lines
    assert 'Support for "Night buses on line 5" (now 1)' in lines
    assert 'New proposal: "Benches in the park" (awaiting moderation)' in lines
    assert "Report of a comment (spam)" in lines
    assert not any(scene.world.rashad.display_name in line for line in lines)
    assert b.feed == sorted(b.feed, key=lambda item: item.at, reverse=True)
    assert sum(m.count for m in b.minutes) >= len([i for i in b.feed if i.type != "consultation.published"])


def test_the_agency_dashboard_page(runtime: Runtime, scene: Scene, busy, browser: OpenBrowser) -> None:
    w = scene.world
    page = browser(scene.moderator).get(f"/moderation/dashboard?agency={w.agency.id}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert counter(page.text, "supports") == 1 and counter(page.text, "open_cases") == 2
    topics_attr = re.search(r'data-live-dashboard data-live-topics="([^"]*)"', page.text)
    assert topics_attr and f"moderation:agency:{w.agency.id}" in topics_attr.group(1).split()
    assert (
        re.search(r'<script src="[^"]*/static/dashboard\.js" defer>', page.text)
        and "<script>" not in page.text
    )
    words = text(page)
    assert "Benches in the park" in words and "Moderation queue" in words
    assert re.search(r"Events per minute, the last 30 minutes: \d+ in all", words)

    own = browser(scene.moderator).get("/moderation/dashboard")  # no agency: the official's own
    assert own.status_code == 200 and counter(own.text, "proposals") == 2
    convener = browser(w.convener).get(f"/moderation/dashboard?agency={w.agency.id}")
    assert convener.status_code == 200 and "Moderation queue" not in text(convener)

    assert browser(w.leyla).get(f"/moderation/dashboard?agency={w.agency.id}").status_code == 403
    assert (
        browser(scene.other_moderator).get(f"/moderation/dashboard?agency={w.agency.id}").status_code == 403
    )
    assert browser(scene.moderator).get("/moderation/dashboard?agency=999999").status_code == 404
    assert browser(w.leyla).get("/moderation/dashboard").status_code == 422  # a citizen has no agency
    anonymous = browser().client.get("/moderation/dashboard?agency=1", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")


def test_the_public_dashboard_shows_public_numbers_only(
    runtime: Runtime, scene: Scene, busy, browser: OpenBrowser
) -> None:
    w = scene.world
    with runtime.db.transaction() as s:
        numbers = dashboard.public_dashboard(s)
    assert numbers.counters == {
        "participants": 3,  # not Aysel: her proposal waits for moderation
        "proposals": 1,
        "comments": 1,
        "supports": 1,
        "consultations": 3,
    }
    public_events = sum(m.count for m in numbers.minutes)
    assert public_events == 3  # the public proposal, the comment, the support

    page = browser().get("/dashboard")
    assert page.status_code == 200
    assert counter(page.text, "proposals") == 1 and counter(page.text, "consultations") == 3
    words = text(page)
    for private in (w.leyla.display_name, w.kamal.display_name, w.rashad.display_name, "Benches in the park"):
        assert private not in words
    assert 'data-poll-seconds="15"' in page.text and "data-live-topics" not in page.text.split("<main")[1]


def test_per_minute_buckets() -> None:
    now = datetime(2026, 3, 1, 12, 30, 40, tzinfo=UTC)
    times = [
        now,
        now - timedelta(seconds=50),  # 12:29:50
        now - timedelta(minutes=29),  # 12:01:40, the oldest bucket
        now - timedelta(minutes=30),  # 12:00:40, outside
        now + timedelta(minutes=1),  # the future, outside
    ]
    minutes = dashboard.per_minute(times, now)
    assert len(minutes) == 30
    assert minutes[-1].start == datetime(2026, 3, 1, 12, 30, tzinfo=UTC) and minutes[-1].count == 1
    assert minutes[-2].count == 1
    assert minutes[0].start == datetime(2026, 3, 1, 12, 1, tzinfo=UTC) and minutes[0].count == 1
    assert sum(m.count for m in minutes) == 3


def test_the_chart_scales_to_the_busiest_minute() -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    drawn = chart([dashboard.Minute(start + timedelta(minutes=i), c) for i, c in enumerate([0, 1, 10])])
    assert [b["h"] for b in drawn["bars"]] == [0, 8, 76]
    assert drawn["peak"] == 10 and drawn["total"] == 11 and drawn["width"] == 36
    assert chart([dashboard.Minute(start, 0)])["bars"][0]["h"] == 0
