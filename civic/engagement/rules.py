"""Point rules: read from a TOML file at start, checked before the process serves anyone.

A rules file that cannot work (an event type nobody emits, a negative cap, a recipient the event
does not name, a typo in a key, TOML that does not parse) stops the process with the file and line
named: a points system that silently ignores half its rules is worse than one that does not start.
The file format is documented in the packaged `rules.toml`.

Some rules are refused whatever the file says, because they would make points unfair or pressure
people: points for endorsing one's own content, and points for any event about registering,
verifying or disclosing personal data (consent must stay freely given).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import civic.engagement.events  # noqa: F401  (registers points.*, which no rule may react to)
import civic.identity.events  # noqa: F401  (registers the event types rules may name)
import civic.participation.events  # noqa: F401
from civic.events.envelope import registered_event_types
from civic.settings import ConfigurationError

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.toml")

# Who receives a rule's points, and the payload field that names them (None: the envelope's actor).
RECIPIENTS: dict[str, str | None] = {
    "actor": None,
    "author": "author_id",
    "proposal_author": "proposal_author_id",
}
UNDOES = ("subject", "content")
# Events whose actor endorses someone's content: never rewarded when it is the actor's own.
ENDORSEMENTS = frozenset({"proposal.supported", "comment.marked_helpful"})
# Engagement never rewards these: they are about (disclosing) personal data, or about points.
NEVER_REWARDED = frozenset({"account.registered", "account.verified"})
NEVER_REWARDED_PREFIXES = ("points.", "badge.", "consent.", "disclosure.", "vault.", "trust.")

_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,59}$")
_RULE_KEYS = {"name", "event", "recipient", "points", "reason", "daily_cap", "not_own_content", "only_if"}
_REVERSAL_KEYS = {"name", "event", "undoes", "reason"}


class RulesError(ConfigurationError):
    """The rules file cannot be used; the message names the file and line."""

    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(f"{source}:{line}: {problem}")
        self.source, self.line, self.problem = source, line, problem


@dataclass(frozen=True)
class Rule:
    name: str
    event: str
    recipient: str
    points: int
    reason: str
    daily_cap: int | None = None  # None: no cap; 0: the rule is switched off
    not_own_content: bool = False
    only_if: tuple[tuple[str, Any], ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Reversal:
    name: str
    event: str
    undoes: str  # "subject" or "content"
    reason: str
    line: int = 0


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    reversals: tuple[Reversal, ...]
    source: str = "<rules>"
    _caps: dict[str, int | None] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._caps.update({r.name: r.daily_cap for r in self.rules})

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(r.event for r in self.rules) | frozenset(r.event for r in self.reversals)

    def for_event(self, event_type: str) -> list[Rule]:
        return [r for r in self.rules if r.event == event_type]

    def reversals_for(self, event_type: str) -> list[Reversal]:
        return [r for r in self.reversals if r.event == event_type]

    def cap(self, rule_name: str) -> int | None:
        """The daily cap of a rule; a rule no longer in the file has none."""
        return self._caps.get(rule_name)


def load_rules(path: Path | str = DEFAULT_RULES_PATH) -> Rules:
    """Read and check a rules file. Raises RulesError naming the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(str(path), 0, f"cannot read the rules file: {exc.strerror or exc}") from exc
    return parse_rules(text, str(path))


def parse_rules(text: str, source: str = "<rules>") -> Rules:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else 0)
        raise RulesError(source, line, f"not valid TOML: {exc}") from exc
    lines = _Lines(text)
    for key in document:
        if key not in ("rule", "reversal"):
            raise RulesError(
                source, lines.top_key(key), f"unknown key {key!r}: use [[rule]] and [[reversal]]"
            )
    tables = {kind: _tables(source, lines, document, kind) for kind in ("rule", "reversal")}
    rules = tuple(_rule(_Table(source, lines, "rule", i, t)) for i, t in enumerate(tables["rule"]))
    reversals = tuple(
        _reversal(_Table(source, lines, "reversal", i, t)) for i, t in enumerate(tables["reversal"])
    )
    seen: set[str] = set()
    named = [("rule", i, r.name) for i, r in enumerate(rules)] + [
        ("reversal", i, r.name) for i, r in enumerate(reversals)
    ]
    for table, index, name in named:
        if name in seen:
            line = lines.key(table, index, "name")
            raise RulesError(source, line, f"the name {name!r} is used twice; names must be unique")
        seen.add(name)
    return Rules(rules=rules, reversals=reversals, source=source)


class _Lines:
    """Where things are in the file: tomllib gives values, not positions, so look them up."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def headers(self, table: str) -> list[int]:
        pattern = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
        return [n for n, line in enumerate(self.lines, 1) if pattern.match(line)]

    def top_key(self, key: str) -> int:
        pattern = re.compile(rf"^\s*(\[+\s*)?[\"']?{re.escape(key)}[\"']?\s*[=\].]")
        return next((n for n, line in enumerate(self.lines, 1) if pattern.match(line)), 1)

    def table(self, table: str, index: int) -> int:
        headers = self.headers(table)
        return headers[index] if index < len(headers) else self.top_key(table)

    def key(self, table: str, index: int, key: str) -> int:
        """The line of `key` in the index-th [[table]], or the table's header line."""
        start = self.table(table, index)
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for n in range(start, len(self.lines)):  # 0-based: the lines after the header
            if re.match(r"^\s*\[", self.lines[n]):
                break
            if pattern.match(self.lines[n]):
                return n + 1
        return start


