"""The safe Markdown subset citizens write in: rendered on the server, raw HTML never passes.

markdown-it-py with HTML disabled escapes every tag; its link validator refuses javascript:,
vbscript:, file: and data: URLs. Links open with rel="nofollow ugc noopener" so the platform
lends no ranking to spam and no window handle to the linked page.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

_RULES = ["emphasis", "list", "link", "newline", "blockquote", "backticks", "heading", "fence", "code", "hr"]


def _renderer() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False}).enable(_RULES)

    def render_link_open(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        tokens[idx].attrSet("rel", "nofollow ugc noopener")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", render_link_open)

    def render_heading_open(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        # A citizen's "# Title" must not compete with the page's own h1/h2.
        token = tokens[idx]
        token.tag = "h3" if token.tag in ("h1", "h2") else "h4"
        return renderer.renderToken(tokens, idx, options, env)

    def render_heading_close(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        token = tokens[idx]
        token.tag = "h3" if token.tag in ("h1", "h2") else "h4"
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("heading_open", render_heading_open)
    md.add_render_rule("heading_close", render_heading_close)
    return md


_MD = _renderer()


def render_markdown(source: str) -> str:
    return _MD.render(source)
