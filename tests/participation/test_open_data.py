"""Open data: a published consultation's public proposals with their counts, as CSV and JSON,
with public names and nothing else personal, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from civic.identity.models import Account
from civic.participation import actions
from civic.participation.models import Phase, Proposal
from tests.participation.conftest import make_consultation, make_proposal, person, set_phase


def _set_status(session, proposal_id, status):
    # Moderation (leadership) will own these changes; until then the test plays the moderator.
    proposal = session.get(Proposal, proposal_id)
    proposal.status = status
    session.add(proposal)


@pytest.fixture
def published(runtime, world):
    """A pre-moderated consultation: three proposals approved (one then withdrawn, one titled
    like a spreadsheet formula, one by an author whose name starts with "-"), one still pending,
    one hidden and one rejected by moderators; supports on two."""
    with runtime.db.transaction() as s:
        c = make_consultation(s, world.convener, moderation="pre")
        mallory = person(runtime, s, "-Mallory")
        formula = make_proposal(
            s, world.leyla, c, '=HYPERLINK("http://evil.example","x")', "A formula as a title."
        )
        popular = make_proposal(
            s, mallory, c, "Shade trees on every bus stop", "Plant trees for shade.", category="safety"
        )
        taken_back = make_proposal(s, world.kamal, c, "An idea taken back", "Withdrawn later.")
        pending = make_proposal(s, world.rashad, c, "Still pending review", "Waiting for a moderator.")
        hidden = make_proposal(s, world.aysel, c, "Hidden by moderators", "Spam, spam, spam.")
        rejected = make_proposal(s, world.foreigner, c, "Rejected by moderators", "Off topic.")
        for p in (formula, popular, taken_back):
            _set_status(s, p.id, "published")
        _set_status(s, hidden.id, "hidden")
        _set_status(s, rejected.id, "rejected")
        s.flush()
        actions.withdraw_proposal(s, world.kamal, taken_back.id)
    set_phase(runtime, world.convener, c.id, Phase.SUPPORT)
    with runtime.db.transaction() as s:
        for supporter in (world.kamal, world.rashad):
            actions.support_proposal(s, supporter, popular.id)
        actions.support_proposal(s, world.rashad, formula.id)
    return c, {
        "formula": formula.id,
        "popular": popular.id,
        "taken_back": taken_back.id,
        "pending": pending.id,
        "hidden": hidden.id,
        "rejected": rejected.id,
    }


def every_email(runtime):
    with runtime.db.transaction() as s:
        return list(s.exec(select(Account.email)).all())


def test_json_lists_public_proposals_with_counts_and_public_names_only(runtime, world, browser, published):
    c, made = published

    response = browser().get(f"/consultations/{c.id}/proposals.json")

    assert response.status_code == 200, response.text
    assert (
        response.headers["content-disposition"]
        == f'attachment; filename="consultation-{c.id}-proposals.json"'
    )
    body = response.json()
    assert body["consultation_id"] == c.id
    rows = {r["id"]: r for r in body["proposals"]}
    assert list(rows) == [
        made["formula"],
        made["popular"],
        made["taken_back"],
    ]  # no pending, hidden, rejected
    assert rows[made["popular"]]["support_count"] == 2
    assert rows[made["popular"]]["author"] == "-Mallory"
    assert rows[made["popular"]]["category"] == "safety"
    assert rows[made["formula"]]["support_count"] == 1
    assert rows[made["taken_back"]]["status"] == "withdrawn"
    assert set(rows[made["popular"]]) == {
        "id", "title", "author", "category", "district", "status",
        "support_count", "comment_count", "threshold_reached", "submitted_at",
    }  # fmt: skip
    assert rows[made["popular"]]["submitted_at"].endswith("+00:00")
    text = response.text
    for email in every_email(runtime):
        assert email not in text
    assert "@" not in text
    for secret in ("Still pending review", "Hidden by moderators", "Rejected by moderators"):
        assert secret not in text


def test_csv_is_the_same_table_and_safe_to_open_in_a_spreadsheet(runtime, world, browser, published):
    c, made = published

    response = browser().get(f"/consultations/{c.id}/proposals.csv")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["content-disposition"] == f'attachment; filename="consultation-{c.id}-proposals.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["id"]) for r in rows] == [made["formula"], made["popular"], made["taken_back"]]
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[made["formula"]]["title"] == '\'=HYPERLINK("http://evil.example","x")'  # a formula no more
    assert by_id[made["popular"]]["author"] == "'-Mallory"
    assert by_id[made["popular"]]["support_count"] == "2"
    for email in every_email(runtime):
        assert email not in response.text
    for secret in ("Still pending review", "Hidden by moderators", "Rejected by moderators"):
        assert secret not in response.text
    for row in rows:
        for value in row.values():
            assert value[:1] not in ("=", "+", "-", "@", "\t", "\r"), row


def test_unknown_formats_drafts_and_unknown_consultations_are_404(runtime, world, browser, published):
    c, _ = published
    with runtime.db.transaction() as s:
        draft = make_consultation(s, world.convener, publish=False)
    b, convener = browser(), browser(world.convener)
    for path in (
        f"/consultations/{c.id}/proposals.xml",
        f"/consultations/{c.id}/proposals.",
        f"/consultations/{draft.id}/proposals.csv",
        f"/consultations/{draft.id}/proposals.json",
        "/consultations/999999/proposals.json",
    ):
        assert b.get(path).status_code == 404, path
        assert convener.get(path).status_code == 404, path  # open data is for published consultations only
