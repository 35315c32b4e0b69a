"""The rules file: good defaults, and every mistake stops the start with its line named."""

from __future__ import annotations

from pathlib import Path

import pytest

from civic.engagement.handlers import HANDLER_NAME, engagement_handlers
from civic.engagement.rules import DEFAULT_RULES_PATH, RulesError, load_rules, parse_rules
from civic.settings import ConfigurationError
from civic.wiring import default_handler_set

GOOD = """\
# a comment
[[rule]]
name = "supported"
event = "proposal.supported"
recipient = "actor"
points = 1
daily_cap = 10
reason = "You supported a proposal"

[[rule]]
name = "submitted"
event = "proposal.submitted"
recipient = "actor"
points = 3
only_if = { status = "published" }
reason = "You submitted a proposal"

[[reversal]]
name = "unsupported"
event = "proposal.unsupported"
undoes = "subject"
reason = "A support was withdrawn"
"""


def _error(text: str) -> RulesError:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.toml")
    return caught.value


def _line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_the_packaged_rules_load_and_weigh_outcomes_most():
    rules = load_rules()
    by_name = {r.name: r for r in rules.rules}
    outcomes = (
        "threshold_reached",
        "proposal_accepted",
        "proposal_partially_accepted",
        "proposal_implemented",
    )
    assert min(by_name[n].points for n in outcomes) > max(
        r.points for r in rules.rules if r.name not in outcomes
    ), "an outcome outweighs any act of taking part"
    assert by_name["proposal_implemented"].points > by_name["proposal_accepted"].points
    taking_part = ("proposal_submitted", "proposal_supported", "comment_posted")
    assert all(by_name[n].daily_cap is not None for n in taking_part), "taking part is capped daily"
    assert by_name["proposal_supported"].not_own_content
    assert {r.event for r in rules.reversals} == {
        "proposal.unsupported",
        "proposal.withdrawn",
        "comment.deleted",
        "proposal.hidden",
        "proposal.rejected",
        "comment.hidden",
    }, "content removed by its author or by moderation gives back what it earned"
    assert [h.name for h in engagement_handlers(rules)] == [HANDLER_NAME]


def test_the_default_handler_set_books_points():
    assert default_handler_set().get(HANDLER_NAME) is not None


def test_a_good_file_parses_with_the_lines_of_its_rules():
    rules = parse_rules(GOOD)
    assert [(r.name, r.line) for r in rules.rules] == [("supported", 2), ("submitted", 10)]
    assert rules.rules[1].only_if == (("status", "published"),)
    assert rules.cap("supported") == 10 and rules.cap("submitted") is None and rules.cap("gone") is None
    assert rules.event_types == {"proposal.supported", "proposal.submitted", "proposal.unsupported"}


# (what to change, into what, what the error says, the line it must name)
MISTAKES = [
    (
        'event = "proposal.submitted"',
        'event = "proposal.teleported"',
        "unknown event type 'proposal.teleported'",
        None,
    ),
    ("daily_cap = 10", "daily_cap = -1", "'daily_cap' must be a whole number ≥ 0", None),
    ("points = 3", "points = -3", "'points' must be a whole number ≥ 0", None),
    ("points = 3", "points = true", "'points' must be a whole number ≥ 0", None),
    ('recipient = "actor"', 'recipient = "supporter"', "recipient must be one of", None),
    ('recipient = "actor"', 'recipient = "proposal_author"', "no proposal_author_id", None),
    ('undoes = "subject"', 'undoes = "everything"', "'undoes' must be", None),
    ("daily_cap = 10", "daily_kap = 10", "unknown key 'daily_kap'", None),
    ('only_if = { status = "published" }', 'only_if = { colour = "red" }', "have no 'colour'", None),
    ('name = "submitted"', 'name = "Submitted Rule"', "'name' must be lowercase", None),
    ('event = "proposal.submitted"', 'event = "account.verified"', "personal data", None),
    ('event = "proposal.submitted"', 'event = "points.awarded"', "never reacts to points", None),
    ('event = "proposal.submitted"', 'event = "role.granted"', "not about a proposal or a comment", None),
    (
        "daily_cap = 10",
        "daily_cap = 10\nnot_own_content = false",
        "endorsing one's own content",
        "not_own_content",
    ),
]


@pytest.mark.parametrize(("old", "new", "says", "at"), MISTAKES)
def test_a_mistake_names_its_line(old: str, new: str, says: str, at: str | None):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    error = _error(text)
    assert says in error.problem
    expected = _line_of(text, at or new)
    assert error.line == expected, f"{error} should name line {expected}"
    assert str(error).startswith(f"rules.toml:{expected}: ")
    assert isinstance(error, ConfigurationError)


def test_a_name_used_twice_names_its_second_use():
    text = GOOD.replace('name = "submitted"', 'name = "supported"')
    error = _error(text)
    assert (error.line, error.problem) == (11, "the name 'supported' is used twice; names must be unique")
    assert text.splitlines()[10] == 'name = "supported"'


def test_a_missing_key_names_the_rules_table():
    text = GOOD.replace('recipient = "actor"\n', "", 1)
    error = _error(text)
    assert (error.line, error.problem) == (2, "[[rule]] supported: missing 'recipient'")


def test_malformed_toml_names_its_line():
    text = GOOD.replace("points = 3", "points = = 3")
    error = _error(text)
    assert error.line == _line_of(text, "points = = 3")
    assert "not valid TOML" in error.problem


def test_an_unknown_top_level_table_names_its_line():
    text = GOOD + "\n[[rules]]\nname = 'typo'\n"
    error = _error(text)
    assert error.line == _line_of(text, "[[rules]]")
    assert "unknown key 'rules'" in error.problem


def test_a_file_that_cannot_be_read_is_a_start_up_error(tmp_path: Path):
    with pytest.raises(RulesError, match="cannot read the rules file"):
        load_rules(tmp_path / "missing.toml")


def test_a_broken_rules_file_stops_the_handlers_from_being_built(tmp_path: Path):
    broken = tmp_path / "rules.toml"
    broken.write_text(DEFAULT_RULES_PATH.read_text().replace("daily_cap = 10", "daily_cap = -10"))
    with pytest.raises(RulesError) as caught:
        engagement_handlers(load_rules(broken))
    assert caught.value.source == str(broken)
    assert broken.read_text().splitlines()[caught.value.line - 1] == "daily_cap = -10"
