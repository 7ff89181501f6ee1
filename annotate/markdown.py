"""GitHub text is untrusted: render Markdown, then sanitize the HTML with nh3 (ammonia),
which drops scripts, event handlers and `javascript:` URLs. Django-free."""

import html

import nh3
from markdown_it import MarkdownIt

COLLAPSE_LINES = 25
# GitHub caps issue and comment bodies at 65,536 characters; past that, hostile input
# (deeply nested tags, runs of brackets) costs seconds to render and sanitize.
MAX_SOURCE_CHARS = 65_536

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "pre": {"class"},
    "details": {"class", "open"},
    "summary": {"class"},
    "td": {"align"},
    "th": {"align"},
    "div": {"class"},
    "span": {"class"},
}


def _fence(renderer, tokens, idx, options, env):
    token = tokens[idx]
    language = token.info.strip().split(" ")[0] if token.info else ""
    lang_class = f' class="language-{html.escape(language, quote=True)}"' if language else ""
    code = html.escape(token.content)
    block = f"<pre><code{lang_class}>{code}</code></pre>\n"
    lines = token.content.count("\n")
    if lines > COLLAPSE_LINES:
        return (
            f'<details class="long-code"><summary>{lines} lines of '
            f"{html.escape(language) or 'code'}</summary>{block}</details>\n"
        )
    return block


_md = MarkdownIt("commonmark", {"html": True, "linkify": False, "breaks": True}).enable(
    ["table", "strikethrough"]
)
_md.add_render_rule("fence", _fence)
_md.add_render_rule("code_block", _fence)


def render_markdown(text: str | None) -> str:
    """Markdown to safe HTML. Very long input is cut (with a notice) to bound the cost."""
    if not text:
        return ""
    notice = ""
    if len(text) > MAX_SOURCE_CHARS:
        text = text[:MAX_SOURCE_CHARS]
        notice = '<p class="muted">(text cut: too long to show in full)</p>'
    raw = _md.render(text)
    clean = nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return clean + notice
