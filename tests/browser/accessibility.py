"""axe-core in the page under test: `assert_accessible(page, "label")` fails on any serious or
critical violation of WCAG 2.0/2.1/2.2 A and AA (and axe's best practices), with a list a person
can act on: the rule, its impact, the elements (CSS selectors) and what to do.

axe-core comes with the axe-playwright-python package (nothing is downloaded). It is injected
through Playwright's own evaluation channel, which is not subject to the site's
Content-Security-Policy, and works on pages whose JavaScript is switched off (the no-JS journeys;
see `_TIMERS_AS_MICROTASKS`).
Moderate and minor findings do not fail a test; they are returned so a caller can print them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

FAILING_IMPACTS = frozenset({"serious", "critical"})
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_OPTIONS: dict[str, Any] = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "resultTypes": ["violations", "incomplete"],
}
# axe leaves text the colour of its own background "incomplete" (it may be hidden on purpose); on
# these pages it never is, so such text counts as a critical contrast failure: nobody can read it.
INVISIBLE_TEXT = "equalRatio"
MAX_TARGETS = 5  # per rule in the message; the count says how many more there were


@cache
def _axe() -> Axe:
    return Axe()


def _scripts_enabled(page: Page) -> bool:
    """Whether the page's context runs JavaScript (its `java_script_enabled` option).

    Playwright has no public getter; its context keeps the options it was made with. Should that
    ever move, the answer is "enabled" (and a no-JS page would then make axe wait forever, loudly).
    """
    options = getattr(getattr(page.context, "_impl_obj", None), "_options", None) or {}
    return bool(options.get("javaScriptEnabled", True))


# With the page's JavaScript switched off, Chromium still runs code Playwright evaluates, and its
# promises, but never fires a timer, and axe schedules its work with setTimeout(fn, 0). For the
# moment axe runs, zero-delay timers become microtasks; the delayed ones are only axe's give-up
# timeouts (frames that never answer, assets that never load), which are then never called.
_TIMERS_AS_MICROTASKS = """() => {
  if (window.__axeTimers) return;
  window.__axeTimers = [window.setTimeout, window.clearTimeout];
  let next = 1;
  window.setTimeout = (fn, delay, ...args) => {
    const id = next++;
    if (!delay || delay <= 1) Promise.resolve().then(() => typeof fn === "function" && fn(...args));
    return id;
  };
  window.clearTimeout = () => {};
}"""
_TIMERS_RESTORED = """() => {
  if (!window.__axeTimers) return;
  [window.setTimeout, window.clearTimeout] = window.__axeTimers;
  delete window.__axeTimers;
}"""


def _invisible_text(incomplete: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for result in incomplete:
        if result["id"] != "color-contrast":
            continue
        nodes = [
            node
            for node in result.get("nodes", [])
            if any(
                check.get("data", {}) and check["data"].get("messageKey") == INVISIBLE_TEXT
                for check in node.get("any", [])
            )
        ]
        if nodes:
            found.append(
                {
                    **result,
                    "impact": "critical",
                    "help": "Text is the same colour as its background",
                    "nodes": nodes,
                }
            )
    return found


# A toast fading in is, for a fifth of a second, pale text: axe would measure the colours half-way.
# Finite animations are run to their end first, as the reader sees them a moment later.
_FINISH_ANIMATIONS = """() => {
  for (const animation of document.getAnimations()) {
    try { animation.finish(); } catch (infinite) { /* a spinner: left running */ }
  }
}"""


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Every axe violation on the page as it is now (all impacts), and invisible text."""
    page.evaluate(_FINISH_ANIMATIONS)
    scripted = _scripts_enabled(page)
    if not scripted:
        page.evaluate(_TIMERS_AS_MICROTASKS)
    try:
        results = _axe().run(page, options=AXE_OPTIONS)
    finally:
        if not scripted:
            page.evaluate(_TIMERS_RESTORED)
    response = results.response
    return list(response.get("violations", [])) + _invisible_text(response.get("incomplete", []))


def describe(violations: list[dict[str, Any]]) -> str:
    """One block per rule: `rule-id (impact): help`, its help URL, then the offending elements."""
    lines: list[str] = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation.get('help', '')}")
        lines.append(f"  {violation.get('helpUrl', '')}")
        nodes = violation.get("nodes", [])
        for node in nodes[:MAX_TARGETS]:
            target = " ".join(str(part) for part in node.get("target", []))
            summary = (node.get("failureSummary") or "").replace("\n", " ").strip()
            lines.append(f"    at {target}" + (f" — {summary[:300]}" if summary else ""))
        if len(nodes) > MAX_TARGETS:
            lines.append(f"    … and {len(nodes) - MAX_TARGETS} more")
    return "\n".join(lines)


def assert_accessible(page: Page, label: str) -> list[dict[str, Any]]:
    """Fail if axe finds a serious or critical violation on `page`; `label` names the step.

    Returns the lesser (moderate, minor) violations, for a caller that wants to report them.
    """
    violations = axe_violations(page)
    failing = [v for v in violations if v.get("impact") in FAILING_IMPACTS]
    if failing:
        raise AssertionError(
            f"axe-core: {len(failing)} serious/critical accessibility violation(s) on {label} "
            f"({page.url}):\n{describe(failing)}"
        )
    return [v for v in violations if v.get("impact") not in FAILING_IMPACTS]


__all__ = ["assert_accessible", "axe_violations", "describe"]
