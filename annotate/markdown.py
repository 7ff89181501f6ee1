"""GitHub text is untrusted: render Markdown, then sanitize the HTML with nh3 (ammonia),
which drops scripts, event handlers and `javascript:` URLs. Django-free.

The cost is bounded. markdown-it-py is linear but slow on dense markup (a body of 65,536
brackets, image openers, emphasis runs or table cells took 1-3 s), and nh3 is quadratic
in the nesting of raw HTML blocks (13,000 nested <div>s: 0.8 s). So every parser rule
call counts as a step, each table cell as one, each raw HTML tag as STEPS_PER_TAG; past STEP_BUDGET
the text is shown escaped, as preformatted plain text. Nesting is capped by markdown-it
(maxNesting 20). Results are cached by content hash: a page shown again costs nothing."""

import hashlib
import html
import re
import threading
from collections import Counter, OrderedDict

import nh3
from markdown_it import MarkdownIt

COLLAPSE_LINES = 25
# GitHub caps issue and comment bodies at 65,536 characters; longer text is cut.
MAX_SOURCE_CHARS = 65_536
# Rule calls one text may use. Ordinary issues use a few thousand (65,536 characters of
# prose and code: about 25,000); the worst inputs reach this within about 0.2 s.
STEP_BUDGET = 40_000
# nh3's cost grows with the square of raw HTML nesting: at most 2,000 raw tags.
STEPS_PER_TAG = STEP_BUDGET // 2_000
CACHE_SIZE = 256
PLAIN_NOTICE = '<p class="muted">(shown as plain text: too much markup to render)</p>'
CUT_NOTICE = '<p class="muted">(text cut: too long to show in full)</p>'
# What render_markdown did, for tests and benches: "parsed", "cached", "plain".
stats: Counter = Counter()

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
# A code block scrolls sideways: the keyboard must reach it (a tab stop) and a screen
# reader name it (WCAG 2.1.1). The sanitizer sets these on every <pre>, over any given.
_PRE_ATTRIBUTES = {"tabindex": "0", "role": "region", "aria-label": "Code block"}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "pre": {"class", *_PRE_ATTRIBUTES},  # the given values are replaced by these
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


class OverBudget(Exception):
    """The text needs more than STEP_BUDGET steps to render."""


def _charge(env: dict, steps: int) -> None:
    env["steps"] += steps
    if env["steps"] > STEP_BUDGET:
        raise OverBudget


def _counted(rule):
    def counted(state, *args):
        _charge(state.env, 1)
        return rule(state, *args)

    return counted


def _line(state, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def _counted_table(rule):
    """The table rule builds a whole table in one call: charge its cells (columns of the
    header times the rows up to the next blank line) before it runs."""

    def counted(state, start_line, end_line, silent):
        _charge(state.env, 1)
        columns = _line(state, start_line).count("|")
        below = start_line + 1
        delimiter = _line(state, below) if below < end_line else ""
        if columns and "-" in delimiter and set(delimiter) <= set("|-: \t"):
            rows = below
            while rows < end_line and not state.isEmpty(rows):
                rows += 1
            _charge(state.env, columns * (rows - start_line))
        return rule(state, start_line, end_line, silent)

    return counted


def _charge_raw_html(state) -> None:
    """A core rule after inline parsing: each raw HTML tag costs STEPS_PER_TAG."""
    tags = 0
    for token in state.tokens:
        if token.type == "html_block":
            tags += token.content.count("<")
        for child in token.children or ():
            if child.type == "html_inline":
                tags += child.content.count("<")
    _charge(state.env, tags * STEPS_PER_TAG)


_md = MarkdownIt("commonmark", {"html": True, "linkify": False, "breaks": True}).enable(
    ["table", "strikethrough"]
)
_md.add_render_rule("fence", _fence)
_md.add_render_rule("code_block", _fence)
for _ruler in (_md.core.ruler, _md.block.ruler, _md.inline.ruler, _md.inline.ruler2):
    for _rule in list(_ruler.__rules__):
        counter = _counted_table if _rule.name == "table" else _counted
        _ruler.at(_rule.name, counter(_rule.fn), {"alt": _rule.alt})
_md.core.ruler.push("charge_raw_html", _charge_raw_html)

_cache: OrderedDict[bytes, str] = OrderedDict()
_cache_lock = threading.Lock()


def render_markdown(text: str | None, *, external_images: bool = False) -> str:
    """Markdown to safe HTML, at most STEP_BUDGET parser steps (beyond it: escaped plain
    text, with a notice). Text past GitHub's limit is cut, with a notice. Cached.

    Images become links (their text and URL) so that an issue cannot plant a tracking
    pixel, unless `external_images` (the project's choice) lets http(s) images load;
    data: and other sources never load."""
    if not text:
        return ""
    flag = b"\x01" if external_images else b"\x00"
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass") + flag, digest_size=16).digest()
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            stats["cached"] += 1
            return _cache[key]
    result = _render(text, external_images)
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def render_steps(text: str) -> int:
    """The parser steps `text` takes, or STEP_BUDGET + 1 when it would exceed the budget."""
    env = {"steps": 0}
    try:
        _md.parse(text[:MAX_SOURCE_CHARS], env)
    except OverBudget:
        return STEP_BUDGET + 1
    return env["steps"]


# nh3 serialises every attribute value double-quoted, with '"' escaped, so a tag ends at
# the first '>' outside quotes.
_IMG = re.compile(r'<img((?:\s+[^\s=>"]+(?:="[^"]*")?)*)\s*/?>')
_ATTR = re.compile(r'([^\s=>"]+)(?:="([^"]*)")?')
_LOADABLE = re.compile(r"https://[^/]", re.I)


def _image_as_link(match: re.Match, external_images: bool) -> str:
    attrs = {name: html.unescape(value) for name, value in _ATTR.findall(match.group(1))}
    src, alt = attrs.get("src", ""), attrs.get("alt", "") or "image"
    if _LOADABLE.match(src):
        if external_images:
            return match.group(0)
        return (
            f'<a class="image-link" href="{html.escape(src)}" rel="nofollow noopener noreferrer">'
            f"{html.escape(alt)} (image: {html.escape(src)})</a>"
        )
    return f'<span class="image-link">{html.escape(alt)} (image not shown)</span>'


def _render(text: str, external_images: bool = False) -> str:
    notice = ""
    if len(text) > MAX_SOURCE_CHARS:
        text, notice = text[:MAX_SOURCE_CHARS], CUT_NOTICE
    try:
        raw = _md.render(text, {"steps": 0})
    except OverBudget:
        stats["plain"] += 1
        return f'<pre class="plain-text">{html.escape(text)}</pre>{PLAIN_NOTICE}{notice}'
    stats["parsed"] += 1
    clean = nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        set_tag_attribute_values={"pre": _PRE_ATTRIBUTES},
    )
    clean = _IMG.sub(lambda m: _image_as_link(m, external_images), clean)
    return clean + notice
