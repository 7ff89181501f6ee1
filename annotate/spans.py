"""Evidence spans over the text an annotator read (issue #15). Django-free.

A part of an issue (its title, its body, one comment) is shown as sanitized HTML; the
browser's `textContent` of that HTML is the part's *plain text*, and a span is a pair of
offsets into it counted in code points (an emoji is one, not two UTF-16 units). The
server rebuilds the same plain text from the same HTML (`plain_text`), checks spans
against it, hashes it so that a later edit of the issue is noticed, and wraps spans in
<mark> (`mark_spans`) without changing the text.

The HTML this reads is our own sanitizer's output (or an escaped title): well-formed, no
comments, no scripts. The browser's parser rules that change text are applied: a newline
right after <pre> is dropped, CR LF and CR become LF, a literal NUL is dropped.
"""

import hashlib
import html
import re
from dataclasses import dataclass

# A tag (attribute values may hold ">" inside quotes) or a run of text between tags.
_TOKEN = re.compile(r"""(<(?:[^>"']|"[^"]*"|'[^']*')*>)""")
_PRE = re.compile(r"<pre[\s>]", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
HASH_LENGTH = 64


def _decoded(raw: str) -> str:
    """A text run as the DOM holds it."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return html.unescape(raw)


def _runs(markup: str):
    """(is_tag, raw, text) for each token, where text is what the run adds to
    textContent: "" for a tag."""
    after_pre = False
    for token in _TOKEN.split(markup or ""):
        if not token:
            continue
        if token.startswith("<") and _TOKEN.fullmatch(token):
            yield True, token, ""
            after_pre = bool(_PRE.match(token))
            continue
        text = _decoded(token)
        if after_pre and text.startswith("\n"):
            # The HTML parser drops the newline that follows <pre>: keep it in the
            # markup, not in the text.
            yield True, "\n", ""
            text, token = text[1:], html.escape(text[1:], quote=False)
        after_pre = False
        yield False, token, text


def plain_text(markup: str) -> str:
    """The browser's textContent of `markup` (a fragment of sanitized HTML)."""
    return "".join(text for _, _, text in _runs(markup))


def text_hash(text: str) -> str:
    """The version of a part's plain text a span was taken in (hex SHA-256)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def normalize_quote(text: str) -> str:
    """A quote as the labeling page writes it: runs of whitespace as one space, trimmed."""
    return _WHITESPACE.sub(" ", text or "").strip()


@dataclass(frozen=True)
class Mark:
    """A span to highlight: [start, end) in code points, with the classes and the title
    (who, which dimension) its <mark> gets."""

    start: int
    end: int
    css: str
    title: str


def _mark_open(covering: list[Mark]) -> str:
    classes = " ".join(sorted({"evidence", *(m.css for m in covering)}))
    title = "; ".join(dict.fromkeys(m.title for m in covering))
    return f'<mark class="{html.escape(classes)}" title="{html.escape(title)}">'


def mark_spans(markup: str, marks: list[Mark]) -> str:
    """`markup` with every text run inside a mark wrapped in <mark>; the text (and so
    every offset) is unchanged. Overlapping marks become one <mark> per stretch, titled
    with all of them. Whitespace-only stretches are left bare (between table rows a
    <mark> would be moved by the parser)."""
    marks = [m for m in marks if m.end > m.start]
    if not marks:
        return markup
    out, offset = [], 0
    for is_tag, raw, text in _runs(markup):
        if is_tag or not text:
            out.append(raw)
            continue
        end = offset + len(text)
        inside = [m for m in marks if m.start < end and m.end > offset]
        if not inside:
            out.append(raw)
            offset = end
            continue
        cuts = sorted(
            {offset, end}
            | {m.start for m in inside if offset < m.start < end}
            | {m.end for m in inside if offset < m.end < end}
        )
        for left, right in zip(cuts, cuts[1:], strict=False):
            piece = text[left - offset : right - offset]
            covering = [m for m in inside if m.start <= left and m.end >= right]
            escaped = html.escape(piece, quote=False)
            if covering and piece.strip():
                out.append(f"{_mark_open(covering)}{escaped}</mark>")
            else:
                out.append(escaped)
        offset = end
    return "".join(out)


@dataclass(frozen=True)
class Span:
    """A span as submitted: the part ("title", "body", "comment-<id>" or "fix-<id>", the
    title of a mining.FixLink shown beside the issue), offsets and the
    hash of the part's plain text the annotator saw."""

    part: str
    start: int
    end: int
    hash: str

    def encode(self) -> str:
        return f"{self.part}:{self.start}:{self.end}:{self.hash}"


_SPAN = re.compile(
    r"(title|body|(?:comment|fix)-[0-9]{1,18}):([0-9]{1,9}):([0-9]{1,9}):([0-9a-f]{64})"
)


class SpanError(ValueError):
    """A span that does not fit the text it names; the message says why."""


PART_NAMES = {"title": "the title", "body": "the body"}


def part_name(part: str) -> str:
    """How messages and pages name a part: "the body", "comment 12", "the fix #7"."""
    if part.startswith("fix-"):
        return part.replace("fix-", "the fix #")
    return PART_NAMES.get(part) or part.replace("comment-", "comment ")


def parse_span(raw: str) -> Span:
    """A span from its form value `part:start:end:hash`."""
    match = _SPAN.fullmatch((raw or "").strip())
    if not match:
        raise SpanError(
            "the evidence span is not in the form part:start:end:hash "
            "(select the text again and press Alt+E)"
        )
    part, start, end, digest = match.groups()
    return Span(part, int(start), int(end), digest)


def check_span(span: Span, quote: str, texts: dict[str, str]) -> None:
    """Raise SpanError unless `span` lies inside the plain text of its part in `texts`
    ({part: plain text}), that text still has the hash the annotator saw, and `quote`
    is the slice (whitespace as normalize_quote writes it)."""
    text = texts.get(span.part)
    if text is None:
        if span.part.startswith("comment-"):
            raise SpanError(f"{part_name(span.part)} is not a comment of this item's issue")
        if span.part.startswith("fix-"):
            raise SpanError(f"{part_name(span.part)} is not a fix shown beside this item's issue")
        raise SpanError(f"this item's issue has no {span.part}")
    if span.hash != text_hash(text):
        raise SpanError(
            f"{part_name(span.part)} changed since you selected the evidence; "
            "reload the item and select it again"
        )
    if span.start >= span.end:
        raise SpanError(f"the evidence span is empty (start {span.start}, end {span.end})")
    if span.end > len(text):
        raise SpanError(
            f"the evidence span ends at character {span.end}, but "
            f"{part_name(span.part)} has {len(text)} characters"
        )
    if normalize_quote(quote) != normalize_quote(text[span.start : span.end]):
        raise SpanError(
            f"the quote does not match characters {span.start}-{span.end} of "
            f"{part_name(span.part)}; select the text again and press Alt+E"
        )
