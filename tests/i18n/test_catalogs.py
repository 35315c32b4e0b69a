"""Every string shown to people is in the catalogs and translated into Azerbaijani.

Three nets: the catalogs against what Babel extracts from the code and templates (missing,
untranslated, fuzzy, placeholders that differ, unused); the templates scanned for text outside
`_()`; the code scanned for error messages written as bare literals.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from civic.i18n.tool import TRANSLATED_LOCALES, problems

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "web" / "templates"
LETTERS = re.compile(r"[A-Za-zƏəÖöÜüĞğİıŞşÇç]{2,}")
# Names that read the same in both languages (and are not sentences).
SAME_IN_EVERY_LANGUAGE = {"civic", "CSV", "JSON", "UTC", "RFC", "SHA", "Ed25519", "ISO", "IEC", "TS", "DPV"}
VISIBLE_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "aria-description", "aria-roledescription"}


@pytest.mark.parametrize("locale", TRANSLATED_LOCALES)
def test_every_marked_string_is_translated(locale: str) -> None:
    found = list(problems(locale))
    assert not found, f"{len(found)} catalog problem(s) (run `civic i18n update`, translate):\n" + "\n".join(
        found[:60]
    )


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.found: list[tuple[str, str]] = []  # (how to show it, the text to look at)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self.found.append((f'{name}="{value}"', value))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.found.append((data, data))


def bare_text(source: str) -> list[str]:
    """Text a template shows that does not come from `_()` or a variable."""
    source = re.sub(r"\{#.*?#\}", " ", source, flags=re.S)
    source = re.sub(r"\{%.*?%\}", " ", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}", " ", source, flags=re.S)
    source = re.sub(r"<!--.*?-->", " ", source, flags=re.S)
    collector = _TextCollector()
    collector.feed(source)
    bare = []
    for shown, text in collector.found:
        words = [w for w in LETTERS.findall(text) if w not in SAME_IN_EVERY_LANGUAGE]
        if words:
            bare.append(" ".join(shown.split()))
    return bare


def test_templates_show_no_text_outside_gettext() -> None:
    offenders = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for text in bare_text(path.read_text()):
            offenders.append(f"{path.relative_to(ROOT)}: {text[:80]!r}")
    assert not offenders, "wrap these in _():\n" + "\n".join(offenders)


def test_the_template_scan_finds_bare_text() -> None:
    assert bare_text('<p>Hello there</p><a title="Open it" href="/">{{ _("Fine") }}</a>') == [
        "Hello there",
        'title="Open it"',
    ]
    assert bare_text('<p>{{ _("Fine") }} · {{ count }} — CSV</p><script>let x = "y";</script>') == []
    assert bare_text("<nav aria-label=\"{{ _('Main') }}\"></nav>") == []


def _error_classes(tree_by_path: dict[Path, ast.Module]) -> set[str]:
    names = {"CivicError", "InvalidInput", "NotAuthenticated", "Forbidden", "NotFound", "Conflict"}
    names |= {"RateLimited", "ServiceUnavailable"}
    changed = True
    while changed:
        changed = False
        for tree in tree_by_path.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
                    if bases & names:
                        names.add(node.name)
                        changed = True
    return names


def _is_bare(node: ast.AST) -> bool:
    """A literal sentence, an f-string, or a literal formatted with % or .format()."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(LETTERS.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return _is_bare(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _is_bare(node.func.value)
    return False


def bare_error_messages(tree: ast.Module, error_classes: set[str]) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name not in error_classes:
            continue
        if node.args and _is_bare(node.args[0]):
            lines.append(node.lineno)
        for keyword in node.keywords:
            if keyword.arg == "message" and _is_bare(keyword.value):
                lines.append(node.lineno)
            if keyword.arg == "fields" and isinstance(keyword.value, ast.Dict):
                lines.extend(v.lineno for v in keyword.value.values if v is not None and _is_bare(v))
        if len(node.args) > 1 and isinstance(node.args[1], ast.Dict):
            lines.extend(v.lineno for v in node.args[1].values if v is not None and _is_bare(v))
    return lines


def test_error_messages_in_code_go_through_gettext() -> None:
    # Operators' tools (the CLI, the demo's content) speak English on purpose.
    paths = [
        p
        for p in sorted((ROOT / "civic").rglob("*.py"))
        if "cli" not in p.relative_to(ROOT / "civic").parts[:1] and not p.name.startswith("demo")
    ]
    trees = {p: ast.parse(p.read_text()) for p in paths}
    classes = _error_classes(trees)
    offenders = []
    for path, tree in trees.items():
        # Validators' ValueErrors in schemas and forms become the message next to a form field.
        scanned = classes | {"ValueError"} if path.name in ("schemas.py", "forms.py") else classes
        offenders.extend(f"{path.relative_to(ROOT)}:{line}" for line in bare_error_messages(tree, scanned))
    assert not offenders, "error messages people read must be _('…') calls:\n" + "\n".join(offenders)


def test_the_code_scan_finds_bare_messages() -> None:
    tree = ast.parse(
        'raise NotFound("No such proposal.")\n'
        'raise NotFound(_("No such proposal."))\n'
        'raise Conflict(f"Already {x}.")\n'
        'raise InvalidInput(_("Check."), {"title": "Too long."})\n'
    )
    assert bare_error_messages(tree, {"NotFound", "Conflict", "InvalidInput"}) == [1, 3, 4]