def _tables(source: str, lines: _Lines, document: dict[str, Any], name: str) -> list[dict[str, Any]]:
    tables = document.get(name, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise RulesError(source, lines.top_key(name), f"{name!r} must be a list of tables: write [[{name}]]")
    return tables


def _payload_fields(event: str) -> set[str]:
    return set(registered_event_types()[event].payload.model_fields)


@dataclass(frozen=True)
class _Table:
    """One [[rule]] or [[reversal]] table being checked, able to say where a problem is."""

    source: str
    lines: _Lines
    kind: str  # "rule" or "reversal"
    index: int
    values: dict[str, Any]

    def fail(self, key: str | None, problem: str) -> NoReturn:
        line = self.lines.key(self.kind, self.index, key) if key else self.lines.table(self.kind, self.index)
        name = self.values.get("name")
        label = name if isinstance(name, str) else f"#{self.index + 1}"
        raise RulesError(self.source, line, f"[[{self.kind}]] {label}: {problem}")

    def check_keys(self, allowed: set[str], required: tuple[str, ...]) -> None:
        for key in self.values:
            if key not in allowed:
                self.fail(key, f"unknown key {key!r}; allowed: {', '.join(sorted(allowed))}")
        for key in required:
            if key not in self.values:
                self.fail(None, f"missing {key!r}")
        name, reason = self.values["name"], self.values["reason"]
        if not isinstance(name, str) or not _NAME.match(name):
            self.fail(
                "name", "'name' must be lowercase letters, digits, '_' or '.' (at most 60), first a letter"
            )
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
            self.fail("reason", "'reason' must be a short text (1-200 characters) shown to the citizen")

    def event(self) -> str:
        event = self.values["event"]
        if not isinstance(event, str) or not event:
            self.fail("event", "'event' must name an event type, e.g. \"proposal.supported\"")
        if event in NEVER_REWARDED or event.startswith(NEVER_REWARDED_PREFIXES):
            self.fail(
                "event", f"{event!r}: engagement never reacts to points or to (disclosing) personal data"
            )
        if event not in registered_event_types():
            known = ", ".join(sorted(t for t in registered_event_types() if not t.startswith("points.")))
            self.fail("event", f"unknown event type {event!r}; known types: {known}")
        if not _payload_fields(event) & {"proposal_id", "comment_id"}:
            self.fail(
                "event", f"{event!r} is not about a proposal or a comment; engagement cannot key its points"
            )
        return event

    def whole(self, key: str, what: str) -> int:
        value = self.values[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(key, f"{key!r} must be a whole number ≥ 0 ({what}), not {value!r}")
        return value

    def line(self) -> int:
        return self.lines.table(self.kind, self.index)


def _rule(t: _Table) -> Rule:
    t.check_keys(_RULE_KEYS, ("name", "event", "recipient", "points", "reason"))
    event = t.event()
    fields = _payload_fields(event)
    recipient = t.values["recipient"]
    if not isinstance(recipient, str) or recipient not in RECIPIENTS:
        t.fail("recipient", f"recipient must be one of {', '.join(RECIPIENTS)}, not {recipient!r}")
    needed = RECIPIENTS[recipient]
    if needed is not None and needed not in fields:
        t.fail("recipient", f"{event} events do not name a {recipient} (no {needed} in the payload)")
    points = t.whole("points", "reversals are [[reversal]] entries, not negative points")
    cap = (
        t.whole("daily_cap", "0 switches the rule off; leave it out for no cap")
        if "daily_cap" in t.values
        else None
    )
    not_own = t.values.get("not_own_content", event in ENDORSEMENTS)
    if not isinstance(not_own, bool):
        t.fail("not_own_content", "'not_own_content' must be true or false")
    if event in ENDORSEMENTS and not not_own:
        t.fail("not_own_content", "endorsing one's own content never earns points")
    only_if = t.values.get("only_if", {})
    if not isinstance(only_if, dict):
        t.fail(
            "only_if", "'only_if' must be a table of payload fields and values: { status = \"published\" }"
        )
    for key, value in only_if.items():
        if key not in fields:
            t.fail("only_if", f"{event} events have no {key!r}; fields: {', '.join(sorted(fields))}")
        if not isinstance(value, str | int | bool):
            t.fail("only_if", f"only_if.{key} must be a text, a number or true/false")
    return Rule(
        name=t.values["name"],
        event=event,
        recipient=recipient,
        points=points,
        reason=t.values["reason"],
        daily_cap=cap,
        not_own_content=not_own,
        only_if=tuple(sorted(only_if.items())),
        line=t.line(),
    )


def _reversal(t: _Table) -> Reversal:
    t.check_keys(_REVERSAL_KEYS, ("name", "event", "undoes", "reason"))
    event = t.event()
    undoes = t.values["undoes"]
    if undoes not in UNDOES:
        t.fail("undoes", f'\'undoes\' must be "subject" or "content", not {undoes!r}')
    if undoes == "content" and "author_id" not in _payload_fields(event):
        t.fail("undoes", f"{event} events do not name the content's author, whose points it would undo")
    return Reversal(
        name=t.values["name"], event=event, undoes=undoes, reason=t.values["reason"], line=t.line()
    )
