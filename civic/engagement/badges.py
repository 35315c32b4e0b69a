"""Badge definitions: read from `badges.toml` at start and checked, like the point rules.

A badge names one of the counts engagement knows how to compute from source data
(`civic.engagement.measures`) and the five thresholds of its levels. A file that cannot work (an
unknown badge, thresholds that are not five increasing whole numbers above zero, a typo in a key)
stops the process naming the file and the line: `BadgesError`, a `RulesError` like the rules
file's. The format is documented in the packaged file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from civic.engagement.rules import RulesError, _Lines
from civic.engagement.texts import BADGE_TEXTS

DEFAULT_BADGES_PATH = Path(__file__).with_name("badges.toml")
LEVELS = 5

# Every badge engagement can count, with the count's meaning (documentation, and the pages' hint).
KNOWN = {
    "proposer": "published proposals",
    "supporter": "supports of other people's published proposals",
    "commenter": "published comments",
    "first_consultation": "consultations taken part in",
    "streak": "longest run of consecutive months with participation",
    "verified": "months as a verified e-citizen",
    "heard": "proposals with an official answer",
    "changemaker": "proposals accepted, partially accepted or implemented",
    "reliable_reporter": "reports upheld by moderators",
}
# Badges whose progress is never shown to someone who has not earned them: no nudge to disclose.
UNPROMPTED = frozenset({"verified"})
_KEYS = {"name", "title", "description", "thresholds"}


class BadgesError(RulesError):
    """The badges file cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Badge:
    name: str
    title: str
    description: str
    thresholds: tuple[int, int, int, int, int]
    line: int = 0

    def level_for(self, count: int) -> int:
        """0 below the first threshold, else the highest level whose threshold `count` reaches."""
        return sum(1 for threshold in self.thresholds if count >= threshold)

    def next_threshold(self, count: int) -> int | None:
        return next((t for t in self.thresholds if count < t), None)


@dataclass(frozen=True)
class Badges:
    badges: tuple[Badge, ...]
    source: str = "<badges>"

    def get(self, name: str) -> Badge | None:
        return next((b for b in self.badges if b.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.badges)


def load_badges(path: Path | str = DEFAULT_BADGES_PATH) -> Badges:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadgesError(str(path), 0, f"cannot read the badges file: {exc.strerror or exc}") from exc
    return parse_badges(text, str(path))


def parse_badges(text: str, source: str = "<badges>") -> Badges:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else len(text.splitlines()))
        raise BadgesError(source, line, f"not valid TOML: {exc}") from exc
    lines = _Lines(text)
    for key in document:
        if key != "badge":
            raise BadgesError(source, lines.top_key(key), f"unknown key {key!r}: use [[badge]]")
    tables = document.get("badge", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise BadgesError(source, lines.top_key("badge"), "'badge' must be a list of tables: write [[badge]]")
    badges: list[Badge] = []
    for index, values in enumerate(tables):
        badge = _badge(_Table(source, lines, index, values))
        if badge.name in {b.name for b in badges}:
            line = lines.key("badge", index, "name")
            raise BadgesError(source, line, f"the badge {badge.name!r} is defined twice")
        badges.append(badge)
    return Badges(badges=tuple(badges), source=source)


@dataclass(frozen=True)
class _Table:
    source: str
    lines: _Lines
    index: int
    values: dict[str, Any]

    def fail(self, key: str | None, problem: str) -> NoReturn:
        line = self.lines.key("badge", self.index, key) if key else self.lines.table("badge", self.index)
        name = self.values.get("name")
        label = name if isinstance(name, str) else f"#{self.index + 1}"
        raise BadgesError(self.source, line, f"[[badge]] {label}: {problem}")

    def text(self, key: str, limit: int) -> str:
        value = self.values[key]
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            self.fail(key, f"{key!r} must be a short text (1-{limit} characters)")
        return value.strip()

    def translatable(self, key: str, limit: int) -> str:
        """A text citizens see: it must be one the catalogs translate (civic/engagement/texts.py)."""
        value = self.text(key, limit)
        if value not in BADGE_TEXTS:
            self.fail(
                key,
                f"{key!r} {value!r} has no translation: list it in civic/engagement/texts.py, "
                "then run `civic i18n update --area engagement` and translate it",
            )
        return value


def _badge(t: _Table) -> Badge:
    for key in t.values:
        if key not in _KEYS:
            t.fail(key, f"unknown key {key!r}; allowed: {', '.join(sorted(_KEYS))}")
    for key in ("name", "title", "description", "thresholds"):
        if key not in t.values:
            t.fail(None, f"missing {key!r}")
    name = t.values["name"]
    if name not in KNOWN:
        t.fail("name", f"unknown badge {name!r}; known badges: {', '.join(sorted(KNOWN))}")
    thresholds = t.values["thresholds"]
    numbers = isinstance(thresholds, list) and all(
        isinstance(n, int) and not isinstance(n, bool) for n in thresholds
    )
    if not numbers or len(thresholds) != LEVELS:
        t.fail("thresholds", f"'thresholds' must be {LEVELS} whole numbers, e.g. [1, 5, 10, 30, 60]")
    if thresholds[0] <= 0 or any(b <= a for a, b in zip(thresholds, thresholds[1:], strict=False)):
        t.fail("thresholds", f"'thresholds' must be above zero and increasing, not {thresholds}")
    return Badge(
        name=name,
        title=t.translatable("title", 60),
        description=t.translatable("description", 120),
        thresholds=tuple(thresholds),  # type: ignore[arg-type]
        line=t.lines.table("badge", t.index),
    )
