"""Evidence spans over the issue text, without a database (annotate.spans): the plain text
the browser counts in, code points not UTF-16 units, and every way a span can be wrong."""

import html

import pytest

from annotate.markdown import render_markdown
from annotate.spans import (
    Mark,
    Span,
    SpanError,
    check_span,
    mark_spans,
    normalize_quote,
    parse_span,
    plain_text,
    text_hash,
)

BODY = "The model 😀 crashes with **CUDA out of memory** on 👩‍👩‍👧 two GPUs.\r\n\nSee `nvidia-smi`."


def span_of(text: str, quote: str, part: str = "body") -> Span:
    start = text.index(quote)  # Python counts code points
    return Span(part, start, start + len(quote), text_hash(text))


def utf16_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def test_plain_text_is_the_text_content_of_the_rendered_markdown():
    text = plain_text(render_markdown(BODY))
    assert "The model 😀 crashes with CUDA out of memory on 👩‍👩‍👧 two GPUs." in text
    assert "See nvidia-smi." in text
    assert "**" not in text and "\r" not in text


def test_plain_text_of_an_escaped_title_is_the_title():
    title = 'Crash <b>"here"</b> & 😀\r\nagain\x00'
    assert plain_text(str(html.escape(title))) == 'Crash <b>"here"</b> & 😀\nagain'


def test_the_newline_after_pre_is_not_text_as_in_the_browser():
    assert plain_text("<pre>\nx = 1\n</pre>") == "x = 1\n"
    assert plain_text(mark_spans("<pre>\nx = 1\n</pre>", [Mark(0, 1, "a", "t")])) == "x = 1\n"


def test_offsets_count_code_points_so_emoji_are_one_character():
    text = plain_text(render_markdown(BODY))
    span = span_of(text, "CUDA out of memory")
    check_span(span, "CUDA out of memory", {"body": text})
    # The same place counted in UTF-16 units (two per emoji) is somewhere else.
    start16 = utf16_offset(text, span.start)
    assert start16 == span.start + 1
    moved = Span("body", start16, start16 + len("CUDA out of memory"), span.hash)
    with pytest.raises(SpanError, match="does not match characters"):
        check_span(moved, "CUDA out of memory", {"body": text})


def test_a_span_may_hold_emoji_and_whitespace_as_the_page_collapses_it():
    text = plain_text(render_markdown("first  line 👩‍👩‍👧\nsecond line"))
    span = span_of(text, "line 👩‍👩‍👧\nsecond")
    check_span(span, normalize_quote("line 👩‍👩‍👧\nsecond"), {"body": text})
    assert normalize_quote(" line 👩‍👩‍👧\nsecond ") == "line 👩‍👩‍👧 second"


def test_a_quote_that_is_not_the_slice_is_refused():
    text = plain_text(render_markdown(BODY))
    span = span_of(text, "CUDA out of memory")
    with pytest.raises(SpanError, match="the quote does not match characters"):
        check_span(span, "CUDA out of disk", {"body": text})


def test_offsets_past_the_text_are_refused():
    text = "short body"
    span = Span("body", 2, 40, text_hash(text))
    with pytest.raises(SpanError, match="ends at character 40, but the body has 10 characters"):
        check_span(span, "ort body", {"body": text})
    with pytest.raises(SpanError, match="empty"):
        check_span(Span("body", 5, 5, text_hash(text)), "", {"body": text})


def test_a_comment_of_another_issue_is_refused():
    texts = {"title": "t", "body": "b", "comment-7": "a comment"}
    span = Span("comment-8", 0, 1, text_hash("a comment"))
    with pytest.raises(SpanError, match="comment 8 is not a comment of this item's issue"):
        check_span(span, "a", texts)


def test_a_text_edited_since_the_selection_is_refused():
    span = Span("body", 0, 4, text_hash("Boom at step 2"))
    with pytest.raises(SpanError, match="the body changed since you selected the evidence"):
        check_span(span, "Boom", {"body": "Boom at step 3"})


@pytest.mark.parametrize(
    "raw", ["", "body:1:2", "body:a:2:" + "0" * 64, "footer:1:2:" + "0" * 64, "body:1:2:XYZ"]
)
def test_a_malformed_span_is_refused(raw):
    with pytest.raises(SpanError, match="part:start:end:hash"):
        parse_span(raw)


def test_a_span_round_trips_through_its_form_value():
    span = Span("comment-12", 3, 9, "a" * 64)
    assert parse_span(span.encode()) == span


def test_marks_wrap_the_span_across_tags_and_leave_the_text_alone():
    markup = render_markdown(BODY)
    text = plain_text(markup)
    span = span_of(text, "😀 crashes with CUDA")
    marked = mark_spans(markup, [Mark(span.start, span.end, "evidence-a", "Annotator A: Symptom")])
    assert plain_text(marked) == text
    assert (
        '<mark class="evidence evidence-a" title="Annotator A: Symptom">😀 crashes with </mark>'
        in marked
    )
    assert "<strong><mark" in marked  # cut at the tag, never across it


def test_overlapping_marks_become_one_stretch_titled_with_both():
    text = "alpha beta gamma"
    marks = [Mark(0, 10, "evidence-a", "A: Symptom"), Mark(6, 16, "evidence-b", "B: Symptom")]
    marked = mark_spans(text, marks)
    assert marked == (
        '<mark class="evidence evidence-a" title="A: Symptom">alpha </mark>'
        '<mark class="evidence evidence-a evidence-b" title="A: Symptom; B: Symptom">beta</mark>'
        '<mark class="evidence evidence-b" title="B: Symptom"> gamma</mark>'
    )


def test_marked_text_stays_escaped():
    marked = mark_spans("a &lt;script&gt; b", [Mark(0, 12, "x", 'say "hi" <now>')])
    assert "<script>" not in marked and "&lt;script&gt;" in marked
    assert 'title="say &quot;hi&quot; &lt;now&gt;"' in marked
